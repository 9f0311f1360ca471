"""A plugin needs only public names: the built-in plugins, the example package and a third-party WORLD plugin show it.

Public are ``vcfx`` (its ``__all__``), ``vcfx.testing``, ``register`` and
``unregister`` of ``vcfx.plugins`` (for tests), and ``vcfx_world`` (its
``__all__``) for WORLD effects. A plugin package may import its own modules;
another plugin package's, never.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import vcfx
import vcfx.testing
import vcfx_world
import world_effects
from spies import Counter
from truth import praat_f0
from vcfx import plugins

ROOT = Path(__file__).resolve().parents[1]
THIRD_PARTY_WORLD = Path(world_effects.__file__)

PUBLIC = {
    "vcfx": {*vcfx.__all__, "__version__", "testing", "plugins"},
    "vcfx.testing": set(vcfx.testing.__all__),
    "vcfx.plugins": {"register", "unregister"},
    "vcfx_world": set(vcfx_world.__all__),
}
"""Each public module and the names of it that a plugin may use."""


def packages(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}


EXAMPLES = [d for d in sorted((ROOT / "examples").iterdir()) if d.is_dir()]
PLUGIN_PACKAGES = packages(ROOT / "plugins").union(*(packages(d) for d in EXAMPLES))
GUARDED = {"vcfx"} | PLUGIN_PACKAGES
"""Top-level packages whose insides are private unless listed in :data:`PUBLIC`."""


def sources() -> list[tuple[Path, set[str]]]:
    """Every plugin and example source file, with the packages it may reach into (its own)."""
    found = []
    for folder in [ROOT / "plugins", *EXAMPLES]:
        for path in sorted(folder.rglob("*.py")):
            if any(part.startswith(".") or part in ("build", "__pycache__") for part in path.parts):
                continue
            own = {path.relative_to(ROOT / "plugins").parts[0]} if folder.name == "plugins" else packages(folder)
            found.append((path, own))
    return found + [(THIRD_PARTY_WORLD, set())]


def private_uses(source: str, own: set[str] = frozenset()) -> list[str]:
    """Each import or attribute of ``source`` that reaches a private name of vcfx or of another plugin."""
    tree = ast.parse(source)
    problems, aliases = [], {}

    def check_module(module: str, line: int) -> bool:
        root = module.split(".")[0]
        if root in own or root not in GUARDED:
            return False
        if module not in PUBLIC:
            problems.append(f"line {line}: {module} is not a public module")
            return False
        return True

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if check_module(a.name, node.lineno):
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if check_module(node.module, node.lineno):
                for a in node.names:
                    if a.name.startswith("_") or a.name not in PUBLIC[node.module]:
                        problems.append(f"line {node.lineno}: {node.module}.{a.name} is not public")
                    elif f"{node.module}.{a.name}" in PUBLIC:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        chain = []
        while isinstance(node, ast.Attribute):
            chain.insert(0, node.attr)
            node = node.value
        if not chain or not isinstance(node, ast.Name) or node.id not in aliases:
            continue
        module = aliases[node.id]
        for attr in chain:
            if f"{module}.{attr}" in PUBLIC:
                module = f"{module}.{attr}"
                continue
            if attr not in PUBLIC[module]:
                problems.append(f"line {node.lineno}: {module}.{attr} is not public")
            break
    return sorted(set(problems))


def test_every_plugin_and_example_uses_public_names_only():
    scanned = {path.relative_to(ROOT).as_posix() for path, _ in sources() if path != THIRD_PARTY_WORLD}
    assert {"plugins/vcfx_world/synthesis.py", "plugins/vcfx_world/analysis.py", "plugins/vcfx_pedalboard/effect.py",
            "plugins/vcfx_time/tempo.py", "examples/vcfx-echo/tests/test_echo.py"} <= scanned
    found = {path.relative_to(ROOT).as_posix() if path != THIRD_PARTY_WORLD else path.name: private_uses(
        path.read_text(encoding="utf-8"), own) for path, own in sources()}
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.parametrize("source, phrase", [
    ("from vcfx.errors import suggest", "vcfx.errors is not a public module"),
    ("import vcfx.parallel", "vcfx.parallel is not a public module"),
    ("from vcfx import _private", "vcfx._private is not public"),
    ("from vcfx import errors", "vcfx.errors is not public"),
    ("import vcfx\nvcfx.parallel.threads()", "vcfx.parallel is not public"),
    ("import vcfx\nvcfx.plugins.owner('echo')", "vcfx.plugins.owner is not public"),
    ("import vcfx as v\nv.errors.suggest", "vcfx.errors is not public"),
    ("from vcfx_world.features import WorldState", "vcfx_world.features is not a public module"),
    ("import vcfx_world as w\nw.features.frame_power", "vcfx_world.features is not public"),
    ("from vcfx_world import _digest", "vcfx_world._digest is not public"),
    ("import vcfx_time", "vcfx_time is not a public module"),
])
def test_the_check_catches_private_names(source, phrase):
    assert any(phrase in p for p in private_uses(source)), private_uses(source)


@pytest.mark.parametrize("source, own", [
    ("import vcfx\nvcfx.threads()\nvcfx.unknown_name_message('x', [], 'effect')", set()),
    ("import vcfx\nvcfx.ParameterError\nvcfx.Audio.replace", set()),
    ("import vcfx.testing\nvcfx.testing.check_effect(E)", set()),
    ("from vcfx import plugins\nplugins.register(p, name='x')\nplugins.unregister('x')", set()),
    ("import vcfx_world\nvcfx_world.WorldState\nfrom vcfx_world import frame_power", set()),
    ("from .features import _digest", {"vcfx_world"}),
    ("from vcfx_world.f0 import track_f0", {"vcfx_world"}),
])
def test_the_check_lets_public_names_through(source, own):
    assert private_uses(source, own) == []


def test_the_plugin_kit_is_importable_from_vcfx():
    assert vcfx.threads() >= 1
    with pytest.raises(vcfx.ParameterError, match=r'unknown effect "revrb"; did you mean "reverb"\? Known: '
                                                  r'noise, reverb'):
        raise vcfx.ParameterError(vcfx.unknown_name_message("revrb", ["reverb", "noise"], "effect"))
    assert vcfx.unknown_name_message("zzz", [], "slicer") == 'unknown slicer "zzz". Known: (none)'
    for name in ("WorldState", "WorldFeatures", "WorldDomain", "frame_power", "envelope_power"):
        assert hasattr(vcfx_world, name)


# -- a third-party WORLD plugin (tests/world_effects.py), written from docs/domains.md --


@pytest.fixture
def world_plugin():
    plugins.register(world_effects, name="test-world-effects")
    try:
        yield
    finally:
        plugins.unregister("test-world-effects")


@pytest.mark.parametrize("cls", [world_effects.Vibrato, world_effects.Pause])
def test_third_party_world_effects_keep_the_host_contracts(world_plugin, cls):
    vcfx.testing.check_effect(cls)


def test_third_party_world_effects_fuse_with_pitch_shift(world_plugin, monkeypatch, stereo_voice):
    counter = Counter(monkeypatch, "dio", "harvest", "cheaptrick", "d4c", "synthesize")
    chain = vcfx.Chain.from_spec("vibrato=depth_cents=60,pitch_shift=semitones=2,world_pause=pause_ms=100")
    out = chain(stereo_voice)
    assert counter.analysed_once(stereo_voice)
    assert counter.calls["dio"] == counter.calls["synthesize"] == 2
    assert out.frames == stereo_voice.frames + round(0.1 * stereo_voice.sample_rate)


def test_vibrato_moves_the_pitch_as_a_sine(world_plugin):
    """A steady 200 Hz voice through a 4 Hz, 100-cent vibrato; Praat judges: the deviation fits ``100 sin(2 pi 4 t)``
    with an amplitude within 10 cents and a median residual under 10 cents."""
    voice = vcfx.synthetic_voice(2.0, 22050, f0_hz=200.0).audio
    out = vcfx.effect("vibrato", rate_hz=4.0, depth_cents=100.0)(voice)
    t, f0 = praat_f0(out, step_s=0.005)
    voiced = f0 > 0
    assert voiced.sum() > 300
    cents, wave = 1200 * np.log2(f0[voiced] / 200.0), np.sin(2 * np.pi * 4.0 * t[voiced])
    amplitude = (cents @ wave) / (wave @ wave)
    assert amplitude == pytest.approx(100.0, abs=10.0)
    assert np.median(np.abs(cents - amplitude * wave)) < 10.0


def test_pause_appends_silence_and_keeps_the_voice_level(world_plugin):
    voice = vcfx.synthetic_voice(1.0, 16000, f0_hz=(150.0, 190.0)).audio
    out = vcfx.effect("world_pause", pause_ms=300.0)(voice)
    assert out.frames == voice.frames + 4800
    head, tail = out.samples[0, :voice.frames], out.samples[0, voice.frames + 320:]  # 20 ms after the voice
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    assert rms(head) == pytest.approx(rms(voice.samples[0]), rel=0.01)
    assert np.abs(tail).max() < 1e-3 * np.abs(voice.samples).max()


def test_the_world_page_documents_every_field_method_and_option():
    """docs/domains.md is the WORLD contract: a field, public method or option missing from it is undocumented."""
    page = (ROOT / "docs" / "domains.md").read_text(encoding="utf-8")
    for cls in (vcfx_world.WorldState, vcfx_world.WorldFeatures):
        names = [f.name for f in dataclasses.fields(cls)]
        names += [n for n, v in vars(cls).items() if not n.startswith("_") and callable(getattr(cls, n))]
        for name in names:
            assert re.search(rf"`({cls.__name__}\.)?{name}\b", page), f"{cls.__name__}.{name} is not in docs/domains.md"
    for option in vcfx_world.WorldDomain.option_params:
        assert f"`{option.name}`" in page, option.name
    for name in vcfx_world.__all__:
        assert name in page or name in ("FormantShift", "PitchShift", "PitchVariance"), name
    assert "<!-- include: tests/world_effects.py -->" in page

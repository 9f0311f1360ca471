"""Plugin discovery through real entry points, and failure isolation."""

import importlib.metadata as md
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import vcfx
from vcfx import plugins

HERE = Path(__file__).parent


def make_distribution(root: Path, dist: str, entry: str, module: str, source: str) -> None:
    """An installed distribution on ``root``: a dist-info with an entry point, and its module."""
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[vcfx]\n{entry} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))


def test_builtins_come_from_entry_points(fresh_plugins):
    names = {ep.name for ep in md.entry_points(group="vcfx")}
    assert "world" in names
    assert "pitch_shift" in vcfx.effects()
    world = next(p for p in vcfx.list_plugins() if p.name == "world")
    assert world.distribution == "vcfx" and "pitch_shift" in world.effects and world.error is None


def test_disabling_an_entry_point_removes_its_effects(fresh_plugins, monkeypatch):
    monkeypatch.setenv("VCFX_DISABLE_PLUGINS", "world")
    plugins.reload()
    assert "pitch_shift" not in vcfx.effects()
    with pytest.raises(vcfx.PluginError, match='unknown effect "pitch_shift"'):
        vcfx.effect("pitch_shift")


def test_broken_plugin_is_a_warning_and_others_keep_working(fresh_plugins, monkeypatch, tmp_path, voice):
    make_distribution(tmp_path, "vcfx-broken", "broken", "vcfx_broken_mod",
                      "raise ImportError('needs libfoo')\n")
    make_distribution(tmp_path, "vcfx-badhook", "badhook", "vcfx_badhook_mod", """
        import vcfx
        @vcfx.hookimpl
        def register_effects(register):
            raise RuntimeError('boom in register')
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(vcfx.PluginLoadWarning) as caught:
        plugins.reload()
    messages = " | ".join(str(w.message) for w in caught)
    assert 'plugin "broken" (distribution vcfx-broken 1.0)' in messages
    assert "broken = vcfx_broken_mod" in messages and "needs libfoo" in messages
    assert 'plugin "badhook"' in messages and "boom in register" in messages
    assert "pitch_shift" in vcfx.effects()
    assert isinstance(vcfx.effect("pitch_shift", semitones=1)(voice.audio), vcfx.Audio)
    failed = {p.name: p.error for p in vcfx.list_plugins() if p.error}
    assert set(failed) == {"broken", "badhook"}

    monkeypatch.setenv("VCFX_STRICT_PLUGINS", "1")
    with pytest.raises(vcfx.PluginError, match='plugin "broken".*needs libfoo.*VCFX_STRICT_PLUGINS'):
        plugins.reload()

    monkeypatch.setenv("VCFX_DISABLE_PLUGINS", "broken,badhook")
    plugins.reload()
    assert all(p.error is None for p in vcfx.list_plugins())


def test_misspelled_hook_is_caught(fresh_plugins, monkeypatch, tmp_path):
    make_distribution(tmp_path, "vcfx-typo", "typo", "vcfx_typo_mod", """
        import vcfx
        @vcfx.hookimpl
        def register_effect(register):
            pass
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(vcfx.PluginLoadWarning, match="register_effect"):
        plugins.reload()


def test_hook_register_effects(fresh_plugins, voice):
    class Gain(vcfx.Effect):
        name = "test_gain"
        params = (vcfx.Param("factor", float, 1.0, "Gain", low=0.0, high=4.0),)

        def process_waveform(self, audio, ctx):
            return audio.replace(samples=audio.samples * self.factor)

    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            register(Gain)

    plugins.register(Plugin(), name="test-gain")
    try:
        out = vcfx.Chain.from_spec("test_gain=factor=0.5")(voice.audio)
        np.testing.assert_allclose(out.samples, voice.audio.samples * 0.5)
        assert vcfx.plugins.owner("test_gain").name == "test-gain"
    finally:
        plugins.unregister("test-gain")
    assert "test_gain" not in vcfx.effects()


def test_third_party_package_needs_nothing_else(tmp_path):
    """pip-install a package from tests/thirdparty: its effect runs next to a built-in, its command in `vcfx`."""
    package = HERE / "thirdparty" / "vcfx-robot"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    vcfx_command = str(Path(sys.executable).with_name("vcfx"))
    subprocess.run(pip + ["install", "--no-deps", "--no-build-isolation", str(package)], check=True)
    try:
        script = textwrap.dedent("""
            import numpy as np, vcfx
            from vcfx.cli import main
            info = next(p for p in vcfx.list_plugins() if p.name == "robot")
            assert (info.distribution, info.version, info.effects) == ("vcfx-robot", "0.2.0", ["robot"]), info
            assert info.hooks == ["register_commands", "register_effects"], info
            voice = vcfx.synthetic_voice(0.5, 16000).audio
            chain = vcfx.Chain.from_spec("pitch_shift=semitones=2,robot=carrier_hz=30")
            out = chain(voice)
            assert out.frames == voice.frames and np.isfinite(out.samples).all()
            print("ok", chain.to_spec())
            assert main(["robot-info", "--carrier-hz", "30"]) == 0
        """)
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["ok pitch_shift=semitones=2,robot=carrier_hz=30",
                                              "robot=carrier_hz=30: Ring-modulate the voice for a robot sound"]
        listing = subprocess.run([vcfx_command, "--help"], capture_output=True, text=True)
        assert listing.returncode == 0 and "robot-info  Show the robot effect's spec and what it does." in listing.stdout
        bad = subprocess.run([vcfx_command, "robot-info", "--carrier-hz", "0"], capture_output=True, text=True)
        assert bad.returncode in (1, 2) and bad.stdout == ""  # vcfx's own one-line error, naming the value
        assert bad.stderr.startswith("vcfx: error: ") and "carrier_hz=0" in bad.stderr and len(bad.stderr.splitlines()) == 1
    finally:
        subprocess.run(pip + ["uninstall", "-y", "vcfx-robot"], check=True)
    result = subprocess.run([sys.executable, "-c", "import vcfx; print('robot' in vcfx.effects())"],
                            capture_output=True, text=True)
    assert result.stdout.strip() == "False"
    gone = subprocess.run([vcfx_command, "robot-info"], capture_output=True, text=True)
    assert gone.returncode == 2 and "No such command 'robot-info'" in gone.stderr


def test_an_entry_point_failing_after_its_domain_keeps_nothing(fresh_plugins, monkeypatch, tmp_path):
    make_distribution(tmp_path, "vcfx-halfway", "halfway", "vcfx_halfway_mod", """
        import vcfx

        class Flat(vcfx.Domain):
            name = "test_flat"

            def analyze(self, audio, ctx):
                return audio

            def synthesize(self, state, ctx):
                return state

        @vcfx.hookimpl
        def register_domains(register):
            register(Flat())

        @vcfx.hookimpl
        def register_effects(register):
            raise RuntimeError("boom after the domain")
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(vcfx.PluginLoadWarning) as caught:
        plugins.reload()
    assert [str(w.message) for w in caught] == [
        'plugin "halfway" (distribution vcfx-halfway 1.0) from entry point halfway = vcfx_halfway_mod failed to '
        "load; register_effects raised: RuntimeError: boom after the domain; nothing it registered is kept "
        "(domains: test_flat)"
    ]
    assert "test_flat" not in plugins.registry().domains and "world" in plugins.registry().domains
    info = next(p for p in vcfx.list_plugins() if p.name == "halfway")
    assert info.domains == [] and info.hooks == ["register_domains", "register_effects"]
    with pytest.raises(vcfx.PluginError, match='unknown domain "test_flat"'):
        vcfx.domain("test_flat")


def test_a_newcomer_cannot_take_a_builtin_name(fresh_plugins, voice):
    class Impostor(vcfx.Effect):
        name = "pitch_shift"

        def process_waveform(self, audio, ctx):
            return audio

    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            register(Impostor)

    with pytest.warns(vcfx.PluginLoadWarning, match='effect "pitch_shift" is already registered by plugin "world"'):
        plugins.register(Plugin(), name="impostor")
        vcfx.effects()
    try:
        assert vcfx.effect_class("pitch_shift").__module__ == "vcfx_world.pitch_shift"
        assert next(p for p in vcfx.list_plugins() if p.name == "impostor").error
    finally:
        plugins.unregister("impostor")


def test_register_refuses_a_taken_name_a_second_registration_and_misspelled_hooks(fresh_plugins):
    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            pass

    class Typo:
        @vcfx.hookimpl
        def register_efects(self, register):
            pass

    plugin = Plugin()
    plugins.register(plugin, name="test-once")
    try:
        with pytest.raises(vcfx.PluginError, match='a plugin named "test-once" is registered already'):
            plugins.register(Plugin(), name="test-once")
        with pytest.raises(vcfx.PluginError, match='is registered already, as plugin "test-once"'):
            plugins.register(plugin, name="test-twice")
        with pytest.raises(vcfx.PluginError, match='plugin "test-typo" has invalid hooks: .*register_efects'):
            plugins.register(Typo(), name="test-typo")
        assert {p.name for p in vcfx.list_plugins()} >= {"test-once", "world"}
        assert not {"test-twice", "test-typo"} & {p.name for p in vcfx.list_plugins()}
    finally:
        plugins.unregister("test-once")

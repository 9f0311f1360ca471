"""Every bad input gets a clear VcfxError: never a crash, a hang, a NaN or a silent wrong answer.

One table. Each row is a bad input a user or a plugin can produce, the
:class:`vcfx.VcfxError` subclass it must raise and a phrase its message must
hold (the bad value, the valid options, the effect or plugin to blame).
Anything else that escapes counts as a crash; the session summary reports
``bad inputs tried: N, crashed: 0`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import re
import sys
import textwrap
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import vcfx
from vcfx import AudioError, EffectError, ParameterError, PluginError, SpecError
from vcfx import plugins

RATE = 16000


@dataclass
class Env:
    """What a row may use: a scratch folder and monkeypatch (for environment variables and sys.path)."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    reload_plugins: bool = False


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("VCFX_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("VCFX_DISABLE_PLUGINS", raising=False)
    e = Env(tmp_path, monkeypatch)
    yield e
    if e.reload_plugins:  # a row installed a distribution: forget it
        monkeypatch.undo()
        plugins.reload()


def tone(seconds: float = 0.2, rate: int = RATE, channels: int = 1) -> vcfx.Audio:
    t = np.arange(int(seconds * rate)) / rate
    return vcfx.Audio(np.tile(0.3 * np.sin(2 * np.pi * 220 * t), (channels, 1)), rate)


# -- plugins that break the rules -------------------------------------------------

FAULTS = ("raise", "exit", "array", "list", "transposed", "nan", "rate", "length", "frames")


class Faulty(vcfx.Effect):
    """An effect from a careless plugin: breaks the effect contract the way ``fault`` says."""

    name = "test_faulty"
    summary = "Breaks the effect contract on purpose"
    params = (vcfx.Param("fault", str, "raise", "How to break the contract", choices=FAULTS),)

    def expected_frames(self, frames, sample_rate):
        return frames / 2 if self.fault == "frames" else frames  # a float is no frame count

    def process_waveform(self, audio, ctx):
        x = audio.samples
        if self.fault == "raise":
            raise RuntimeError("backend exploded")
        if self.fault == "exit":
            sys.exit("plugin gave up")
        if self.fault == "array":
            return x.copy()
        if self.fault == "list":
            return [audio]
        if self.fault == "transposed":
            return audio.replace(samples=np.ascontiguousarray(x.T))
        if self.fault == "nan":
            y = x.copy()
            y[0, len(y[0]) // 2] = np.nan
            return audio.replace(samples=y)
        if self.fault == "rate":
            return audio.replace(sample_rate=audio.sample_rate // 2)
        if self.fault == "length":
            return audio.replace(samples=x[:, : x.shape[1] // 2])
        return audio


class FaultyWorld(vcfx.Effect):
    """A WORLD-domain effect that writes NaN into f0 (pyworld would turn the whole output unvoiced)."""

    name = "test_faulty_world"
    summary = "Writes NaN into f0"
    domains = ("world",)

    def process_world(self, state, ctx):
        for ch in state.channels:
            ch.f0 = np.where(np.arange(len(ch.f0)) == 3, np.nan, ch.f0)
        return state


class FaultyPlugin:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(Faulty)
        register(FaultyWorld)


PLUGIN = "test-faulty"


@contextmanager
def faulty_plugin():
    plugins.register(FaultyPlugin(), name=PLUGIN)
    try:
        yield
    finally:
        plugins.unregister(PLUGIN)


def run_faulty(fault: str, env: Env) -> None:
    with faulty_plugin():
        vcfx.Chain.from_spec(f"test_faulty=fault={fault}", seed=0)(tone())


def run_faulty_world(env: Env) -> None:
    with faulty_plugin():
        vcfx.Chain.from_spec("pitch_shift=semitones=2,test_faulty_world")(vcfx.synthetic_voice(0.3, RATE).audio)


def install(env: Env, dist: str, entry: str, source: str, strict: bool = False) -> None:
    """Install a distribution with one entry point on a temporary sys.path entry, then reload plugins."""
    module = f"vcfx_bad_{entry}"
    info = env.tmp / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[vcfx]\n{entry} = {module}\n")
    (env.tmp / f"{module}.py").write_text(textwrap.dedent(source))
    env.monkeypatch.syspath_prepend(str(env.tmp))
    env.reload_plugins = True
    if strict:
        env.monkeypatch.setenv("VCFX_STRICT_PLUGINS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vcfx.PluginLoadWarning)  # the warning itself is tested in test_plugins
        plugins.reload()


IMPORT_ERROR = "raise ImportError('needs libfoo')\n"
REGISTER_RAISES = """
    import vcfx
    @vcfx.hookimpl
    def register_effects(register):
        raise RuntimeError('boom in register')
"""
REGISTER_NOT_AN_EFFECT = """
    import vcfx
    @vcfx.hookimpl
    def register_effects(register):
        register(42)
"""
REGISTER_CLASH = """
    import vcfx
    class Impostor(vcfx.Effect):
        name = "pitch_shift"
    @vcfx.hookimpl
    def register_effects(register):
        register(Impostor)
"""
DIST_EFFECT_RAISES = """
    import vcfx
    class Exploding(vcfx.Effect):
        name = "test_exploding"
        def process_waveform(self, audio, ctx):
            raise ZeroDivisionError("division by zero in the DSP")
    @vcfx.hookimpl
    def register_effects(register):
        register(Exploding)
"""


def plugin_import_error(env: Env, strict: bool) -> None:
    install(env, "vcfx-broken", "broken", IMPORT_ERROR, strict=strict)
    vcfx.effect("broken_effect")


def plugin_register_raises(env: Env, entry: str, source: str) -> None:
    install(env, f"vcfx-{entry}", entry, source)
    vcfx.effect(f"{entry}_effect")


def plugin_clash(env: Env) -> None:
    install(env, "vcfx-impostor", "impostor", REGISTER_CLASH, strict=True)


def plugin_dist_effect_raises(env: Env) -> None:
    install(env, "vcfx-exploding", "exploding", DIST_EFFECT_RAISES)
    vcfx.Chain.from_spec("test_exploding")(tone())


# -- files ------------------------------------------------------------------------------

def wav(env: Env, name: str = "voice.wav", data=None, subtype: str = "PCM_16") -> Path:
    path = env.tmp / name
    sf.write(path, tone().samples[0] if data is None else data, RATE, subtype=subtype)
    return path


def load_text_as_wav(env: Env) -> None:
    path = env.tmp / "notes.wav"
    path.write_text("these are meeting notes, not audio\n" * 50)
    vcfx.load(path)


def load_truncated(env: Env) -> None:
    path = wav(env)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy that stopped half way
    vcfx.load(path)


def load_empty_file(env: Env) -> None:
    (env.tmp / "empty.wav").write_bytes(b"")
    vcfx.load(env.tmp / "empty.wav")


def load_corrupt_header(env: Env) -> None:
    path = wav(env)
    data = bytearray(path.read_bytes())
    data[20:22] = b"\x00\x00"  # fmt chunk: audio format 0
    path.write_bytes(bytes(data))
    vcfx.load(path)


def load_nan_samples(env: Env) -> None:
    data = tone().samples[0].astype(np.float64)
    data[100] = np.nan
    vcfx.load(wav(env, "nan.wav", data, subtype="FLOAT"))


def stream_truncated(env: Env) -> None:
    from vcfx.streaming import stream_file

    path = wav(env)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    stream_file(vcfx.Chain.from_spec("noise"), path, env.tmp / "out.wav")


def stream(chain, audio, **kw):
    from vcfx.streaming import stream_audio

    return call(stream_audio, chain, audio, **kw)


def save_under_a_file(env: Env) -> None:
    (env.tmp / "notes.txt").write_text("x")  # tests run as root: only a path under a file is unwritable
    tone().save(env.tmp / "notes.txt" / "out.wav")


def save_over_a_folder(env: Env) -> None:
    (env.tmp / "out.wav").mkdir()
    tone().save(env.tmp / "out.wav")


def preset_file(env: Env, name: str, text: str) -> None:
    (env.tmp / name).write_text(text)
    vcfx.load_chain(str(env.tmp / name))


def reverb_ir(env: Env, kind: str) -> None:
    if kind == "missing":
        path = env.tmp / "no-room.wav"
    elif kind == "text":
        path = env.tmp / "room.wav"
        path.write_text("not an impulse response")
    elif kind == "silent":
        path = wav(env, "room.wav", np.zeros(RATE // 10))
    else:
        path = env.tmp
    vcfx.effect("reverb", ir=str(path))


# -- parameters, generated from every effect's declarations --------------------------------------

def set_param(effect: str, name: str, value, env: Env) -> None:
    vcfx.effect(effect, **{name: value})


def out_of_range_rows() -> list:
    rows = []
    for effect in vcfx.effects():
        for p in vcfx.effect_class(effect).params:
            if p.choices:
                rows.append(pytest.param(partial(set_param, effect, p.name, "not-a-choice"), ParameterError,
                                         "not-a-choice", id=f"param-{effect}-{p.name}-not-a-choice"))
            if p.type not in (int, float):
                continue
            for side, bound, step in (("above", p.high, 1), ("below", p.low, -1)):
                if bound is not None:
                    value = bound + step * max(1.0, abs(bound))
                    rows.append(pytest.param(partial(set_param, effect, p.name, value), ParameterError,
                                             rf"{p.name}=\S+ is outside", id=f"param-{effect}-{p.name}-{side}"))
    return rows


def world_options(options, env: Env) -> None:
    vcfx.Chain([vcfx.effect("pitch_shift", semitones=1)], options={"world": options})(
        vcfx.synthetic_voice(0.3, RATE).audio)


def spec(text, env: Env) -> None:
    vcfx.Chain.from_spec(text)


def call(fn, *args, **kwargs):
    """A row that calls ``fn(*args, **kwargs)`` and ignores the Env."""
    return lambda env: fn(*args, **kwargs)


def array(x, rate=RATE, **kw):
    return call(vcfx.Audio.from_array, x, rate, **kw)


def with_nan():
    x = np.zeros(RATE // 10)
    x[7] = np.nan
    return x


# -- the table ----------------------------------------------------------------------------

BAD_INPUTS = [
    # arrays and sample rates
    pytest.param(array(with_nan()), AudioError, "1 non-finite", id="array-nan"),
    pytest.param(array(np.full(100, np.inf)), AudioError, "100 non-finite", id="array-inf"),
    pytest.param(array(np.full(100, 1e300)), AudioError, "non-finite", id="array-overflows-float32"),
    pytest.param(array(np.zeros(0)), AudioError, "empty", id="array-empty"),
    pytest.param(array(np.zeros((2, 2))), AudioError, r"\(2, 2\) is ambiguous.*layout=", id="array-ambiguous-2x2"),
    pytest.param(array(np.zeros((100, 2))), AudioError, "ambiguous.*channels_last", id="array-frames-first-unsaid"),
    pytest.param(array(np.zeros(100, dtype=np.int16)), AudioError, "int16.*x / 32768", id="array-int16"),
    pytest.param(array(np.zeros(100, dtype=complex)), AudioError, "floating point", id="array-complex"),
    pytest.param(array(["a", "b", "c"]), AudioError, "floating point", id="array-strings"),
    pytest.param(array([[0.0, 1.0, 2.0], [0.0]]), AudioError, "cannot be read as an array", id="array-ragged"),
    pytest.param(array(np.zeros((1, 2, 100))), AudioError, "1-D.*2-D.*got shape", id="array-3d"),
    pytest.param(array(np.zeros(100), layout="sideways"), AudioError, "layout='sideways'", id="array-bad-layout"),
    pytest.param(array(np.zeros(100), 0), AudioError, r"sample_rate=0 is outside \[8000", id="rate-0"),
    pytest.param(array(np.zeros(100), -44100), AudioError, "sample_rate=-44100 is outside", id="rate-negative"),
    pytest.param(array(np.zeros(100), 1e9), AudioError, "sample_rate=1000000000 is outside", id="rate-1e9"),
    pytest.param(array(np.zeros(100), 44100.5), AudioError, "44100.5 is not a whole number", id="rate-fraction"),
    pytest.param(array(np.zeros(100), float("nan")), AudioError, "nan is not a whole number", id="rate-nan"),
    pytest.param(array(np.zeros(100), "44100"), AudioError, "'44100' is not a number", id="rate-string"),
    pytest.param(array(np.zeros(100), None), AudioError, "None is not a number", id="rate-none"),
    pytest.param(call(vcfx.effect("noise").process, np.zeros((2, 2)), RATE), AudioError, "ambiguous",
                 id="process-ambiguous"),
    pytest.param(call(vcfx.Chain([]), np.zeros((1, 100))), AudioError, "takes vcfx.Audio.*chain.process",
                 id="chain-given-an-array"),
    pytest.param(call(vcfx.Chain.from_spec("pitch_shift=semitones=2"), tone(0.01)), AudioError,
                 'too short for the psola domain that effect "pitch_shift"', id="too-short-for-psola"),
    pytest.param(call(vcfx.Chain(vcfx.Chain.from_spec("pitch_shift=semitones=2"), engine="world"), tone(0.01)),
                 AudioError, 'too short for the world domain that effect "pitch_shift"', id="too-short-for-world"),
    # files
    pytest.param(call(vcfx.load, "/no/such/voice.wav"), AudioError, "no such file", id="load-missing"),
    pytest.param(lambda env: vcfx.load(env.tmp), AudioError, "is a folder", id="load-folder"),
    pytest.param(load_text_as_wav, AudioError, "cannot read .* as audio", id="load-text-renamed-wav"),
    pytest.param(load_truncated, AudioError, "truncated", id="load-truncated-wav"),
    pytest.param(load_empty_file, AudioError, "cannot read", id="load-empty-file"),
    pytest.param(load_corrupt_header, AudioError, "cannot read .*fmt", id="load-corrupt-header"),
    pytest.param(load_nan_samples, AudioError, "non-finite", id="load-nan-samples"),
    pytest.param(lambda env: vcfx.load(wav(env), sample_rate=0), AudioError, "sample_rate=0", id="load-resample-to-0"),
    pytest.param(call(vcfx.load, None), AudioError, "path=None is not a file path", id="load-none"),
    pytest.param(stream_truncated, AudioError, "truncated", id="stream-truncated-wav"),
    pytest.param(lambda env: tone().save(None), AudioError, "path=None is not a file path", id="save-none"),
    pytest.param(lambda env: tone().save(env.tmp / "o.wav", subtype=16), AudioError, "subtype=16 is not",
                 id="save-subtype-not-text"),
    pytest.param(lambda env: tone().save(env.tmp / "out.xyz"), AudioError, r'unknown audio extension "\.xyz".*\.wav',
                 id="save-unknown-extension"),
    pytest.param(lambda env: tone().save(env.tmp / "out"), AudioError, 'unknown audio extension ""', id="save-no-extension"),
    pytest.param(save_under_a_file, AudioError, "cannot write .*notes.txt", id="save-unwritable-folder"),
    pytest.param(save_over_a_folder, AudioError, "cannot write", id="save-over-a-folder"),
    pytest.param(lambda env: tone().save(env.tmp / "o.wav", subtype="MP3ISH"), AudioError, "not available for WAV",
                 id="save-bad-subtype"),
    pytest.param(lambda env: tone().replace(samples=tone().samples * 4).save(env.tmp / "o.wav", subtype="PCM_16"),
                 AudioError, r"would clip in PCM_16 \(peak 1.200", id="save-would-clip-16-bit"),
    pytest.param(partial(preset_file, name="p.toml", text="seed = [\n"), SpecError, "cannot parse preset",
                 id="preset-bad-toml"),
    pytest.param(partial(preset_file, name="p.toml", text='sed = 1\n[[effects]]\neffect = "noise"\n'), SpecError,
                 r"unknown preset keys \['sed'\]", id="preset-unknown-key"),
    pytest.param(partial(preset_file, name="p.json", text='{"effects": ["noise"]}'), ParameterError,
                 "an effect entry is a table", id="preset-entry-not-a-table"),
    pytest.param(partial(preset_file, name="p.json", text='{"effects": [{"effect": "noise"}], "options": 3}'),
                 ParameterError, "options=3 must map domain names", id="preset-options-not-a-table"),
    pytest.param(call(vcfx.load_chain, "/no/such/preset.toml"), SpecError, "no such preset file", id="preset-missing"),
    # parameters
    *out_of_range_rows(),
    pytest.param(call(vcfx.effect, "pitch_shift", semitones="four"), ParameterError, "semitones='four' is not a number",
                 id="param-wrong-type"),
    pytest.param(call(vcfx.effect, "pitch_shift", semitones=True), ParameterError, "semitones=True is not a number",
                 id="param-bool-for-number"),
    pytest.param(call(vcfx.effect, "pitch_shift", semitone=4), ParameterError, "no parameter 'semitone'. Known: semitones",
                 id="param-unknown-name"),
    pytest.param(call(vcfx.effect, "pitch_shift", semitones=float("nan")), ParameterError, "nan is not a finite",
                 id="param-nan"),
    pytest.param(call(vcfx.effect, "tempo", rate=float("inf")), ParameterError, "rate=inf is not a finite",
                 id="param-inf"),
    pytest.param(call(vcfx.effect, "pitch_shift", semitones=None), ParameterError, r"needs a value \(\[-24, 24\]\)",
                 id="param-none"),
    pytest.param(call(vcfx.effect, "pitch_shift", semitones=[(0, 0), (1, 40)]), ParameterError,
                 "semitones=40 is outside", id="param-curve-out-of-range"),
    pytest.param(call(vcfx.effect, "speed", rate=vcfx.Curve([(0, 1), (1, 2)])), ParameterError,
                 "does not accept a curve", id="param-curve-not-accepted"),
    pytest.param(call(vcfx.effect, "noise", snr_db=10, amount=0.1), ParameterError, "snr_db or amount, not both",
                 id="param-snr-and-amount"),
    pytest.param(call(vcfx.effect, "noise", color="blue"), ParameterError, "color='blue' is not one of white, pink",
                 id="param-bad-color"),
    pytest.param(partial(reverb_ir, kind="missing"), ParameterError, "no-room.wav.*no such file", id="param-ir-missing"),
    pytest.param(partial(reverb_ir, kind="text"), ParameterError, "room.wav.*cannot be used", id="param-ir-not-audio"),
    pytest.param(partial(reverb_ir, kind="silent"), ParameterError, "room.wav.*is silent", id="param-ir-silent"),
    pytest.param(partial(reverb_ir, kind="folder"), ParameterError, "is a folder", id="param-ir-folder"),
    pytest.param(call(vcfx.Chain, [], seed=-1), ParameterError, "seed=-1 must be a non-negative", id="chain-seed-negative"),
    pytest.param(call(vcfx.Chain, ["noise"]), ParameterError, "holds Effect objects, got str", id="chain-holds-a-name"),
    pytest.param(call(vcfx.Chain([vcfx.effect("noise")]), tone(), seed=-5), ParameterError, "seed=-5 must be",
                 id="run-seed-negative"),
    pytest.param(call(vcfx.Chain([vcfx.effect("noise")]), tone(), seed=1.5), ParameterError, "seed=1.5 must be",
                 id="run-seed-fraction"),
    pytest.param(stream(vcfx.Chain.from_spec("noise"), tone(), chunk_s=0), ParameterError,
                 "chunk_s=0 must be a positive", id="stream-chunk-0"),
    pytest.param(stream(vcfx.Chain.from_spec("noise"), tone(), chunk_s=float("nan")), ParameterError,
                 "chunk_s=nan must be a positive", id="stream-chunk-nan"),
    pytest.param(stream(vcfx.Chain.from_spec("noise"), np.zeros(100)), AudioError, "streaming takes vcfx.Audio",
                 id="stream-given-an-array"),
    pytest.param(stream("noise", tone()), ParameterError, "chain='noise' is not a vcfx.Chain", id="stream-chain-name"),
    pytest.param(call(vcfx.preset, "voice_changer", pitch=99), ParameterError, "semitones=99 is outside",
                 id="preset-option-out-of-range"),
    pytest.param(partial(world_options, {"f0_metod": "dio"}), ParameterError, r"unknown world option \['f0_metod'\]",
                 id="world-option-unknown"),
    pytest.param(partial(world_options, {"f0_floor_hz": 300.0, "f0_ceil_hz": 200.0}), ParameterError,
                 "f0_floor_hz=300.0 must be below f0_ceil_hz=200.0", id="world-floor-above-ceiling"),
    pytest.param(partial(world_options, {"frame_period_ms": 0.0}), ParameterError, r"frame_period_ms=0 is outside",
                 id="world-frame-period-0"),
    # chain specs
    pytest.param(partial(spec, "pich_shift=semitones=2"), PluginError, 'did you mean "pitch_shift"\\?',
                 id="spec-unknown-effect"),
    pytest.param(partial(spec, "pitch_shift=semitone=2"), SpecError, 'did you mean "semitones"\\?', id="spec-unknown-key"),
    pytest.param(partial(spec, "pitch_shift=semitones=abc"), ParameterError, r"semitones=abc is not a number \(\[-24",
                 id="spec-bad-value"),
    pytest.param(partial(spec, "pitch_shift=semitones=curve(0:0"), SpecError, 'unbalanced "\\("', id="spec-open-paren"),
    pytest.param(partial(spec, "pitch_shift=semitones=curve(0:0))"), SpecError, 'unbalanced "\\)"',
                 id="spec-close-paren"),
    pytest.param(partial(spec, ""), SpecError, "spec is empty; e.g.", id="spec-empty"),
    pytest.param(partial(spec, " , ,"), SpecError, "spec is empty", id="spec-only-commas"),
    pytest.param(partial(spec, "=semitones=4"), SpecError, "empty effect name", id="spec-no-effect-name"),
    pytest.param(partial(spec, "pitch_shift=semitones"), SpecError, "is not key=value", id="spec-key-without-value"),
    pytest.param(partial(spec, "pitch_shift=semitones=1:semitones=2"), SpecError, "given twice", id="spec-duplicate-key"),
    pytest.param(partial(spec, "pitch_shift=semitones=curve(1:0;0:2)"), ParameterError, "increase strictly",
                 id="spec-curve-backwards"),
    pytest.param(partial(spec, "pitch_shift=semitones=curve(0:0;x)"), ParameterError, '"x" is not TIME:VALUE',
                 id="spec-curve-bad-point"),
    pytest.param(partial(spec, "pitch_shift=semitones=curve(0:nan)"), ParameterError, "must be finite",
                 id="spec-curve-nan"),
    pytest.param(partial(spec, "pitch_shift=semitones=uniform(1)"), ParameterError, r"uniform\(LOW,HIGH\)",
                 id="spec-uniform-one-bound"),
    pytest.param(partial(spec, "pitch_shift=semitones=uniform(3,1)"), ParameterError, "low <= high",
                 id="spec-uniform-reversed"),
    pytest.param(partial(spec, "pitch_shift=semitones=uniform(-30,0)"), ParameterError, "semitones=-30 is outside",
                 id="spec-uniform-out-of-range"),
    pytest.param(partial(spec, "noise=color=choice()"), ParameterError, "empty value", id="spec-choice-empty"),
    pytest.param(partial(spec, "noise=color=choice(white,blue)"), ParameterError, "color='blue' is not one of",
                 id="spec-choice-bad-option"),
    pytest.param(partial(spec, "noise=color=uniform(0,1)"), ParameterError, r"uniform\(\) needs a number",
                 id="spec-uniform-for-text"),
    pytest.param(partial(spec, "reverb=keep_peak=maybe"), ParameterError, "keep_peak=maybe is not true or false",
                 id="spec-bad-bool"),
    pytest.param(partial(spec, 'reverb=ir="rooms/hall.wav:wet=0.5'), SpecError, "double quote is not closed",
                 id="spec-unclosed-quote"),
    # plugins
    pytest.param(partial(plugin_import_error, strict=False), PluginError,
                 r'unknown effect "broken_effect".*failed to load: plugin "broken" \(distribution vcfx-broken 1.0\): '
                 "import failed: ImportError: needs libfoo", id="plugin-import-error"),
    pytest.param(partial(plugin_import_error, strict=True), PluginError,
                 r'plugin "broken" \(distribution vcfx-broken 1.0\).*needs libfoo.*VCFX_STRICT_PLUGINS',
                 id="plugin-import-error-strict"),
    pytest.param(partial(plugin_register_raises, entry="badhook", source=REGISTER_RAISES), PluginError,
                 r'plugin "badhook" \(distribution vcfx-badhook 1.0\): register_effects raised: RuntimeError: boom',
                 id="plugin-register-raises"),
    pytest.param(partial(plugin_register_raises, entry="notaneffect", source=REGISTER_NOT_AN_EFFECT), PluginError,
                 r'plugin "notaneffect".*takes vcfx.Effect subclasses, got 42', id="plugin-registers-not-an-effect"),
    pytest.param(plugin_clash, PluginError, r'effect "pitch_shift" is already registered by plugin "world"',
                 id="plugin-name-clash"),
    pytest.param(plugin_dist_effect_raises, EffectError,
                 r'effect "test_exploding" \(plugin "exploding" \(distribution vcfx-exploding 1.0\)\) failed: '
                 "ZeroDivisionError", id="plugin-effect-raises-named-with-distribution"),
    pytest.param(partial(run_faulty, "raise"), EffectError,
                 r'effect "test_faulty" \(plugin "test-faulty"\) failed: RuntimeError: backend exploded',
                 id="plugin-effect-raises"),
    pytest.param(partial(run_faulty, "exit"), EffectError, r'\(plugin "test-faulty"\) failed: SystemExit: plugin gave up',
                 id="plugin-effect-calls-sys-exit"),
    pytest.param(partial(run_faulty, "transposed"), EffectError,
                 r'\(plugin "test-faulty"\) changed the channel count from 1 to 3200', id="plugin-returns-wrong-shape"),
    pytest.param(partial(run_faulty, "array"), EffectError, r'\(plugin "test-faulty"\) returned ndarray, expected vcfx.Audio',
                 id="plugin-returns-an-array"),
    pytest.param(partial(run_faulty, "list"), EffectError, r'\(plugin "test-faulty"\) returned list, expected vcfx.Audio',
                 id="plugin-returns-a-list"),
    pytest.param(partial(run_faulty, "nan"), EffectError, r'\(plugin "test-faulty"\) failed: samples contain 1 non-finite',
                 id="plugin-returns-nan"),
    pytest.param(partial(run_faulty, "rate"), EffectError,
                 r'\(plugin "test-faulty"\) changed the sample rate from 16000 to 8000 without declaring',
                 id="plugin-changes-rate-undeclared"),
    pytest.param(partial(run_faulty, "length"), EffectError, r'\(plugin "test-faulty"\) returned 1600 frames, expected 3200',
                 id="plugin-returns-wrong-length"),
    pytest.param(partial(run_faulty, "frames"), EffectError, r'\(plugin "test-faulty"\): expected_frames returned 1600.0',
                 id="plugin-expected-frames-nonsense"),
    pytest.param(run_faulty_world, EffectError,
                 r'domain "world" synthesis after .*"test_faulty_world" \(plugin "test-faulty"\) failed: .*NaN',
                 id="plugin-world-features-nan"),
]


@pytest.mark.parametrize("row, error, phrase", BAD_INPUTS)
def test_bad_input_gets_a_clear_error(row, error, phrase, env, bad_inputs, request):
    bad_inputs.tried += 1
    try:
        row(env)
    except vcfx.VcfxError as exc:
        caught = exc
    except Exception as exc:  # SystemExit and KeyboardInterrupt end the run as they should
        bad_inputs.crashes.append(f"{request.node.callspec.id}: {type(exc).__name__}: {exc}")
        pytest.fail(f"crashed with {type(exc).__name__} instead of a vcfx.{error.__name__}: {exc}")
    else:
        pytest.fail(f"accepted without a word; expected vcfx.{error.__name__} matching {phrase!r}")
    assert isinstance(caught, error), f"{type(caught).__name__}: {caught}"
    assert re.search(phrase, str(caught)), f"{phrase!r} not in: {caught}"


def test_the_table_is_big_enough():
    assert len(BAD_INPUTS) >= 40


# -- nothing is lost, and nothing is left broken --------------------------------------------------

def test_a_failed_save_leaves_the_old_file_and_no_debris(tmp_path):
    out = tmp_path / "take.wav"
    tone().save(out, subtype="PCM_16")
    before = out.read_bytes()
    loud = tone().replace(samples=tone().samples * 4)
    with pytest.raises(AudioError, match="would clip"):
        loud.save(out, subtype="PCM_16")
    with pytest.raises(AudioError, match="cannot write"):
        tone().save(tmp_path / "take.wav" / "x.wav")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]


def test_host_and_other_effects_keep_working_after_every_plugin_fault(voice):
    chain = vcfx.Chain.from_spec("pitch_shift=semitones=2,noise=snr_db=30", seed=5)
    before = chain(voice.audio)
    with faulty_plugin():
        for fault in FAULTS:
            with pytest.raises(EffectError, match=f'plugin "{PLUGIN}"'):
                vcfx.Chain.from_spec(f"noise=snr_db=30,test_faulty=fault={fault}", seed=5)(voice.audio)
            assert chain(voice.audio) == before
        with pytest.raises(EffectError, match="NaN"):
            vcfx.Chain.from_spec("pitch_shift=semitones=2,test_faulty_world")(voice.audio)
    assert "test_faulty" not in vcfx.effects()
    assert chain(voice.audio) == before
    assert vcfx.preset("voice_changer", seed=1)(voice.audio).frames == round(voice.audio.frames / 0.7)

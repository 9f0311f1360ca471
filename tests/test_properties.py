"""Property-based tests: random chains of registered effects on random short signals.

Effects and their parameter values are drawn from what each effect declares
(``vcfx.effects()`` and every :class:`vcfx.Param`'s type, range, choices and
curve flag), so a new effect is covered without touching this file. Text
parameters without choices (a file such as reverb's ``ir``) keep their
defaults. Signals: 1-2 channels, 8-96 kHz, 10 ms to 3 s; silence, a sine,
noise or a voice-like pulse train, loud or nearly silent.

For every chain: the output is finite Audio with the sample rate and channel
count kept and exactly the length the chain's ``expected_frames`` promises;
the same seed gives the same bytes; nothing but a clear error escapes. Input
shorter than an effect handles is an :class:`vcfx.AudioError` saying "too
short" (the WORLD effects need 20 ms; every waveform effect takes a single
frame), and a backend may refuse an input it cannot take (pedalboard's MP3
codec at 12 kHz) only as an :class:`vcfx.EffectError` naming the effect and
carrying the backend's ``ValueError``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from scipy import signal

import vcfx
from vcfx.params import Uniform

EFFECTS = vcfx.effects()
RATES = st.one_of(st.sampled_from([8000, 16000, 22050, 44100, 48000, 96000]), st.integers(8000, 96000))
MAX_SAMPLES = 600_000
"""Largest signal (frames x channels) any step of a chain may see; keeps the run short on two cores."""

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                             suppress_health_check=[HealthCheck.too_slow])  # the same examples in every run


# -- parameters from the declarations -------------------------------------------------------

def _numbers(p: vcfx.Param):
    if p.type is int:
        return st.integers(math.ceil(p.low), math.floor(p.high))
    return st.floats(p.low, p.high, allow_nan=False)


@st.composite
def _curves(draw, p: vcfx.Param):
    times = draw(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=3, unique=True))
    return vcfx.Curve([(t, draw(_numbers(p))) for t in sorted(times)])


def value_of(p: vcfx.Param):
    """Valid values of a declared parameter: constants in range, curves, uniform() draws, choices."""
    if p.type is bool:
        values = st.booleans()
    elif p.choices:
        values = st.sampled_from(p.choices)
    elif p.type in (int, float) and p.low is not None and p.high is not None:
        numbers = _numbers(p)
        uniform = st.tuples(numbers, numbers).map(lambda ab: Uniform(min(ab), max(ab)))
        values = st.one_of(numbers, uniform, *([_curves(p)] if p.curve else []))
    else:  # free text, such as a file path: nothing valid to draw
        return st.just(p.default)
    return st.one_of(st.none(), values) if p.optional and p.type is not str else values


@st.composite
def effects(draw):
    cls = vcfx.effect_class(draw(st.sampled_from(EFFECTS)))
    values = {p.name: draw(value_of(p)) for p in cls.params}
    try:
        return cls(**values)
    except vcfx.ParameterError:  # each value is valid, the combination is not (noise: snr_db and amount)
        reject()


# -- signals ------------------------------------------------------------------------------------

def voice_like(frames: int, rate: int, f0: tuple[float, float], rng) -> np.ndarray:
    """A sawtooth glottal source gliding between two pitches, through two formant resonators."""
    f = np.geomspace(f0[0], f0[1], frames)
    x = 2.0 * (np.cumsum(f / rate) % 1.0) - 1.0 + 0.01 * rng.standard_normal(frames)
    for centre, bandwidth in ((700.0, 90.0), (1200.0, 110.0)):
        r = math.exp(-math.pi * bandwidth / rate)
        x = signal.lfilter([1 - r], [1.0, -2 * r * math.cos(2 * math.pi * centre / rate), r * r], x)
    return x


@st.composite
def signals(draw):
    rate = draw(RATES)
    channels = draw(st.integers(1, 2))
    seconds = draw(st.one_of(st.floats(0.01, 0.3), st.floats(0.3, 3.0)))
    frames = max(1, int(seconds * rate))
    kind = draw(st.sampled_from(["silence", "sine", "noise", "voice"]))
    level = draw(st.sampled_from([0.9, 0.1, 1e-4, 1e-7]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "silence":
        x = np.zeros((channels, frames))
    elif kind == "sine":
        hz = draw(st.floats(40.0, 0.45 * rate))
        x = np.tile(np.sin(2 * np.pi * hz * np.arange(frames) / rate), (channels, 1))
    elif kind == "noise":
        x = rng.standard_normal((channels, frames))
    else:
        pitches = (draw(st.floats(70.0, 400.0)), draw(st.floats(70.0, 400.0)))
        x = np.stack([voice_like(frames, rate, pitches, rng) for _ in range(channels)])
    peak = np.abs(x).max()
    x = x * (level / peak) if peak > 0 else x
    return kind, vcfx.Audio(x, rate)


def _lengths(chain: vcfx.Chain, frames: int, rate: int) -> list[int]:
    out = [frames]
    for eff in chain:
        out.append(eff.expected_frames(out[-1], rate))
    return out


# -- the properties ----------------------------------------------------------------------------

def _allowed(exc: vcfx.VcfxError) -> bool:
    """A clear refusal: input too short for an effect, or a backend's own ValueError about the input."""
    if isinstance(exc, vcfx.AudioError):
        return "too short" in str(exc)
    return isinstance(exc, vcfx.EffectError) and isinstance(exc.__cause__, ValueError)


def check_chain(kind: str, audio: vcfx.Audio, chosen: list, seed: int, options: dict | None = None) -> None:
    chain = vcfx.Chain(chosen, seed=seed, options=options)
    resolved = chain.resolve(seed)  # random parameters drawn as the run will draw them
    lengths = _lengths(resolved, audio.frames, audio.sample_rate)
    if max(lengths) * audio.channels > MAX_SAMPLES:
        reject()
    event(f"effects: {'+'.join(e.name for e in chosen)}")
    try:
        out = chain(audio)
    except vcfx.VcfxError as exc:
        assert _allowed(exc), f"{type(exc).__name__}: {exc}"
        event(f"outcome: {type(exc).__name__}")
        return
    event("outcome: output checked")
    assert isinstance(out, vcfx.Audio)
    assert np.isfinite(out.samples).all()
    assert (out.sample_rate, out.channels) == (audio.sample_rate, audio.channels)
    assert out.frames == lengths[-1] == resolved.expected_frames(audio.frames, audio.sample_rate)
    again = vcfx.Chain(chosen, seed=seed, options=options)(audio)
    assert again.samples.tobytes() == out.samples.tobytes()  # same seed, same bytes
    if kind == "silence" and all(_quiet_builtin(e) for e in chosen):
        assert not out.samples.any()


def _quiet_builtin(eff: vcfx.Effect) -> bool:
    """A built-in effect that adds no sound of its own (noise does; pedalboard's plugins may)."""
    owner = vcfx.plugins.owner(eff.name)
    return owner is not None and owner.distribution == "vcfx" and eff.name not in ("noise", "pedalboard")


@PROPERTY_SETTINGS
@given(sig=signals(), chosen=st.lists(effects(), min_size=1, max_size=3), seed=st.integers(0, 2**63 - 1))
def test_random_chains_keep_the_contract(sig, chosen, seed):
    check_chain(*sig, chosen, seed)


@st.composite
def world_options(draw):
    from vcfx_world.analysis import OPTION_PARAMS

    options = {p.name: draw(st.sampled_from(p.choices) if p.choices else _numbers(p)) for p in OPTION_PARAMS}
    if options["f0_floor_hz"] >= options["f0_ceil_hz"]:
        reject()
    return {"world": options}


@PROPERTY_SETTINGS
@given(sig=signals(), chosen=st.lists(effects(), min_size=1, max_size=3), seed=st.integers(0, 2**63 - 1),
       options=world_options())
def test_random_chains_with_random_world_options_keep_the_contract(sig, chosen, seed, options):
    check_chain(*sig, chosen, seed, options)


@pytest.mark.parametrize("name", EFFECTS)
def test_one_frame_input_passes_or_says_too_short(name):
    """Each effect at its defaults (or first example) on 1 frame and on 10 ms: output, or 'too short'."""
    cls = vcfx.effect_class(name)
    try:
        eff = cls()
    except vcfx.ParameterError:
        eff = cls(**cls.examples[0])
    for frames in (1, 160):
        audio = vcfx.Audio(np.full((1, frames), 0.1), 16000)
        try:
            out = eff(audio, seed=0)
        except vcfx.AudioError as exc:
            assert "too short" in str(exc) and f'"{name}"' in str(exc)
            assert "world" in eff.domains  # only the WORLD effects need more than a frame
        else:
            assert out.frames == eff.expected_frames(frames, 16000)


def test_uniform_on_a_whole_number_parameter_draws_whole_numbers():
    """Found by the property test on the example echo plugin's ``repeats``: a draw of 0.79 was refused."""

    class Repeat(vcfx.Effect):
        name = "test_repeat"
        params = (vcfx.Param("times", int, 1, "How often", low=0, high=3),)

        def process_waveform(self, audio, ctx):
            return audio

    rng = np.random.default_rng(0)
    draws = {Repeat(times="uniform(0,3)").drawn(rng).times for _ in range(40)}
    assert draws == {0, 1, 2, 3}

"""Property-based tests: random chains of registered effects on random short signals.

Effects and their parameter values are drawn from what each effect declares
(``vcfx.effects()`` and every :class:`vcfx.Param`'s type, range, choices and
curve flag), so a new effect is covered without touching this file. Text
parameters without choices (a file such as reverb's ``ir``) keep their
defaults. Signals: 1-2 channels, 8-96 kHz, 10 ms to 3 s; silence, a sine,
noise or a voice-like pulse train, loud or nearly silent.

For every chain: the output is finite Audio with the sample rate and channel
count kept and exactly the length the chain's ``expected_frames`` promises;
the same seed gives the same bytes; nothing but a clear refusal by vcfx's own
validation escapes (see :func:`refusal_problem`). Input shorter than an effect
handles is an :class:`vcfx.AudioError` saying "too short" (the WORLD effects
need 20 ms; every waveform effect takes a single frame). A backend exception
wrapped in an :class:`vcfx.EffectError` is a failure however sensible its
message: the effect has to check what its backend cannot take (pedalboard's
MP3 codec takes only some sample rates) and say so itself.
"""

from __future__ import annotations

import math
import traceback
from pathlib import Path

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

_AUDIO_VALUE = Path(vcfx.audio.__file__).resolve()


def _raised_in(exc: BaseException) -> Path:
    return Path(traceback.extract_tb(exc.__traceback__)[-1].filename).resolve()


def refusal_problem(exc: vcfx.VcfxError) -> str | None:
    """``None`` if ``exc`` is a clear refusal by vcfx's own validation, else why it is not one.

    Clear refusals: a :class:`vcfx.ParameterError` or :class:`vcfx.SpecError` (drawn values that do not
    go together); an :class:`vcfx.AudioError` saying the input is too short for an effect; an
    :class:`vcfx.EffectError` naming the effect around an error the effect raised on purpose (a
    ``VcfxError`` of its own). Not clear: an EffectError around a bare backend exception (``ValueError``
    included), one the host raised because the output broke the contract (wrong length, channels or rate;
    it has no cause), and one around the Audio value refusing what the effect built (non-finite samples).
    """
    if isinstance(exc, (vcfx.ParameterError, vcfx.SpecError)):
        return None
    if isinstance(exc, vcfx.AudioError):
        return None if "too short" in str(exc) else "an AudioError about valid input"
    if not isinstance(exc, vcfx.EffectError):
        return f"a {type(exc).__name__}"
    cause = exc.__cause__
    if cause is None:
        return "the output broke the effect contract"
    if not isinstance(cause, vcfx.VcfxError):
        return f"a bare backend {type(cause).__name__} escaped the effect"
    if isinstance(cause, vcfx.AudioError) and "too short" not in str(cause) and _raised_in(cause) == _AUDIO_VALUE:
        return "the effect built invalid Audio"
    return None


def describe_input(kind: str, audio: vcfx.Audio) -> str:
    peak = float(np.abs(audio.samples).max())
    return (f"{kind} of {audio.frames} frames x {audio.channels} channel(s) at {audio.sample_rate} Hz, "
            f"peak {peak:.3g}")


def _spec(chain: vcfx.Chain) -> str:
    try:
        return chain.to_spec()
    except vcfx.VcfxError:
        return repr(chain)


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
        problem = refusal_problem(exc)
        cause = exc.__cause__
        assert problem is None, (
            f"{problem}: {_spec(chain)} (seed {seed}, drawn as {_spec(resolved)}, options {options}) "
            f"on {describe_input(kind, audio)} raised {type(exc).__name__}: {exc}"
            + (f" (its cause: {type(cause).__name__})" if cause is not None else ""))
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


class _Misbehaving(vcfx.Effect):
    """Fails in one of the ways :func:`refusal_problem` tells apart."""

    name = "test_misbehaving"
    params = (vcfx.Param("how", str, "backend", "What goes wrong",
                         choices=("backend", "refuses", "too_short", "nan", "length")),)

    def process_waveform(self, audio, ctx):
        if self.how == "backend":
            raise ValueError("the backend cannot take this")
        if self.how == "refuses":
            raise vcfx.AudioError(f"test_misbehaving cannot process audio at {audio.sample_rate} Hz")
        if self.how == "too_short":
            raise vcfx.AudioError("audio is too short for test_misbehaving")
        if self.how == "nan":
            return audio.replace(samples=np.full(audio.samples.shape, np.nan))
        return audio.replace(samples=audio.samples[:, : audio.frames // 2])


@pytest.mark.parametrize("how, problem", [
    ("backend", "a bare backend ValueError escaped the effect"),
    ("refuses", None),
    ("too_short", None),
    ("nan", "the effect built invalid Audio"),
    ("length", "the output broke the effect contract"),
])
def test_only_vcfx_validation_counts_as_a_clear_refusal(how, problem):
    with pytest.raises(vcfx.VcfxError) as caught:
        vcfx.Chain([_Misbehaving(how=how)])(vcfx.Audio(np.full((1, 100), 0.1), 16000))
    assert refusal_problem(caught.value) == problem


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

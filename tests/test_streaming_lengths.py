"""Streamed lengths add up: every chunk's span is positive, fits its output, and the spans make the whole.

The arithmetic is checked on its own for inputs up to 30 minutes (the
plan needs only the chain's ``expected_frames``), and real streaming runs
end to end on a few seconds of synthetic voice with the real effects.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import vcfx
from vcfx import plugins
from vcfx.streaming import (DEFAULT_CHUNK_S, _chunk_frames, _quietest_cuts, chunk_bounds, plan_chunks,
                            stream_audio)

RATES = (8000, 11025, 16000, 22050, 44100, 48000)


class PadTail(vcfx.Effect):
    """Appends ``pad_ms`` of silence: longer output, declared through expected_frames."""

    name = "test_pad_tail"
    summary = "Appends silence"
    params = (vcfx.Param("pad_ms", float, 100.0, "Silence appended", unit="ms", low=0.0, high=2000.0),)

    def pad_frames(self, sample_rate: int) -> int:
        return round(self.pad_ms * sample_rate / 1000.0)

    def expected_frames(self, frames: int, sample_rate: int) -> int:
        return frames + self.pad_frames(sample_rate)

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=np.pad(audio.samples, ((0, 0), (0, self.pad_frames(audio.sample_rate)))))


class PadPlugin:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(PadTail)


@pytest.fixture(scope="module", autouse=True)
def pad_plugin():
    plugins.register(PadPlugin(), name="test-pad-tail")
    try:
        yield
    finally:
        plugins.unregister("test-pad-tail")


# -- chains ---------------------------------------------------------------------------------------
# a step is (name, value): speed and tempo take a rate, pad a length in ms, and "world_tempo" is
# tempo next to a pitch shift, so that it runs on WORLD frames instead of through Rubber Band

rate = st.floats(0.25, 4.0, allow_nan=False)
step = st.one_of(
    st.tuples(st.just("speed"), rate),
    st.tuples(st.just("tempo"), rate),
    st.tuples(st.just("world_tempo"), rate),
    st.tuples(st.just("pad"), st.floats(0.0, 2000.0, allow_nan=False)),
)
steps = st.lists(step, min_size=1, max_size=4)


def build(chain_steps, seed=0) -> vcfx.Chain:
    effects = []
    for name, value in chain_steps:
        if name == "pad":
            effects.append(vcfx.effect("test_pad_tail", pad_ms=value))
        elif name == "world_tempo":
            effects += [vcfx.effect("pitch_shift", semitones=1.0), vcfx.effect("tempo", rate=value)]
        else:
            effects.append(vcfx.effect(name, rate=value))
    return vcfx.Chain(effects, seed=seed)


def ideal_origin(chain_steps, x: float) -> float:
    """Where input frame ``x`` belongs in the output: each rate divides time, padding goes at the end."""
    for name, value in chain_steps:
        if name != "pad":
            x /= value
    return x


def rounding_slack(chain_steps) -> float:
    """Largest distance, in output frames, between ``E(N) - E(N - x)`` and the ideal position of ``x``.

    Each rescaling rounds by at most half a frame of its own output, which
    later rescalings scale; ``E(N)`` and ``E(N - x)`` each carry that error.
    """
    slack = 0.0
    for name, value in chain_steps:
        if name != "pad":
            slack = slack / value + 0.5
    return 2 * slack


def check_plan(plan, chain, sample_rate, chain_steps=None):
    """Every property the stream relies on, against the chain's own expected_frames."""
    frames = plan[-1].read[1]
    total = chain.expected_frames(frames, sample_rate)
    assert plan[0].span[0] == 0 and plan[-1].span[1] == total
    assert sum(p.span[1] - p.span[0] for p in plan) == total
    for i, p in enumerate(plan):
        assert p.span[1] > p.span[0], f"chunk {i} gives nothing"
        assert p.frames_out == chain.expected_frames(p.read[1] - p.read[0], sample_rate)
        take, on = p.take(), p.handed_on()
        assert 0 <= take.start < take.stop <= on.stop <= p.frames_out, f"chunk {i} lacks frames: {p}"
        assert p.fade_in <= p.span[1] - p.span[0], f"chunk {i} is shorter than its crossfade"
    assert plan[-1].take().stop == plan[-1].frames_out  # the last chunk's output ends with the whole's
    assert plan[0].fade_in == 0 and plan[-1].fade_out == 0
    for before, after in zip(plan, plan[1:]):
        # a join: the two chunks overlap over the same output frames, and the second starts where the first stops
        assert before.span[1] == after.span[0] and before.fade_out == after.fade_in
        assert before.read[1] > after.read[0] and before.read[0] <= after.read[0]
    if chain_steps is not None:
        slack = rounding_slack(chain_steps)
        for i, p in enumerate(plan):
            # each chunk sits where its input belongs, so its waveform lines up with its neighbours'
            assert abs(p.origin - ideal_origin(chain_steps, p.read[0])) <= slack + 1e-6, p
            if i < len(plan) - 1:  # and gives only frames of its own input, not of a tail added after it
                assert p.span[1] + p.fade_out <= ideal_origin(chain_steps, p.read[1]) + slack + 1e-6, p


def random_cuts(frames, sample_rate, chunk_s, seed):
    """Cuts as chunk_bounds makes them, from a random energy contour (no audio needed)."""
    hop, chunk = _chunk_frames(sample_rate, chunk_s)
    energy = np.random.default_rng(seed).random(frames // hop + 1)
    return _quietest_cuts(energy, hop, frames, chunk)


# -- the reported case ------------------------------------------------------------------------------

def syllables(a: int, b: int, sample_rate: int = 44100) -> np.ndarray:
    """A syllable-like level (all chunk_bounds looks at) whose pauses wander against any chunk grid."""
    t = np.arange(a, b, dtype=np.float32) / np.float32(sample_rate)
    env = np.maximum(0.0, np.sin(2 * np.pi * 2.9 * t + 2.0 * np.sin(2 * np.pi * 0.07 * t)))
    return (env * env)[np.newaxis]


TWENTY_MIN = 20 * 60 * 44100


@pytest.fixture(scope="module")
def twenty_minute_cuts():
    return chunk_bounds(syllables, TWENTY_MIN, 44100, DEFAULT_CHUNK_S)


@pytest.mark.parametrize("spec, rate", [("pitch_shift=semitones=2,tempo=rate=1.1", 1.1), ("tempo=rate=0.93", 0.93)])
def test_twenty_minutes_at_44100_add_up_wherever_the_last_cut_falls(spec, rate, twenty_minute_cuts):
    """20 min at 44.1 kHz, as reported: a last chunk one frame short ("483896 frames, expected 483897").

    The last cut moves over 200 neighbouring frames, so every rounding phase
    of the last chunk's length is met, and to where the reported run had it
    (its last chunk read 532286 frames: 483896 out of tempo 1.1).
    """
    chain = vcfx.Chain.from_spec(spec, seed=0)
    margin = chain.context_frames(44100) + max(2, int(0.05 * 44100))  # context and a crossfade
    reported = TWENTY_MIN - 532286 + margin
    assert twenty_minute_cuts[-3] < reported - 44100 and twenty_minute_cuts[-1] == TWENTY_MIN
    for last in [reported] + list(range(TWENTY_MIN - 600000, TWENTY_MIN - 600000 + 200)):
        cuts = twenty_minute_cuts[:-2] + [last, TWENTY_MIN]
        plan = plan_chunks(chain, cuts, 44100)
        check_plan(plan, chain, 44100, [("tempo", rate)])
        assert len(plan) == len(cuts) - 1
    plan = plan_chunks(chain, twenty_minute_cuts[:-2] + [reported, TWENTY_MIN], 44100)
    assert plan[-1].read == (TWENTY_MIN - 532286, TWENTY_MIN) and plan[-1].frames_out == round(532286 / rate)
    assert plan[-1].origin + plan[-1].frames_out == plan[-1].span[1] == round(TWENTY_MIN / rate)


# -- the arithmetic, for any chain, length, rate and chunking -------------------------------------------

@settings(max_examples=150, deadline=None, derandomize=True)
@given(chain_steps=steps, sample_rate=st.sampled_from(RATES), seconds=st.floats(1.0, 30 * 60.0),
       chunk_s=st.floats(0.05, 60.0), seed=st.integers(0, 2**32 - 1))
def test_spans_add_up_to_the_whole(chain_steps, sample_rate, seconds, chunk_s, seed):
    chain = build(chain_steps)
    frames = int(seconds * sample_rate)
    plan = plan_chunks(chain, random_cuts(frames, sample_rate, chunk_s, seed), sample_rate)
    check_plan(plan, chain, sample_rate, chain_steps)


def test_the_slack_is_a_frame_for_one_rescaling():
    assert rounding_slack([("tempo", 1.1)]) == 1.0
    assert rounding_slack([("pad", 10.0), ("speed", 2.0), ("tempo", 0.5)]) == 2 * (0.5 / 0.5 + 0.5)


def test_plan_refuses_cuts_closer_than_a_crossfade():
    chain = build([("tempo", 1.1)])
    with pytest.raises(vcfx.ParameterError, match="crossfade"):
        plan_chunks(chain, [0, 16000, 16100, 48000], 16000)
    with pytest.raises(vcfx.ParameterError, match="rise from 0"):
        plan_chunks(chain, [100, 48000], 16000)
    assert len(plan_chunks(chain, [0, 5], 16000)) == 1  # one chunk has no join, however short


class Stutter(vcfx.Effect):
    """Declares a length that grows and shrinks again with the input: no chunking can match it."""

    name = "test_stutter"
    summary = "Non-monotone length"

    def expected_frames(self, frames, sample_rate):
        return frames + (frames % 7) * sample_rate


def test_plan_refuses_a_length_that_does_not_split_before_any_chunk_runs():
    with pytest.raises(vcfx.EffectError, match="test_stutter.*do not add up"):
        plan_chunks(vcfx.Chain([Stutter()]), random_cuts(16000 * 60, 16000, 5.0, 0), 16000)


# -- real streaming, end to end ------------------------------------------------------------------------

short_steps = st.lists(step, min_size=1, max_size=3).filter(  # outputs of 0.6 to 20 s: cheap, not trivial
    lambda s: 0.25 <= math.prod(v for n, v in s if n != "pad") <= 8.0)


@settings(max_examples=16, deadline=None, derandomize=True)
@example([("tempo", 1.1)], 22050, 5.0, 1.0)
@example([("world_tempo", 0.93)], 16000, 4.0, 1.3)
@example([("speed", 1.25), ("pad", 300.0), ("tempo", 0.8)], 16000, 4.0, 1.0)
@example([("pad", 500.0), ("world_tempo", 2.0)], 8000, 5.0, 1.0)
@given(chain_steps=short_steps, sample_rate=st.sampled_from((8000, 16000, 22050)),
       seconds=st.floats(2.5, 5.0), chunk_s=st.floats(1.0, 2.0))
def test_streaming_gives_the_whole_length_with_clean_joins(chain_steps, sample_rate, seconds, chunk_s):
    # a vowel without pauses, so the joins fall where the voice sounds and a seam would show
    voice = vcfx.synthetic_voice(seconds, sample_rate, f0_hz=(130, 190, 150)).audio
    chain = build(chain_steps, seed=1)
    total = chain.expected_frames(voice.frames, sample_rate)
    whole = chain(voice)
    streamed = stream_audio(chain, voice, chunk_s=chunk_s, workers=2)
    assert streamed.frames == whole.frames == total

    read = lambda a, b: voice.samples[:, a:b]  # noqa: E731
    plan = plan_chunks(chain.resolve(), chunk_bounds(read, voice.frames, sample_rate, chunk_s), sample_rate)
    check_plan(plan, chain, sample_rate, chain_steps)
    # no click at a join: around each one, no step between samples is larger than the largest
    # anywhere in the unchunked output (5 % and 0.01 of full scale allowed for the crossfade)
    largest = np.abs(np.diff(whole.samples, axis=1)).max()
    for p in plan[1:]:
        around = streamed.samples[:, max(0, p.span[0] - 2 * p.fade_in - 2): p.span[0] + 3 * p.fade_in + 2]
        assert np.abs(np.diff(around, axis=1)).max() <= 1.05 * largest + 0.01
    if all(name in ("speed", "pad") for name, _ in chain_steps):
        # without time-stretching, each chunk is the whole's output, within its placement error
        w, s = whole.samples.astype(np.float64), streamed.samples.astype(np.float64)
        slack = rounding_slack(chain_steps) + 0.1
        assert np.abs(s - w).max() <= slack * np.abs(np.diff(w, axis=1)).max() + 1e-4

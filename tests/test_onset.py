"""The "onsets" slicer: coverage contract, syllable timing against known truth, real speech."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vcfx


def spans_of(segments, sample_rate):
    return [(round(s.start_s * sample_rate), round(s.end_s * sample_rate)) for s in segments]


def assert_covers(audio, segments, min_ms):
    """Segments tile the input from frame 0 to the end, each at least ``min_ms`` long, every channel kept."""
    spans = spans_of(segments, audio.sample_rate)
    assert spans[0][0] == 0 and spans[-1][1] == audio.frames
    assert all(end == start for (_, end), (start, _) in zip(spans, spans[1:]))  # no gaps, no overlaps
    assert [s.index for s in segments] == list(range(len(segments)))
    assert all(s.audio.frames == b - a and s.audio.channels == audio.channels for s, (a, b) in zip(segments, spans))
    np.testing.assert_array_equal(np.concatenate([s.audio.samples for s in segments], axis=1), audio.samples)
    if audio.duration_s >= min_ms / 1000:
        assert min(s.audio.frames for s in segments) >= round(min_ms * audio.sample_rate / 1000)


def syllables(audio):
    """True (start, end) frames of a synthetic voice's syllables: the runs of non-zero samples."""
    loud = audio.samples[0] != 0
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    ends = np.flatnonzero(loud[:-1] & ~loud[1:]) + 1
    if loud[0]:
        starts = np.r_[0, starts]
    return list(zip(starts, ends))


def test_speech_is_cut_into_about_one_segment_per_syllable(speech_path):
    speech = vcfx.load(speech_path)
    assert (speech.channels, speech.sample_rate) == (2, 44100)
    segments = vcfx.slice_onsets(speech)
    assert_covers(speech, segments, 50)
    # the sentence has ~16 syllables; onsets are not syllables, so allow 16 +- 5 (measured: 16)
    assert 11 <= len(segments) <= 21


def test_speech_at_other_rates_and_longer_minimum(speech_path):
    speech = vcfx.load(speech_path)
    for rate in (8000, 16000, 48000):
        audio = speech.resample(rate)
        segments = vcfx.slice_onsets(audio)
        assert_covers(audio, segments, 50)
        assert 11 <= len(segments) <= 21  # measured: 18, 17, 16
    coarse = vcfx.slice_onsets(speech, min_segment_ms=300)
    assert_covers(speech, coarse, 300)
    assert len(coarse) < len(vcfx.slice_onsets(speech))


@pytest.mark.parametrize("sample_rate, channels", [(8000, 1), (22050, 1), (44100, 2), (96000, 1)])
def test_cuts_fall_in_the_silence_before_each_syllable(sample_rate, channels):
    """Backtracked cuts lie in the silent gap before a syllable, from the previous syllable's end
    (-5 ms) to the syllable's start (+0 ms), so each syllable lands whole in one segment.
    The gaps are 74 ms long; measured cuts are 23-44 ms before the start."""
    audio = vcfx.synthetic_voice(3.0, sample_rate, f0_hz=(140.0, 220.0, 160.0),
                                 channels=channels, syllable_rate_hz=4).audio
    truth = syllables(audio)
    assert len(truth) == 12
    segments = vcfx.slice_onsets(audio)
    assert_covers(audio, segments, 50)
    early = round(0.005 * sample_rate)
    windows = [(0 if k == 0 else truth[k - 1][1] - early, start) for k, (start, _) in enumerate(truth)]
    cuts = [a for a, _ in spans_of(segments, sample_rate)[1:]]
    hits = [[c for c in cuts if lo <= c <= hi] for lo, hi in windows]
    assert sum(map(len, hits)) == len(cuts), "a cut falls inside a syllable"
    assert all(len(h) == 1 for h in hits[1:]), hits  # one cut before every syllable after the first


@pytest.mark.parametrize("sample_rate", [16000, 44100])
def test_without_backtracking_cuts_sit_just_after_the_true_start(sample_rate):
    """Onset peaks come 0-20 ms after the syllable starts (measured 4-14 ms)."""
    audio = vcfx.synthetic_voice(3.0, sample_rate, syllable_rate_hz=4).audio
    truth = syllables(audio)
    spans = spans_of(vcfx.slice_onsets(audio, backtrack=False), sample_rate)
    cuts = [a for a, _ in spans[1:]]
    late = round(0.020 * sample_rate)
    for start, _ in truth[1:]:
        assert sum(start <= c <= start + late for c in cuts) == 1, (start, cuts)


def test_silence_is_one_segment():
    silence = vcfx.Audio(np.zeros((2, 48000)), 48000)
    segments = vcfx.slice_onsets(silence)
    assert len(segments) == 1 and segments[0].audio == silence
    assert (segments[0].start_s, segments[0].end_s) == (0.0, 1.0)


@pytest.mark.parametrize("frames", [1, 10, 400, 799, 1200])
def test_very_short_input(frames):
    rng = np.random.default_rng(frames)
    audio = vcfx.Audio(rng.normal(0, 0.1, (1, frames)), 8000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no librosa warnings about short input
        segments = vcfx.slice_onsets(audio)
        tiny = vcfx.slice_onsets(audio, min_segment_ms=1)
    assert_covers(audio, segments, 50)
    assert_covers(audio, tiny, 1)
    if frames < 800:  # shorter than two 50 ms segments
        assert len(segments) == 1


@settings(max_examples=25, deadline=None)
@given(
    sample_rate=st.sampled_from([8000, 11025, 22050, 44100, 48000]),
    duration_ms=st.integers(1, 1500),
    clicks=st.lists(st.floats(0.0, 1.0), max_size=12),
    min_ms=st.floats(1.0, 400.0),
    channels=st.integers(1, 2),
)
def test_segments_always_tile_the_input(sample_rate, duration_ms, clicks, min_ms, channels):
    frames = max(1, duration_ms * sample_rate // 1000)
    x = np.zeros((channels, frames))
    for c in clicks:  # decaying bursts: plenty of onsets
        start = int(c * (frames - 1))
        burst = np.exp(-np.arange(frames - start) / (0.01 * sample_rate)) * np.sin(np.arange(frames - start))
        x[:, start:] += 0.3 * burst
    audio = vcfx.Audio(x, sample_rate)
    assert_covers(audio, vcfx.slice_onsets(audio, min_segment_ms=min_ms), min_ms)


@pytest.mark.parametrize(
    "params, phrase",
    [
        ({"min_segment_ms": 0}, r"min_segment_ms=0 is outside \[1, 10000\]"),
        ({"min_segment_ms": 20000}, r"min_segment_ms=20000 is outside \[1, 10000\]"),
        ({"delta": 1.5}, r"delta=1.5 is outside \[0, 1\]"),
        ({"hop_ms": 100}, r"hop_ms=100 is outside \[1, 50\]"),
        ({"hop_ms": "fast"}, r"hop_ms='fast' is not a number"),
        ({"backtrack": "yes"}, r"backtrack='yes' is not true or false"),
        ({"min_segment": 50}, r'slicer "onsets" has no parameter .min_segment.\. Known: min_segment_ms'),
    ],
)
def test_bad_params_name_the_value_and_range(params, phrase, voice):
    with pytest.raises(vcfx.ParameterError, match=phrase):
        vcfx.slice_onsets(voice.audio, **params)
    with pytest.raises(vcfx.ParameterError, match=phrase):
        vcfx.slicer("onsets", **params)


def test_declared_params_carry_units():
    onsets = vcfx.slicer("onsets")
    units = {p.name: p.unit for p in onsets.params}
    assert units["min_segment_ms"] == "ms" and units["hop_ms"] == "ms"
    assert onsets.min_segment_ms == 50.0
    info = next(p for p in vcfx.list_plugins() if p.name == "onset")
    assert info.slicers == ["onsets"] and info.distribution == "vcfx"

"""Voicing of the WORLD analysis, on synthetic voices whose f0 contour and voiced stretches are known."""

import numpy as np
import pytest

import vcfx
from vcfx_world.analysis import OPTION_PARAMS, analyze_channels

from truth import praat_f0

OPTS = {p.name: p.default for p in OPTION_PARAMS}


def world_f0(audio: vcfx.Audio) -> tuple[np.ndarray, np.ndarray]:
    """WORLD's f0 track of the first channel and its frame times, with the default options."""
    f0 = analyze_channels([audio.samples[0]], audio.sample_rate, OPTS)[0].f0
    return f0, np.arange(len(f0)) * OPTS["frame_period_ms"] / 1000.0


@pytest.fixture(scope="module")
def syllables():
    """A voice with a rising and falling contour, in syllables with silences between: many voicing edges."""
    return vcfx.synthetic_voice(3.0, 22050, f0_hz=(140.0, 220.0, 160.0, 190.0), syllable_rate_hz=3.0)


@pytest.fixture(scope="module")
def track(syllables):
    return world_f0(syllables.audio)


def edge_frames(f0: np.ndarray) -> np.ndarray:
    voiced = f0 > 0
    inner = np.concatenate([[False], voiced[:-1]]) & np.concatenate([voiced[1:], [False]])
    return np.flatnonzero(voiced & ~inner)


def test_edges_of_voiced_stretches_follow_the_contour(syllables, track):
    f0, t = track
    edges = edge_frames(f0)
    assert len(edges) >= 12  # two edges per syllable, nine syllables
    error = np.abs(1200 * np.log2(f0[edges] / syllables.f0_at(t[edges])))
    # Where a syllable fades out, StoneMask reads its last frames up to ~60 cents flat; no edge leaps away.
    assert np.median(error) <= 20.0
    assert error.max() <= 75.0, (t[edges][error > 75], error[error > 75])


def test_every_voiced_frame_follows_the_contour(syllables, track):
    f0, t = track
    voiced = f0 > 0
    error = np.abs(1200 * np.log2(f0[voiced] / syllables.f0_at(t[voiced])))
    # Measured: p90 2.5, p99 34, worst 44 cents on 453 voiced frames; DIO and StoneMask alone: p90 1.5, p99 94,
    # worst 420 on 422. The frames voiced since they repeat are the faint ends of syllables, where StoneMask
    # reads f0 up to ~40 cents off.
    assert np.percentile(error, 90) <= 5.0
    assert np.percentile(error, 99) <= 40.0
    assert error.max() <= 50.0


def test_frames_praat_calls_voiced_are_voiced(syllables, track):
    f0, t = track
    pt, pf = praat_f0(syllables.audio)
    near = np.clip(np.rint(pt[pf > 0] / (OPTS["frame_period_ms"] / 1000)).astype(int), 0, len(f0) - 1)
    assert np.mean(f0[near] > 0) >= 0.97


def test_frames_praat_calls_voiced_in_real_speech_are_voiced():
    """The example voice: DIO alone voices 0.90 of the frames Praat calls voiced; periodicity 0.98."""
    voice = vcfx.example_voice()
    f0, t = world_f0(voice)
    pt, pf = praat_f0(voice, floor=75.0, ceiling=700.0)
    near = np.clip(np.rint(pt[pf > 0] / (OPTS["frame_period_ms"] / 1000)).astype(int), 0, len(f0) - 1)
    assert np.mean(f0[near] > 0) >= 0.95


def test_a_noisy_stretch_stays_unvoiced():
    voice = vcfx.synthetic_voice(2.0, 22050, f0_hz=(150.0, 190.0))
    x = voice.audio.samples[0].copy()
    a, b = int(0.8 * 22050), int(1.2 * 22050)
    noise = np.random.default_rng(0).standard_normal(b - a)
    x[a:b] = noise * np.std(x) / np.std(noise)  # breath as loud as the voice
    f0, t = world_f0(vcfx.Audio(x[None, :], 22050))
    inside = (t > 0.85) & (t < 1.15)
    outside = (t > 0.05) & (t < 0.75) | (t > 1.25) & (t < 1.95)
    assert np.mean(f0[inside] > 0) <= 0.05
    assert np.mean(f0[outside] > 0) >= 0.97


def test_a_syllable_the_tracker_misses_whole_is_voiced():
    """The example voice opens with a 75 ms syllable (210 Hz) that DIO leaves unvoiced, 95 ms before the next voice.

    Frames are tried at the f0 around them however far it is; Praat judges the f0 found.
    """
    from vcfx_world import track_channels
    from vcfx_world.analysis import analysis_options

    voice = vcfx.example_voice()
    x = np.ascontiguousarray(voice.samples[0], dtype=np.float64)
    (tracked, _), = track_channels([x], voice.sample_rate, analysis_options(vcfx.Context.from_seed(0)))
    f0, t = world_f0(voice)
    syllable = (t >= 0.025) & (t <= 0.065)
    assert not tracked[syllable].any()  # the tracker's miss, which the voicing puts right
    pt, pf = praat_f0(voice, floor=75.0, ceiling=700.0)
    judged = np.interp(t[syllable], pt, pf)
    assert (judged > 0).all() and (f0[syllable] > 0).all()
    assert np.abs(1200 * np.log2(f0[syllable] / judged)).max() < 50


def knock_off(syllables, track, cents):
    """Twelve inner frames of the voice's track moved by ``cents`` (in turn), on the tracking signal.

    Returns the signal, its rate, the frame times, the track, the frames moved, the moved track and its periodicity.
    """
    from vcfx_world.f0 import periodicity, tracking_signal

    f0, t = track
    x, rate = tracking_signal(np.ascontiguousarray(syllables.audio.samples[0], dtype=np.float64), 22050)
    voiced = f0 > 0
    inner = np.flatnonzero(voiced[:-4] & voiced[1:-3] & voiced[2:-2] & voiced[3:-1] & voiced[4:]) + 2
    hit = inner[:: max(1, len(inner) // 12)][:12]
    knocked = f0.copy()
    knocked[hit] *= np.exp2(np.resize(cents, len(hit)) / 1200)
    return x, rate, t, f0, hit, knocked, periodicity(x, knocked, t, rate, OPTS["f0_floor_hz"])


def test_frames_knocked_off_the_contour_are_put_back(syllables, track):
    """Single frames 3-5 semitones off inside voiced stretches, as a tracker leaves them, go back to the contour."""
    from vcfx_world.f0 import mend_jumps

    x, rate, t, f0, hit, knocked, at_f0 = knock_off(syllables, track, [-500, 400, -300])
    mended, _ = mend_jumps(x, knocked, t, rate, OPTS, at_f0)
    error = np.abs(1200 * np.log2(mended[hit] / syllables.f0_at(t[hit])))
    assert error.max() <= 20.0, (t[hit], error)
    others = f0 > 0
    others[hit] = False
    assert np.array_equal(mended[others], f0[others])  # frames on the contour are left as they were


def test_frames_left_tens_of_cents_off_are_put_where_the_voice_repeats(syllables, track):
    """Frames 40-80 cents off the contour, as StoneMask leaves some after a fast rise, go back to within 15 cents."""
    from vcfx_world.f0 import settle_on_peaks

    x, rate, t, _, hit, knocked, at_f0 = knock_off(syllables, track, [-80, 60, -40, 50])
    settled, _ = settle_on_peaks(x, knocked, t, rate, OPTS, at_f0)
    error = np.abs(1200 * np.log2(settled[hit] / syllables.f0_at(t[hit])))
    assert error.max() <= 15.0, (t[hit], error)


def test_the_turns_of_a_fast_contour_are_not_averaged_away():
    """On a contour that turns every 0.25 s (up to 3 octaves a second), the known f0 is left within 15 cents."""
    from vcfx_world.f0 import periodicity, settle_on_peaks, tracking_signal

    voice = vcfx.synthetic_voice(2.0, 22050, f0_hz=(150, 260, 140, 280, 150, 250, 130, 240, 160), syllable_rate_hz=0)
    t = np.arange(0.02, 1.98, OPTS["frame_period_ms"] / 1000)
    truth = voice.f0_at(t)
    x, rate = tracking_signal(np.ascontiguousarray(voice.audio.samples[0], dtype=np.float64), 22050)
    settled, _ = settle_on_peaks(x, truth, t, rate, OPTS, periodicity(x, truth, t, rate, OPTS["f0_floor_hz"]))
    assert np.abs(1200 * np.log2(settled / truth)).max() <= 15.0


def test_real_speech_does_not_crack_where_both_judges_hear_a_smooth_contour(speech_path):
    """Consecutive 10 ms frames where Praat and pYIN agree and step by under half a semitone: WORLD's f0 does not jump.

    Measured on speech.wav as mono: 4 of 112 such steps jumped by more than a semitone in WORLD's f0 before frames
    were checked against their neighbours' median (:func:`vcfx_world.f0.mend_jumps`), 2 after (at 2.14 and 2.34
    s).
    """
    from truth import agreed_f0

    voice = vcfx.load(speech_path, mono=True)
    f0, t = world_f0(voice)
    judged_t, _ = praat_f0(voice, floor=75.0, ceiling=700.0)
    judged = agreed_f0(voice, judged_t, floor=75.0, ceiling=700.0)
    ours = f0[np.clip(np.rint(judged_t / (OPTS["frame_period_ms"] / 1000)).astype(int), 0, len(f0) - 1)]
    pair = (judged[1:] > 0) & (judged[:-1] > 0) & (ours[1:] > 0) & (ours[:-1] > 0)
    step = lambda f: 12 * np.abs(np.log2(np.where(pair, f[1:], 1.0) / np.where(pair, f[:-1], 1.0)))  # noqa: E731
    smooth = pair & (step(judged) < 0.5)
    assert smooth.sum() >= 60  # 112 with librosa 0.11's pYIN, 80 with 0.10's
    assert np.sum(smooth & (step(ours) > 1.0)) <= 2


def test_a_short_stretch_is_judged_by_the_voiced_frames_within_reach_only():
    """Next to a long stretch, an unvoiced frame's neighbour f0 is that stretch's, not a glide towards a far one."""
    from vcfx_world.f0 import _neighbour_f0

    f0 = np.zeros(40)
    f0[:3], f0[24:] = 200.0, 300.0  # 21 unvoiced frames between
    guess = _neighbour_f0(f0, reach=6)
    assert np.all(guess[18:24] == 300.0)  # within reach of the later stretch only: its f0, not 287-298 Hz
    assert np.all(guess[3:9] == 200.0)
    assert np.all(guess[9:18] == 0.0)  # beyond reach of both
    f0[8:12] = 0.0
    f0[6:8], f0[12:14] = 200.0, 250.0  # within reach of both sides: log-interpolated between them
    guess = _neighbour_f0(f0, reach=6)
    np.testing.assert_allclose(guess[8:12], 200.0 * (250.0 / 200.0) ** (np.arange(1, 5) / 5), rtol=1e-12)
    assert np.all(_neighbour_f0(f0)[14:24] > 250.0)  # without a reach, every unvoiced frame glides


def test_voiced_stretches_are_the_runs_of_voiced_frames():
    from vcfx_world import voiced_stretches

    f0 = np.array([0.0, 100.0, 110.0, 0.0, 0.0, 120.0, 0.0, 130.0])
    assert voiced_stretches(f0) == [(1, 3), (5, 6), (7, 8)]
    assert voiced_stretches(np.zeros(4)) == []

"""A raised voice keeps its level frame by frame: harmonics that miss a formant are given back its power."""

import numpy as np
import pytest

import vcfx
from vcfx_world import WorldFeatures
from vcfx_world.harmonics import harmonic_power, level_gains

RATE = 22050
BINS = 513  # CheapTrick's width at 22.05 kHz
BIN_HZ = RATE / (2 * (BINS - 1))


def frame_db(x: np.ndarray, hop: int, half: int) -> np.ndarray:
    """Level (dB) of the samples within ``half`` of every ``hop``-th sample."""
    centres = np.arange(0, len(x), hop)
    return np.array([10 * np.log10(np.mean(np.square(x[max(0, c - half):c + half])) + 1e-20) for c in centres])


def level_spread_db(before: vcfx.Audio, after: vcfx.Audio) -> float:
    """p90 - p10 of the output's level less the input's, over 30 ms windows every 10 ms where the input sounds."""
    hop, half = RATE // 100, int(0.015 * RATE)
    a, b = frame_db(before.samples[0], hop, half), frame_db(after.samples[0], hop, half)
    sounding = a > a.max() - 30
    change = b[sounding] - a[sounding]
    return float(np.percentile(change, 90) - np.percentile(change, 10))


@pytest.fixture(scope="module")
def vowels() -> vcfx.Audio:
    """A synthetic voice over 140-220 Hz through formants at 700, 1220, 2600 and 3300 Hz, in syllables."""
    return vcfx.synthetic_voice(3.0, RATE, f0_hz=(140.0, 220.0, 160.0, 200.0, 130.0), syllable_rate_hz=3.0).audio


@pytest.mark.parametrize("semitones", [12.0, 7.0])
def test_a_shift_up_keeps_the_level_of_every_syllable(vowels, semitones):
    # Raised, the harmonics of a 140-220 Hz voice step over the 700 Hz formant in turns, and WORLD's output
    # fell by up to 10 dB where they did: p90 - p10 of the level change was 7.2 dB at +12 and 3.8 at +7 on
    # this voice; with the harmonics' power given back 1.9 and 1.5 (PSOLA's 0.7). The level is read from
    # the samples, not from WORLD's features.
    out = vcfx.Chain([vcfx.effect("pitch_shift", semitones=semitones)], engine="world")(vowels)
    assert level_spread_db(vowels, out) < 3.0


def test_the_gain_gives_back_the_power_of_a_formant_between_the_new_harmonics():
    # a flat envelope with one narrow peak on the analysed f0 (about 300 Hz, on a bin): raised an octave,
    # every harmonic lands on the flat part and the peak's power is missing
    frames, floor, peak_bin = 9, 1e-4, int(round(300 / BIN_HZ))
    sp = np.full((frames, BINS), floor)
    sp[:, peak_bin] = 1.0
    f0 = np.full(frames, peak_bin * BIN_HZ)
    ap = np.zeros((frames, BINS))
    gains = level_gains(2 * f0, f0, sp, ap, RATE, 5.0)
    harmonics_then = int((RATE / 2) / f0[0])
    harmonics_now = int((RATE / 2) / (2 * f0[0]))
    then = (1.0 + floor * (harmonics_then - 1)) * f0[0]
    now = floor * harmonics_now * 2 * f0[0]
    np.testing.assert_allclose(gains, then / now, rtol=1e-6)


def test_no_gain_where_f0_did_not_go_up():
    rng = np.random.default_rng(0)
    f0 = np.where(np.arange(40) % 10 < 7, rng.uniform(120, 250, 40), 0.0)
    sp, ap = rng.uniform(1e-4, 1, (40, BINS)), rng.uniform(0, 1, (40, BINS))
    assert level_gains(f0, f0, sp, ap, RATE, 5.0) is None  # unchanged: the round trip stays as it was
    assert level_gains(0.5 * f0, f0, sp, ap, RATE, 5.0) is None  # denser harmonics lose nothing
    assert level_gains(2 * f0, None, sp, ap, RATE, 5.0) is None  # features that say nothing of their analysis
    raised = level_gains(2 * f0, f0, sp, ap, RATE, 5.0)
    assert np.all(raised[f0 == 0] == 1.0) and np.all(np.isfinite(raised)) and np.all(raised > 0)


def test_harmonic_power_of_a_flat_spectrum_is_its_power_at_any_f0():
    sp = np.ones((3, BINS))
    f0 = np.array([100.0, 233.0, 517.0])
    power = harmonic_power(sp, np.zeros_like(sp), np.arange(3), f0, RATE)
    # harmonics below Nyquist, each standing for f0 Hz: within one harmonic of the spectrum's width
    np.testing.assert_allclose(power * BIN_HZ, RATE / 2, atol=f0.max())


def test_the_analysed_f0_follows_the_frames_and_not_the_effects():
    voice = vcfx.synthetic_voice(0.5, RATE, f0_hz=(150.0, 200.0)).audio
    state = vcfx.domain("world").analyze(voice, vcfx.Context.from_seed(0))
    ch = state.channels[0]
    analysed = ch.analysed_f0.copy()
    np.testing.assert_array_equal(analysed, ch.f0)
    ch.f0 *= 2  # in place, as effects may
    np.testing.assert_array_equal(ch.analysed_f0, analysed)
    n = len(ch.f0)
    positions = np.arange(2 * n - 1) * 0.5
    stretched = ch.resampled(positions)
    assert len(stretched.analysed_f0) == len(stretched.f0) == 2 * n - 1
    np.testing.assert_allclose(stretched.analysed_f0[::2], analysed)


def test_a_length_change_that_leaves_the_analysed_f0_behind_stretches_it_evenly():
    voice = vcfx.synthetic_voice(0.5, RATE, f0_hz=180.0).audio
    state = vcfx.domain("world").analyze(voice, vcfx.Context.from_seed(0))
    frames = 2 * state.frames
    n = state.frames_for(frames)
    positions = np.linspace(0, len(state.channels[0].f0) - 1, n)
    state.channels = [WorldFeatures(ch.f0[np.rint(positions).astype(int)],
                                    ch.spectral_envelope[np.rint(positions).astype(int)],
                                    ch.aperiodicity[np.rint(positions).astype(int)], analysed_f0=ch.analysed_f0)
                      for ch in state.channels]
    state.set_length(frames)
    assert len(state.channels[0].analysed_f0) == n

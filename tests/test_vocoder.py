"""The WORLD domain's synthesis against pyworld's own, which it replaces.

The periodic part is deterministic and must agree with pyworld's to
rounding; the noise is a different random draw, so it must agree in level
and spectrum, measured over enough of it that two draws of the same noise
agree to the tolerance.
"""

import numpy as np
import pytest
import pyworld
import scipy.signal

import vcfx
from vcfx_world import vocoder


def features(rate: int, seconds: float = 3.0):
    voice = vcfx.synthetic_voice(seconds, rate, f0_hz=(140.0, 220.0, 160.0, 190.0), syllable_rate_hz=3.0)
    x = voice.audio.samples[0].astype(np.float64)
    f0, t = pyworld.dio(x, rate, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, t, rate)
    fft = pyworld.get_cheaptrick_fft_size(rate, 71.0)
    sp = pyworld.cheaptrick(x, f0, t, rate, fft_size=fft)
    ap = pyworld.d4c(x, f0, t, rate, fft_size=fft, threshold=-np.inf)
    return f0, sp, ap


def relative_rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2) / np.mean(b ** 2)))


def band_levels_db(y: np.ndarray, rate: int) -> np.ndarray:
    f, p = scipy.signal.welch(y, rate, nperseg=512)
    edges = [0, 250, 500, 1000, 2000, 4000, rate / 2]
    return np.array([10 * np.log10(p[(f >= lo) & (f < hi)].sum()) for lo, hi in zip(edges, edges[1:])])


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_the_periodic_part_is_pyworlds(rate):
    f0, sp, _ = features(rate)
    voiced = f0 > 0
    f0 = np.exp2(np.interp(np.arange(len(f0)), np.flatnonzero(voiced), np.log2(f0[voiced])))  # voiced throughout
    ap = np.zeros_like(sp)  # clipped to 0.001 by both: the noise share is 1e-6 of the power
    ours, theirs = vocoder.synthesize(f0, sp, ap, rate, 5.0), pyworld.synthesize(f0, sp, ap, rate, frame_period=5.0)
    assert len(ours) == len(theirs)
    # two independent noises at 1e-3 of the amplitude differ by about 1.4e-3; any error of the pulses would show above
    assert relative_rms(ours, theirs) < 3e-3


@pytest.mark.parametrize("rate", [16000, 44100])
def test_unvoiced_noise_has_pyworlds_level_and_spectrum(rate):
    _, sp, ap = features(rate, seconds=6.0)
    f0 = np.zeros(len(sp))
    ours, theirs = vocoder.synthesize(f0, sp, ap, rate, 5.0), pyworld.synthesize(f0, sp, ap, rate, frame_period=5.0)
    # over 6 s the loudest frames decide the level: twelve draws of the noise put it -0.4 .. +0.5 dB from pyworld's
    assert abs(20 * np.log10(np.std(ours) / np.std(theirs))) < 0.6
    # per octave band over 6 s; another draw of numpy's own noise differs from this one by up to 0.8 dB
    assert np.abs(band_levels_db(ours, rate) - band_levels_db(theirs, rate)).max() < 1.0
    window = int(0.05 * rate)
    frames = len(ours) // window
    level = lambda y: 10 * np.log10(np.mean(y[:frames * window].reshape(frames, window) ** 2, axis=1) + 1e-30)
    loud = level(theirs) > level(theirs).max() - 40
    assert abs(np.median(level(ours)[loud] - level(theirs)[loud])) < 0.5


def test_a_voice_with_pauses_has_pyworlds_level_where_voiced_and_unvoiced():
    rate = 22050
    f0, sp, ap = features(rate, seconds=4.0)
    ours, theirs = vocoder.synthesize(f0, sp, ap, rate, 5.0), pyworld.synthesize(f0, sp, ap, rate, frame_period=5.0)
    window = int(0.02 * rate)
    frames = len(ours) // window
    level = lambda y: 10 * np.log10(np.mean(y[:frames * window].reshape(frames, window) ** 2, axis=1) + 1e-30)
    voiced = np.interp((np.arange(frames) + 0.5) * 0.02, np.arange(len(f0)) * 0.005, (f0 > 0).astype(float))
    diff = level(ours) - level(theirs)
    assert np.abs(np.median(diff[voiced == 1])) < 0.1 and np.percentile(np.abs(diff[voiced == 1]), 90) < 0.5
    assert abs(20 * np.log10(np.std(ours) / np.std(theirs))) < 0.2


def test_the_same_features_give_the_same_samples_on_any_number_of_threads(monkeypatch):
    f0, sp, ap = features(16000)
    serial = vocoder.synthesize(f0, sp, ap, 16000, 5.0)
    monkeypatch.setenv("VCFX_THREADS", "2")
    assert vocoder.synthesize(f0, sp, ap, 16000, 5.0, mapper=vcfx.thread_map).tobytes() == serial.tobytes()


def test_pulses_fall_one_period_apart_where_voiced_and_every_2_ms_where_not():
    rate, n = 16000, 200
    f0 = np.where(np.arange(n) < 100, 200.0, 0.0)
    train = vocoder.pulses(f0, 1024, rate, 5.0, vocoder.output_length(n, rate, 5.0))
    gaps = np.diff(train.index)
    voiced_gaps = gaps[train.voiced[:-1] & train.voiced[1:]]
    unvoiced_gaps = gaps[~train.voiced[:-1] & ~train.voiced[1:]]
    assert np.all(np.abs(voiced_gaps - rate / 200.0) <= 1) and np.all(np.abs(unvoiced_gaps - rate / 500.0) <= 1)
    assert np.all((train.shift >= 0) & (train.shift <= 1))
    assert train.noise[-1] == 0 and np.array_equal(train.noise[:-1], gaps)

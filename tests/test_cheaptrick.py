"""The WORLD domain's CheapTrick against pyworld's, which it replaces: the same envelope to rounding."""

import numpy as np
import pytest
import pyworld

import vcfx
from vcfx_world import cheaptrick


def track(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    f0, t = pyworld.dio(x, rate, f0_floor=71.0, f0_ceil=800.0, frame_period=5.0)
    return pyworld.stonemask(x, f0, t, rate), t


def compared_db(x: np.ndarray, f0: np.ndarray, t: np.ndarray, rate: int) -> np.ndarray:
    """|dB| between vcfx's and pyworld's envelopes, on the bins within 80 dB of their frame's peak.

    Further down, and within 30 dB of the noise WORLD adds (which vcfx adds
    as its expected power), that noise and float32 rounding decide the value.
    """
    size = cheaptrick.fft_size(rate, 71.0)
    theirs = pyworld.cheaptrick(x, f0, t, rate, f0_floor=71.0, fft_size=size)
    ours = cheaptrick.spectral_envelope(x, f0, t, rate, size)
    assert ours.shape == theirs.shape
    level = 10 * np.log10(theirs)
    audible = (level > level.max(axis=1, keepdims=True) - 80) & (level > 10 * np.log10(cheaptrick.FLOOR_POWER) + 30)
    return np.abs(10 * np.log10(ours / theirs))[audible]


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("floor", [40.0, 71.0, 150.0])
def test_fft_size_is_worlds(rate, floor):
    assert cheaptrick.fft_size(rate, floor) == pyworld.get_cheaptrick_fft_size(rate, floor)


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_the_envelope_is_pyworlds_on_a_synthetic_voice(rate):
    voice = vcfx.synthetic_voice(2.0, rate, f0_hz=(140.0, 220.0, 160.0, 190.0), syllable_rate_hz=3.0)
    x = voice.audio.samples[0].astype(np.float64)
    f0, t = track(x, rate)
    assert (f0 == 0).any() and (f0 > 0).any()  # unvoiced frames take WORLD's default f0, voiced their own
    error = compared_db(x, f0, t, rate)
    assert np.median(error) < 1e-3
    assert error.max() < 0.01


def test_the_envelope_is_pyworlds_on_real_speech(speech_path):
    voice = vcfx.load(speech_path, sample_rate=22050, mono=True)
    x = voice.samples[0].astype(np.float64)
    f0, t = track(x, 22050)
    error = compared_db(x, f0, t, 22050)
    assert np.median(error) < 1e-3
    assert np.percentile(error, 99.9) < 0.01


def test_frames_at_the_ends_and_in_silence():
    rate = 16000
    x = np.zeros(rate)
    x[4000:12000] = vcfx.synthetic_voice(0.5, rate, f0_hz=180.0).audio.samples[0]
    t = np.array([0.0, 0.1, 0.5, 0.99, 1.0])
    f0 = np.array([0.0, 0.0, 180.0, 0.0, 0.0])
    envelope = cheaptrick.spectral_envelope(x, f0, t, rate, cheaptrick.fft_size(rate, 71.0))
    assert np.isfinite(envelope).all() and (envelope > 0).all()
    # digital silence: the level of the noise WORLD adds, not a logarithm of 0
    assert np.allclose(envelope[0], cheaptrick.FLOOR_POWER, rtol=0.05)
    assert compared_db(x, f0[2:3], t[2:3], rate).max() < 0.01

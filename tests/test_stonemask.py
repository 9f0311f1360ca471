"""The WORLD domain's StoneMask against pyworld's, which it replaces: the same f0 to rounding."""

import numpy as np
import pytest
import pyworld

import vcfx
from vcfx_world.stonemask import refine

TOLERANCE = 1e-11
"""Relative difference allowed from pyworld's f0: the spectra at eight bins are sums here, FFTs there (seen: 2e-12)."""


def guesses(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """DIO's f0, its unvoiced frames given guesses from StoneMask's floor up to rate / 24.

    (Above, StoneMask's first estimate, up to twice the guess, may put its
    sixth harmonic past Nyquist, where WORLD reads past its spectrum.)
    """
    f0, t = pyworld.dio(x, rate, f0_floor=71.0, f0_ceil=800.0, frame_period=5.0)
    unvoiced = np.flatnonzero(f0 == 0)
    f0[unvoiced] = np.geomspace(40.5, rate / 24.0, len(unvoiced))
    return f0, t


@pytest.mark.parametrize("rate", [16000, 22050, 44100])
def test_f0_is_pyworlds_on_a_synthetic_voice(rate):
    voice = vcfx.synthetic_voice(2.0, rate, f0_hz=(140.0, 220.0, 160.0, 190.0), syllable_rate_hz=3.0)
    x = voice.audio.samples[0].astype(np.float64)
    f0, t = guesses(x, rate)
    f0[:4] = [0.0, -5.0, 40.0, rate / 12.0 + 1.0]  # StoneMask refuses all four
    ours, theirs = refine(x, f0, t, rate), pyworld.stonemask(x, f0, t, rate)
    np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE, atol=0)
    assert (ours[:4] == 0).all() and (ours[4:] > 0).all()


@pytest.mark.parametrize("rate", [22050, 48000])
def test_f0_is_pyworlds_on_real_speech_at_any_frame_time(speech_path, rate):
    x = vcfx.load(speech_path, sample_rate=rate, mono=True).samples[0].astype(np.float64)
    f0, t = guesses(x, rate)
    t = t + np.random.default_rng(0).uniform(-0.01, 0.01, len(t))  # between samples, before 0, past the end
    ours, theirs = refine(x, f0, t, rate), pyworld.stonemask(x, f0, t, rate)
    np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE, atol=0)

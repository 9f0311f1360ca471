"""periodicity() against a plain frame-by-frame computation, on a synthetic voice with fractional periods."""

import numpy as np
import pytest

import vcfx
from vcfx_world.f0 import PERIODICITY_CHUNK, periodicity

RATE = 16000
FLOOR = 71.0
TOLERANCE = 1e-6
"""periodicity() takes its dot products in single precision: it may differ from the plain double sums by this much."""


def plain_periodicity(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, floor: float) -> np.ndarray:
    """The definition, one frame at a time: the window against the window one period later, linearly interpolated.

    The window is three periods of ``floor`` long, centred on the frame
    (its start clipped to the signal), and samples past the end count as 0.
    """
    n = int(3 * sample_rate / floor)
    longest = int(sample_rate / f0[f0 > 0].min()) if np.any(f0 > 0) else 0
    padded = np.concatenate([x, np.zeros(2 * n + longest + 2)])
    out = np.zeros(len(f0))
    for i in np.flatnonzero(f0 > 0):
        start = min(max(int(t[i] * sample_rate) - n // 2, 0), len(x))
        period = sample_rate / f0[i]
        lag = int(np.floor(period))
        frac = period - lag
        a = padded[start:start + n]
        b = (1 - frac) * padded[start + lag:start + lag + n] + frac * padded[start + lag + 1:start + lag + 1 + n]
        energy = np.sqrt(np.dot(a, a) * np.dot(b, b))
        out[i] = np.dot(a, b) / energy if energy > 0 else 0.0
    return out


@pytest.fixture(scope="module")
def voice():
    """Syllables with a gliding f0, so that periods fall between samples and windows cross voicing edges."""
    return vcfx.synthetic_voice(5.0, RATE, f0_hz=(110.0, 260.0, 150.0), syllable_rate_hz=3.0)


def test_periodicity_is_the_interpolated_autocorrelation_of_every_frame(voice):
    x = voice.audio.samples[0].astype(np.float64)  # as analysis gives it
    t = np.arange(0, len(x) / RATE + 0.05, 0.005)  # the last frames' windows run past the end, some wholly
    f0 = voice.f0_at(t)
    f0[::7] = 0.0  # unvoiced frames among the voiced ones
    assert len(t) > 3 * PERIODICITY_CHUNK  # several chunks, the last one partial
    period = RATE / f0[f0 > 0]
    assert np.ptp(period - np.floor(period)) > 0.9  # fractional parts across (0, 1)
    expected = plain_periodicity(x, f0, t, RATE, FLOOR)
    got = periodicity(x, f0, t, RATE, FLOOR)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    assert np.all(got[f0 == 0] == 0)  # unvoiced frames are exactly 0
    assert np.all(got[t * RATE - int(3 * RATE / FLOOR) // 2 >= len(x)] == 0)  # so are frames wholly past the end
    assert np.percentile(got, 75) > 0.9  # the voice repeats at its period: not a comparison of zeros


@pytest.mark.parametrize("f0_hz", [97.3, 333.3, 1234.5])
def test_periodicity_of_a_few_scattered_frames_matches_too(voice, f0_hz):
    """Frames far apart, in any order of magnitude of period, and near both ends of the signal."""
    x = voice.audio.samples[0].astype(np.float64)  # as analysis gives it
    end = len(x) / RATE
    t = np.array([0.0, 0.002, 0.4, 0.41, 0.9, end - 0.03, end - 0.004, end])
    f0 = np.full(len(t), f0_hz)
    np.testing.assert_allclose(periodicity(x, f0, t, RATE, FLOOR), plain_periodicity(x, f0, t, RATE, FLOOR),
                               rtol=0, atol=TOLERANCE)


def test_periodicity_of_a_signal_shorter_than_its_window():
    x = np.sin(2 * np.pi * 200.0 * np.arange(300) / RATE)
    t = np.array([0.0, 0.005, 0.01, 0.05])
    f0 = np.array([200.0, 0.0, 200.0, 150.0])
    got = periodicity(x, f0, t, RATE, FLOOR)
    np.testing.assert_allclose(got, plain_periodicity(x, f0, t, RATE, FLOOR), rtol=0, atol=TOLERANCE)
    assert got[1] == 0 and got[3] == 0  # unvoiced; window wholly past the end


@pytest.mark.parametrize("offset", [-0.5, -0.3, 0.0, 0.2, 0.45])
def test_parabola_vertex_finds_the_top_of_a_parabola_between_samples(offset):
    from vcfx_world import parabola_vertex

    values = [2.0 - 0.7 * (x - offset) ** 2 for x in (-1.0, 0.0, 1.0)]
    shift, height = parabola_vertex(*values)
    assert shift == pytest.approx(offset, abs=1e-12)
    assert height == pytest.approx(2.0, abs=1e-12)


def test_parabola_vertex_of_values_that_do_not_bend_down_is_the_middle():
    from vcfx_world import parabola_vertex

    assert parabola_vertex(1.0, 2.0, 3.0) == (0.0, 2.0)  # a line
    assert parabola_vertex(5.0, 2.0, 4.0) == (0.0, 2.0)  # a trough
    assert parabola_vertex(-1.0, -9.0, -25.0)[0] == -0.5  # a top 1.5 steps away is held half a step away

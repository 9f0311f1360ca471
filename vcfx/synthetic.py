"""Voices whose truth is known: a glottal source with a set f0 contour through set formants.

Tests and benchmarks judge effects against these, not against the vocoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from .audio import Audio, load

__all__ = ["SyntheticVoice", "synthetic_voice", "example_voice", "EXAMPLE_VOICE_TEXT"]

DEFAULT_FORMANTS_HZ = (700.0, 1220.0, 2600.0, 3300.0)
DEFAULT_BANDWIDTHS_HZ = (80.0, 90.0, 120.0, 150.0)
EXAMPLE_VOICE_TEXT = "A quiet voice can change its colour, its pitch and its pace."


@dataclass(frozen=True)
class SyntheticVoice:
    """A synthetic voice and the truth it was made from.

    Attributes
    ----------
    audio : Audio
    f0_points_hz : tuple of float
        f0 values spaced evenly over the duration, interpolated in log-frequency.
    formants_hz, bandwidths_hz : tuple of float
        Centre frequencies and bandwidths of the resonators.
    """

    audio: Audio
    f0_points_hz: tuple[float, ...]
    formants_hz: tuple[float, ...]
    bandwidths_hz: tuple[float, ...]

    def f0_at(self, times_s: np.ndarray) -> np.ndarray:
        """The true f0 (Hz) at ``times_s``."""
        pts = np.log(np.asarray(self.f0_points_hz, dtype=float))
        grid = np.linspace(0.0, self.audio.duration_s, len(pts)) if len(pts) > 1 else np.zeros(1)
        return np.exp(np.interp(times_s, grid, pts))


def _resonate(x: np.ndarray, centre: float, bandwidth: float, sample_rate: int) -> np.ndarray:
    from scipy import signal  # imported here: scipy.signal takes a second to import

    r = np.exp(-np.pi * bandwidth / sample_rate)
    theta = 2 * np.pi * centre / sample_rate
    a = [1.0, -2 * r * np.cos(theta), r * r]
    b = [1.0 - r]  # unit-ish gain near the centre
    return signal.lfilter(b, a, x)


def synthetic_voice(
    duration_s: float = 2.0,
    sample_rate: int = 22050,
    f0_hz: float | tuple[float, ...] = 160.0,
    formants_hz: tuple[float, ...] = DEFAULT_FORMANTS_HZ,
    bandwidths_hz: tuple[float, ...] = DEFAULT_BANDWIDTHS_HZ,
    channels: int = 1,
    syllable_rate_hz: float = 0.0,
    peak: float = 0.5,
) -> SyntheticVoice:
    """Render a vowel-like voice with a known f0 contour and known formants.

    The source is a band-limited harmonic series (amplitude 1/k, like a
    glottal pulse train with lip radiation) whose phase integrates the f0
    contour exactly; it passes through a cascade of two-pole formant
    resonators.

    Parameters
    ----------
    duration_s : float
    sample_rate : int
    f0_hz : float or tuple of float
        A constant f0, or values spaced evenly over the duration,
        interpolated in log-frequency.
    formants_hz, bandwidths_hz : tuple of float
    channels : int
        Copies of the voice, one per channel.
    syllable_rate_hz : float
        When positive, the level rises and falls this many times a second,
        with short silences between, like syllables.
    peak : float
        Peak amplitude of the result.

    Returns
    -------
    SyntheticVoice
    """
    points = (float(f0_hz),) if np.isscalar(f0_hz) else tuple(float(f) for f in f0_hz)
    n = int(round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    truth = SyntheticVoice(Audio(np.zeros((1, max(n, 1))), sample_rate), points,
                           tuple(formants_hz), tuple(bandwidths_hz))
    f0 = truth.f0_at(t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    source = np.zeros(n)
    for k in range(1, int(0.45 * sample_rate / f0.min()) + 1):
        alive = k * f0 < 0.45 * sample_rate
        source += np.where(alive, np.sin(k * phase) / k, 0.0)
    x = source
    for centre, bw in zip(formants_hz, bandwidths_hz):
        x = _resonate(x, centre, bw, sample_rate)
    if syllable_rate_hz > 0:
        env = np.clip(np.sin(np.pi * syllable_rate_hz * t) ** 2 * 1.25 - 0.25, 0.0, None)
        x = x * env
    fade = min(n // 10, int(0.01 * sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    x = peak * x / np.abs(x).max()
    audio = Audio(np.repeat(x[np.newaxis, :], channels, axis=0), sample_rate)
    return SyntheticVoice(audio, points, tuple(formants_hz), tuple(bandwidths_hz))


def example_voice() -> Audio:
    """The built-in example: one spoken English sentence, 22.05 kHz mono, 4.5 s.

    The sentence is :data:`EXAMPLE_VOICE_TEXT`, rendered with espeak-ng.
    """
    with resources.as_file(resources.files("vcfx") / "data" / "example_voice.flac") as path:
        return load(path)

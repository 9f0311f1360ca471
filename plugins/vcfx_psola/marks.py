"""Pitch marks: one per glottal pulse where voiced, evenly spaced where not."""

from __future__ import annotations

import numpy as np

UNVOICED_SPACING_S = 0.01
"""Distance between marks (and half-width of grains) where the voice is unvoiced or silent."""

LOWPASS_HARMONICS = 1.5
"""Marks sit on maxima of the signal low-passed at this many times the voice's median f0."""


def f0_per_sample(f0: np.ndarray, frame_period_s: float, samples: int, sample_rate: int) -> np.ndarray:
    """f0 of the nearest frame at every sample (0 unvoiced)."""
    frame = np.clip(np.rint(np.arange(samples) / sample_rate / frame_period_s).astype(int), 0, len(f0) - 1)
    return f0[frame]


def mark_rate(f0_at_samples: np.ndarray) -> np.ndarray:
    """Marks per second at every sample of :func:`f0_per_sample`: f0 where voiced, ``1 / UNVOICED_SPACING_S`` elsewhere."""
    return np.where(f0_at_samples > 0, f0_at_samples, 1.0 / UNVOICED_SPACING_S)


def marks_along(rate: np.ndarray, sample_rate: int) -> np.ndarray:
    """Sample indices where the integrated ``rate`` (marks per second at each sample) passes a whole number, 0 first."""
    phase = np.cumsum(rate) / sample_rate
    phase -= phase[0]
    return np.concatenate([[0], np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1])


def lowpass(x: np.ndarray, f0: np.ndarray, sample_rate: int) -> np.ndarray:
    """``x`` low-passed (zero phase) to about its fundamental, so a period holds one clear maximum."""
    from scipy import signal

    voiced = f0[f0 > 0]
    cutoff = LOWPASS_HARMONICS * float(np.median(voiced)) if len(voiced) else 200.0
    sos = signal.butter(4, min(cutoff, 0.45 * sample_rate), fs=sample_rate, output="sos")
    return signal.sosfiltfilt(sos, x)


def pitch_marks(x: np.ndarray, f0: np.ndarray, frame_period_s: float,
                sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Analysis marks of the mono signal ``x`` and the half-width (samples) of each mark's grain.

    Marks are first placed one period apart along the f0 contour; a voiced
    mark then moves to the maximum of the low-passed signal within half a
    period of where it was predicted. Since the low-passed voice holds one
    maximum per period, every mark of a voiced stretch lands on the same
    point of its cycle. Unvoiced marks keep their even spacing.
    """
    f = f0_per_sample(f0, frame_period_s, len(x), sample_rate)
    rate = mark_rate(f)
    predicted = marks_along(rate, sample_rate)
    periods = np.maximum(1, np.rint(sample_rate / rate[predicted])).astype(int)
    voiced = f[predicted] > 0
    marks = predicted.copy()
    if voiced.any():
        lp = lowpass(x, f0, sample_rate)
        which = np.flatnonzero(voiced)
        which = which[np.argsort(periods[which], kind="stable")]  # a chunk's windows are about as wide
        for chunk in np.array_split(which, max(1, len(which) // 1024)):
            centre, half = predicted[chunk], periods[chunk] // 2
            offsets = np.arange(-half.max(), half.max() + 1)
            idx = centre[:, None] + offsets[None, :]
            inside = (np.abs(offsets)[None, :] <= half[:, None]) & (idx >= 0) & (idx < len(x))
            values = np.where(inside, lp[np.clip(idx, 0, len(x) - 1)], -np.inf)
            marks[chunk] = centre + offsets[np.argmax(values, axis=1)]
    order = np.argsort(marks, kind="stable")
    marks, periods = marks[order], periods[order]
    # a refined voiced mark can land next to an unvoiced one at a voicing edge
    keep = np.concatenate([[True], np.diff(marks) > periods[1:] // 4])
    return marks[keep], periods[keep]

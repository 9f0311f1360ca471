"""Pitch marks: one per glottal pulse where voiced, evenly spaced where not."""

from __future__ import annotations

import numpy as np

UNVOICED_SPACING_S = 0.01
"""Distance between marks (and half-width of grains) where the voice is unvoiced or silent."""

COUNT_TOLERANCE = 1e-9
"""Marks by which a count of marks (:func:`marks_along`) may fall short of a whole number and still reach it."""

LOWPASS_HARMONICS = 1.5
"""Marks sit on maxima of the signal low-passed at this many times the voice's median f0."""


def frame_starts(frames: int, frame_period_s: float, samples: int, sample_rate: int) -> np.ndarray:
    """First sample of each frame's run of samples: those whose nearest frame it is (clipped to ``samples``).

    Sample ``s`` belongs to frame ``rint(s / sample_rate / frame_period_s)``
    (the first and last frames take the samples before and after the
    frames); the boundaries are found from the frames, not from every sample.
    """
    def nearest(s: np.ndarray) -> np.ndarray:
        return np.rint(s / sample_rate / frame_period_s)

    k = np.arange(1, frames)
    start = np.ceil((k - 0.5) * (sample_rate * frame_period_s)).astype(np.int64)
    start += nearest(start) < k  # the boundary as the samples' own rounding places it
    start -= nearest(start - 1) >= k
    return np.minimum(np.concatenate([[0], start]), samples)


def frame_of(samples: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The frame each of ``samples`` belongs to (:func:`frame_starts`)."""
    return np.searchsorted(starts, samples, side="right") - 1


def mark_rate(f0: np.ndarray) -> np.ndarray:
    """Marks per second in each frame: f0 where voiced, ``1 / UNVOICED_SPACING_S`` elsewhere."""
    return np.where(f0 > 0, f0, 1.0 / UNVOICED_SPACING_S)


def marks_along(rate: np.ndarray, starts: np.ndarray, samples: int, sample_rate: int) -> np.ndarray:
    """Samples where the rate integrated sample by sample reaches a whole number of marks, 0 first.

    ``rate`` is marks per second in each frame, constant over the frame's
    samples (:func:`frame_starts`); sample ``s`` adds ``rate / sample_rate``
    to the count, sample 0 starting it at 0. Within a frame the count grows
    linearly, so where it reaches each whole number follows from the count
    at the frame's start. A count within :data:`COUNT_TOLERANCE` of a whole
    number has reached it: where the count lands exactly on one (10 ms
    apart at 16 kHz do), rounding does not decide which sample the mark
    falls on.
    """
    first = np.maximum(starts, 1)  # sample 0 only starts the count
    ends = np.append(starts[1:], samples)
    gain = np.maximum(ends - first, 0) * (rate / sample_rate)
    before = np.concatenate([[0.0], np.cumsum(gain)[:-1]])  # the count before each frame's first sample
    reached = np.floor(before + COUNT_TOLERANCE).astype(np.int64)
    passed = np.floor(before + gain + COUNT_TOLERANCE).astype(np.int64) - reached
    frame = np.repeat(np.arange(len(rate)), passed)
    whole = reached[frame] + 1 + np.arange(len(frame)) - np.repeat(np.cumsum(passed) - passed, passed)
    wait = (whole - COUNT_TOLERANCE - before[frame]) * (sample_rate / rate[frame])
    at = first[frame] - 1 + np.ceil(wait).astype(np.int64)
    return np.concatenate([[0], np.clip(at, first[frame], ends[frame] - 1)])


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
    starts = frame_starts(len(f0), frame_period_s, len(x), sample_rate)
    rate = mark_rate(f0)
    predicted = marks_along(rate, starts, len(x), sample_rate)
    frame = frame_of(predicted, starts)
    periods = np.maximum(1, np.rint(sample_rate / rate[frame])).astype(int)
    voiced = f0[frame] > 0
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

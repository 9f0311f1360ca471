"""Pitch marks: one per glottal pulse where voiced, evenly spaced where not."""

from __future__ import annotations

import numpy as np

import vcfx

UNVOICED_SPACING_S = 0.01
"""Distance between marks (and half-width of grains) where the voice is unvoiced or silent."""

COUNT_TOLERANCE = 1e-9
"""Marks by which a count of marks (:func:`marks_along`) may fall short of a whole number and still reach it."""

LOWPASS_HARMONICS = 1.5
"""A voiced stretch's first mark sits on a maximum of the signal low-passed at this many times the voice's median f0."""

COARSE_RATE_HZ = 11025
"""Rate (at least) the marks are first looked for at (:func:`coarse`), before they are placed to the sample."""


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


def marks_along(rate: np.ndarray, starts: np.ndarray, samples: int, sample_rate: int,
                exact: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Samples where the rate integrated sample by sample reaches a whole number of marks, 0 first.

    With ``exact``, also the positions (in fractions of a sample) where it
    does, each less than one sample before its sample.

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
    at = np.concatenate([[0], np.clip(at, first[frame], ends[frame] - 1)])
    if not exact:
        return at
    return at, np.concatenate([[0.0], np.clip(first[frame] - 1 + wait, first[frame] - 1, ends[frame] - 1)])


def lowpass(x: np.ndarray, f0: np.ndarray, sample_rate: float) -> np.ndarray:
    """``x`` low-passed (zero phase) to about its fundamental, so a period holds one clear maximum."""
    from scipy import signal

    voiced = f0[f0 > 0]
    cutoff = LOWPASS_HARMONICS * float(np.median(voiced)) if len(voiced) else 200.0
    sos = signal.butter(4, min(cutoff, 0.45 * sample_rate), fs=sample_rate, output="sos")
    return signal.sosfiltfilt(sos, x)


def coarse(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """``x`` at a rate near :data:`COARSE_RATE_HZ` (the mean of every ``q`` samples), and ``q``."""
    q = max(1, sample_rate // COARSE_RATE_HZ)
    if q == 1:
        return np.ascontiguousarray(x, dtype=np.float64), 1
    n = len(x) // q * q
    return np.ascontiguousarray(x[:n].reshape(-1, q).mean(axis=1), dtype=np.float64), q


def pitch_marks(x: np.ndarray, f0: np.ndarray, frame_period_s: float,
                sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Analysis marks of the mono signal ``x`` and the half-width (samples) of each mark's grain.

    Marks follow one another along the f0 contour. The first mark of a
    voiced stretch sits on the maximum of the signal low-passed to about its
    fundamental, within half a period of where the contour predicts it (half
    a period into the stretch's first frame). Each next voiced mark is
    where the waveform repeats the period around the last mark best, at a
    lag within -20 / +25 % of the period: so every mark of a stretch sits on
    the same point of its cycle however the cycle's shape changes, as
    Praat's pulses do. The lag is found at about 11 kHz, then to the sample,
    then to a fraction of a sample (the vertex of a parabola through the
    correlations around it), so the marks are positions, not sample
    indices. Unvoiced marks are :data:`UNVOICED_SPACING_S` apart.
    """
    starts = frame_starts(len(f0), frame_period_s, len(x), sample_rate)
    rough, q = coarse(x, sample_rate)
    voiced = f0 > 0
    lp = lowpass(rough, f0, sample_rate / q) if voiced.any() else np.zeros(len(rough))
    # a voiced mark comes at least a quarter of its period after the last, an unvoiced one a period or 10 ms
    lengths = np.diff(np.append(starts, len(x)))
    room = int(np.sum(lengths * np.where(voiced, 4.0 * f0, 1.0 / UNVOICED_SPACING_S)) / sample_rate) + 2 * len(f0) + 2
    marks, periods = np.empty(room, dtype=np.float64), np.empty(room, dtype=np.int64)
    count = _chain_marks(np.ascontiguousarray(x, dtype=np.float64), rough, q, lp, np.asarray(f0, dtype=np.float64),
                         starts, float(sample_rate), UNVOICED_SPACING_S * sample_rate, marks, periods)
    return marks[:count], periods[:count]


@vcfx.compiled
def _correlation(x, at, half, lag):
    """Normalised correlation of ``x`` around ``at`` with ``x`` around ``at + lag`` (``half`` each side)."""
    if at - half < 0 or at + lag + half >= len(x):
        return 0.0
    c, e0, e1 = 0.0, 0.0, 0.0
    for k in range(-half, half + 1):
        c += x[at + k] * x[at + lag + k]
        e0 += x[at + k] * x[at + k]
        e1 += x[at + lag + k] * x[at + lag + k]
    return c / np.sqrt(e0 * e1) if e0 * e1 > 0 else 0.0


@vcfx.compiled
def repeat_lag(x, at, half, lo, hi):
    """The lag in ``lo..hi`` at which ``x`` around ``at`` (``half`` each side) repeats best; -1 if none."""
    if at - half < 0:
        return -1
    best, best_c = -1, -2.0
    for lag in range(lo, min(hi, len(x) - 1 - half - at) + 1):
        c = _correlation(x, at, half, lag)
        if c > best_c:
            best, best_c = lag, c
    return best


@vcfx.compiled
def _peak_near(lp, at, half, after):
    """Index of the highest local maximum of ``lp`` within ``half`` of ``at`` and past ``after``; -1 if none."""
    best = -1
    for i in range(max(at - half, after + 1, 1), min(at + half, len(lp) - 2) + 1):
        if lp[i] >= lp[i - 1] and lp[i] > lp[i + 1] and (best < 0 or lp[i] > lp[best]):
            best = i
    return best


@vcfx.compiled
def _chain_marks(x, rough, q, lp, f0, starts, sample_rate, unvoiced_step, marks, periods):
    """Marks (first at sample 0) into ``marks``, grain half-widths into ``periods``; returns how many.

    ``rough`` and ``lp`` are at the rate ``sample_rate / q`` (:func:`coarse`).
    """
    n, frames = len(x), len(f0)
    last, count, last_voiced, fraction = 0, 0, False, 0.0  # the last mark is at last + fraction
    while count < len(marks):  # room for every mark (pitch_marks); the check only keeps writes inside
        frame = np.searchsorted(starts, last, side="right") - 1
        step = sample_rate / f0[frame] if f0[frame] > 0 else unvoiced_step
        marks[count] = last + fraction
        periods[count] = max(1, int(np.rint(step)))
        count += 1
        predicted = last + step
        if f0[frame] <= 0:  # the voice may start before the next unvoiced mark is due
            g = frame + 1
            while g < frames and starts[g] <= predicted and f0[g] <= 0:
                g += 1
            if g < frames and starts[g] <= predicted:
                predicted = starts[g] + 0.5 * sample_rate / f0[g]
        p = int(np.rint(predicted))
        if p >= n:
            return count
        g = np.searchsorted(starts, p, side="right") - 1
        voiced = f0[g] > 0
        if voiced:
            period = sample_rate / f0[g]
            half, soonest = int(period // 2), int(period // 4) + 1
            found = -1
            if last_voiced:
                lag = repeat_lag(rough, last // q, half // q, int(0.8 * period) // q, int(1.25 * period) // q + 1)
                if lag > 0:
                    found = repeat_lag(x, last, half, max(lag * q - q, soonest), lag * q + q)
                if found > 0:
                    p = last + found
                    before = _correlation(x, last, half, found - 1)
                    at = _correlation(x, last, half, found)
                    after = _correlation(x, last, half, found + 1)
                    curve = before - 2.0 * at + after
                    shift = 0.5 * (before - after) / curve if curve < 0 else 0.0
                    fraction += min(0.5, max(-0.5, shift))
                    whole = int(np.rint(fraction))
                    p, fraction = p + whole, fraction - whole
            if found <= 0:
                fraction = 0.0
                peak = _peak_near(lp, p // q, half // q, (last + soonest) // q)
                if peak >= 0:
                    p = max(peak * q, last + soonest)
        if not voiced:
            fraction = 0.0
        if p >= n:
            return count
        last, last_voiced = p, voiced
    return count

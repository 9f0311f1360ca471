"""Pitch marks: one per glottal pulse where voiced, evenly spaced where not."""

from __future__ import annotations

import numpy as np

import vcfx
from vcfx_world import parabola_vertex, voiced_stretches

UNVOICED_SPACING_S = 0.01
"""Distance between marks (and half-width of grains) where the voice is unvoiced or silent."""

COUNT_TOLERANCE = 1e-9
"""Marks by which a count of marks (:func:`marks_along`) may fall short of a whole number and still reach it."""

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

    Each voiced stretch is marked outwards from its loudest frame, much as
    Praat places its pulses from a stretch's middle: the first mark on the
    waveform's largest excursion (either sign) within half a period of that
    frame's centre, where the cycle is clearest; each next mark, forwards
    and backwards, where the waveform repeats the period around the last
    mark best, at a distance within -20 / +25 % of the period, until the
    stretch ends. So every mark of a stretch sits on the same point of its
    cycle, its strongest excursion, however the cycle's shape changes. The
    distance is found at about 11 kHz, then to the sample, then to a
    fraction of a sample (the vertex of a parabola through the correlations
    around it), so the marks are positions, not sample indices. Between
    voiced stretches marks are about :data:`UNVOICED_SPACING_S` apart, the
    first at sample 0.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0 = np.asarray(f0, dtype=np.float64)
    starts = frame_starts(len(f0), frame_period_s, len(x), sample_rate)
    ends = np.append(starts[1:], len(x))
    rough, q = coarse(x, sample_rate)
    voiced = [m for m in (_stretch_marks(x, rough, q, f0, starts, ends, a, b, float(sample_rate))
                          for a, b in voiced_stretches(f0)) if len(m)]
    step = UNVOICED_SPACING_S * sample_rate
    marks, periods = [], []
    for k, (begin, end) in enumerate(zip([0.0] + [m[-1] for m in voiced], [m[0] for m in voiced] + [len(x) - 1.0])):
        between = max(1, int(np.rint((end - begin) / step)))
        fill = begin + (end - begin) * np.arange(between) / between
        marks.append(fill[1:] if k else fill[fill < end])  # neither the last voiced mark nor the next twice
        periods.append(np.full(len(marks[-1]), max(1, int(np.rint(step)))))
        if k < len(voiced):
            marks.append(voiced[k])
            periods.append(np.rint(sample_rate / f0[frame_of(np.floor(voiced[k]).astype(np.int64), starts)]))
    return np.concatenate(marks), np.maximum(1, np.concatenate(periods)).astype(np.int64)


@vcfx.compiled
def _correlation(x, at, half, lag):
    """Normalised correlation of ``x`` around ``at`` with ``x`` around ``at + lag`` (``half`` each side)."""
    if at - half < 0 or at + lag - half < 0 or at + half >= len(x) or at + lag + half >= len(x):
        return 0.0
    c, e0, e1 = 0.0, 0.0, 0.0
    for k in range(-half, half + 1):
        c += x[at + k] * x[at + lag + k]
        e0 += x[at + k] * x[at + k]
        e1 += x[at + lag + k] * x[at + lag + k]
    return c / np.sqrt(e0 * e1) if e0 * e1 > 0 else 0.0


@vcfx.compiled
def repeat_lag(x, at, half, lo, hi):
    """The lag in ``lo..hi`` (negative: backwards) at which ``x`` around ``at`` (``half`` each side) repeats
    best; 0 if the signal holds none of them."""
    best, best_c = 0, -2.0
    for lag in range(lo, hi + 1):
        if lag == 0 or min(at, at + lag) - half < 0 or max(at, at + lag) + half >= len(x):
            continue
        c = _correlation(x, at, half, lag)
        if c > best_c:
            best, best_c = lag, c
    return best


@vcfx.compiled
def refined_lag(x, at, half, lag):
    """``lag`` (:func:`repeat_lag`) to a fraction of a sample: the vertex of the parabola through the
    correlations at ``lag - 1``, ``lag`` and ``lag + 1``."""
    shift, _ = parabola_vertex(_correlation(x, at, half, lag - 1), _correlation(x, at, half, lag),
                               _correlation(x, at, half, lag + 1))
    return lag + shift


@vcfx.compiled
def _next_mark(x, rough, q, at, period, direction):
    """Distance (to a fraction of a sample; negative backwards, ``direction`` -1) from the mark at sample ``at``
    to the next, where the period around it repeats best; 0 if the signal ends first.

    ``rough`` is ``x`` at ``1 / q`` of its rate (:func:`coarse`)."""
    half = int(period // 2)
    lo, hi = int(0.8 * period), int(1.25 * period) + 1
    if direction > 0:
        lag = repeat_lag(rough, at // q, half // q, lo // q, hi // q + 1)
        found = repeat_lag(x, at, half, max(lag * q - q, lo), lag * q + q) if lag != 0 else 0
    else:
        lag = repeat_lag(rough, at // q, half // q, -(hi // q + 1), -(lo // q))
        found = repeat_lag(x, at, half, lag * q - q, min(lag * q + q, -lo)) if lag != 0 else 0
    return refined_lag(x, at, half, found) if found != 0 else 0.0


@vcfx.compiled
def _stretch_marks(x, rough, q, f0, starts, ends, first, stop, sample_rate):
    """Marks, in order, of the voiced frames ``first`` to ``stop`` (excluded) (:func:`pitch_marks`)."""
    lo, hi = starts[first], ends[stop - 1]
    loudest, power = first, -1.0
    for f in range(first, stop):
        p = np.mean(x[starts[f]:ends[f]] ** 2) if ends[f] > starts[f] else 0.0
        if p > power:
            loudest, power = f, p
    centre = (starts[loudest] + ends[loudest]) // 2
    period = sample_rate / f0[loudest]
    a, b = max(lo, int(centre - period / 2)), min(hi, int(centre + period / 2) + 1)
    if b <= a:
        return np.empty(0)
    anchor = a + np.argmax(np.abs(x[a:b]))
    room = int((hi - lo) * f0[first:stop].max() / (0.75 * sample_rate)) + 4  # marks come 0.8 periods apart or more
    back, forth = np.empty(room), np.empty(room)
    counts = np.zeros(2, dtype=np.int64)
    for side in range(2):
        direction = 1 if side == 0 else -1
        marks = forth if side == 0 else back
        at, n = float(anchor), 0
        while n < room:
            whole = int(np.rint(at))
            f = f0[np.searchsorted(starts, whole, side="right") - 1]
            if f <= 0:
                break
            step = _next_mark(x, rough, q, whole, sample_rate / f, direction)
            at += step if step != 0.0 else direction * sample_rate / f
            if at < lo or at >= hi:
                break
            marks[n] = at
            n += 1
        counts[side] = n
    out = np.empty(counts[0] + counts[1] + 1)
    out[: counts[1]] = back[: counts[1]][::-1]
    out[counts[1]] = anchor
    out[counts[1] + 1:] = forth[: counts[0]]
    return out

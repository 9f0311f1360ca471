"""f0 tracking for the WORLD domain: DIO or Harvest, StoneMask, and a check for octave errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyworld

DIO_RATE_HZ = 7000
"""DIO tracks f0 on the signal decimated to about this rate (its ``speed``).

Measured against Praat at 16-48 kHz: as many frames within 50 cents and
as many voiced frames found as at the full rate (within 1 %), three to five
times faster (docs/measurements.md). StoneMask then refines f0 on the
full-rate signal.
"""

OCTAVE_PERIODICITY = 0.6
OCTAVE_MARGIN = 0.1
"""A frame repeating this well at half its tracked period was tracked an octave low (:func:`raise_octave_errors`)."""


def dio_speed(sample_rate: int) -> int:
    """DIO's decimation factor for ``sample_rate``: see :data:`DIO_RATE_HZ`."""
    return min(12, max(1, sample_rate // DIO_RATE_HZ))


def track_f0(x: np.ndarray, sample_rate: int, opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz, 0 where unvoiced) and frame times (s) of one channel, before refinement.

    DIO's f0 is refined by StoneMask frame by frame afterwards (see
    :func:`vcfx_world.analysis.analyze_channels`); Harvest's needs no refinement.
    """
    period = opts["frame_period_ms"]
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    if opts["f0_method"] == "harvest":
        return pyworld.harvest(x, sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=period)
    return pyworld.dio(x, sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=period,
                       speed=dio_speed(sample_rate))


def periodicity(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, f0_floor_hz: float) -> np.ndarray:
    """Normalised autocorrelation of each voiced frame at one period of its f0; 0 where unvoiced.

    As in Praat's voicing decision, the window is three periods of the
    lowest f0 searched: steady voice scores near 1, creak and breathy edges
    well below.
    """
    n = int(3 * sample_rate / f0_floor_hz)
    out = np.zeros(len(f0))
    voiced = np.flatnonzero(f0 > 0)
    if not len(voiced):
        return out
    lags = np.rint(sample_rate / f0[voiced]).astype(int)
    starts = np.clip((t[voiced] * sample_rate).astype(int) - n // 2, 0, len(x))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, (0, n + lags.max())), n)
    a, b = windows[starts], windows[starts + lags]
    energy = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    out[voiced] = np.einsum("ij,ij->i", a, b) / np.where(energy > 0, energy, np.inf)
    return out


def pitch_runs(f0: np.ndarray, jump_semitones: float = 6.0) -> list[tuple[int, int]]:
    """(start, end) frames of every run of voiced frames whose f0 never jumps by ``jump_semitones`` or more."""
    voiced = f0 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.abs(np.diff(np.log2(np.where(voiced, f0, 1.0)))) * 12
    breaks = np.flatnonzero(~voiced[:-1] | ~voiced[1:] | (steps >= jump_semitones)) + 1
    runs = zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(f0)]]))
    return [(int(a), int(b)) for a, b in runs if voiced[a]]


def raise_octave_errors(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int,
                        opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """f0 with frames tracked an octave low put right (doubled, refined by StoneMask), and its :func:`periodicity`.

    A signal that repeats every period also repeats every two, so a tracker
    can settle on twice the true period. A frame looks like that when it
    repeats at half its tracked period (:func:`periodicity` at ``2 * f0`` at
    least :data:`OCTAVE_PERIODICITY`, and within :data:`OCTAVE_MARGIN` of
    its periodicity at ``f0``); creak, whose periods alternate, does not.
    Such frames are doubled, and so is every run of voiced frames without a
    jump (:func:`pitch_runs`) in which most frames look like that, as long as
    twice the f0 stays below ``f0_ceil_hz``.
    """
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    at_f0 = periodicity(x, f0, t, sample_rate, floor)
    at_double = periodicity(x, 2 * f0, t, sample_rate, floor)
    low = (at_double >= OCTAVE_PERIODICITY) & (at_double >= at_f0 - OCTAVE_MARGIN)
    doubled = low.copy()
    for a, b in pitch_runs(f0):
        if low[a:b].mean() > 0.5:
            doubled[a:b] = True
    doubled &= 2 * f0 < ceil
    if not doubled.any():
        return f0, at_f0
    f0 = f0.copy()
    times = np.ascontiguousarray(t[doubled])
    f0[doubled] = pyworld.stonemask(x, 2 * f0[doubled], times, sample_rate)
    at_f0[doubled] = periodicity(x, f0[doubled], times, sample_rate, floor)
    return f0, at_f0

"""The level a voice keeps when its pitch goes up: harmonics that sample the envelope more sparsely.

A periodic frame carries its spectral envelope's power only at its
harmonics. CheapTrick measures the envelope from the harmonics of the
analysed f0, so there they carry the voice's power; raised an octave,
every second one is gone, and a vowel whose first formant lay between the
new harmonics (an /i/ or /u/ at 300 Hz, raised to 600) loses most of its
power: 10-20 dB on such frames, while the frames around keep theirs. The
output's overall level is restored afterwards (``synthesis._fit_level``),
so the quiet vowels stay quiet against the rest. Here each frame whose f0
went up is given back the power its analysed harmonics carried; where f0
went down the harmonics sample the envelope more densely, and their power
converges on what the analysed ones carried, so nothing is changed.
"""

from __future__ import annotations

import numpy as np

SMOOTHING_MS = 15.0
"""Half-width of the triangle the gains (in dB) are smoothed over, along voiced frames: the 30 ms a level is heard over."""

FRAMES_PER_CHUNK = 1024
"""Frames whose harmonics are sampled at once (bounds the memory, whatever the duration)."""


def harmonic_power(sp: np.ndarray, ap: np.ndarray, rows: np.ndarray, f0: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power of the periodic share of frames ``rows`` carried at the harmonics of their ``f0`` (> 0).

    The periodic share is the envelope ``sp`` times ``1 - ap**2``. Each
    harmonic below Nyquist reads it linearly between bins and stands for the
    ``f0`` Hz of spectrum around it, so a dense set of harmonics sums to the
    share's power. Frames are taken in order of f0, :data:`FRAMES_PER_CHUNK`
    at a time, each chunk as far as its lowest f0 has harmonics.
    """
    out = np.zeros(len(rows))
    bins = sp.shape[1]
    bin_hz = sample_rate / (2 * (bins - 1))
    sp, ap = np.ascontiguousarray(sp).ravel(), np.ascontiguousarray(ap).ravel()
    order = np.argsort(f0)
    for a in range(0, len(order), FRAMES_PER_CHUNK):
        chunk = order[a:a + FRAMES_PER_CHUNK]
        step = (f0[chunk] / bin_hz)[:, np.newaxis]
        position = np.arange(1, int((bins - 1) / step[0, 0]) + 1) * step
        inside = position <= bins - 1
        lower = np.minimum(position.astype(np.int64), bins - 2)
        w = position - lower
        at = rows[chunk, np.newaxis] * bins + lower
        below, above = sp[at] * (1 - np.square(ap[at])), sp[at + 1] * (1 - np.square(ap[at + 1]))
        out[chunk] = np.einsum("ij,ij->i", below + (above - below) * w, inside) * step[:, 0]
    return out


def level_gains(f0: np.ndarray, analysed_f0: np.ndarray | None, sp: np.ndarray, ap: np.ndarray, sample_rate: int,
                period_ms: float) -> np.ndarray | None:
    """Power gain per frame that gives each frame whose f0 went up the power its analysed harmonics carried.

    The gain is the power at the analysed f0's harmonics over that at the
    new f0's (the aperiodic share, which no harmonic carries, counted in
    both), in frames voiced before and after whose f0 rose; 1 elsewhere.
    In dB it is smoothed along the voiced frames over
    :data:`SMOOTHING_MS` either side. None when there is nothing to
    change (no analysed f0 known, or no frame went up).
    """
    if analysed_f0 is None or len(analysed_f0) != len(f0):
        return None
    raised = (analysed_f0 > 0) & (f0 > analysed_f0)
    if not raised.any():
        return None
    rows = np.flatnonzero(raised)
    lo, hi = rows[0], rows[-1] + 1
    noise = np.einsum("ij,ij,ij->i", sp[lo:hi], ap[lo:hi], ap[lo:hi])[rows - lo]
    kept = harmonic_power(sp, ap, rows, analysed_f0[rows], sample_rate) + noise
    now = harmonic_power(sp, ap, rows, f0[rows], sample_rate) + noise
    db = np.zeros(len(f0))
    ok = (now > 0) & (kept > 0)
    db[rows[ok]] = 10.0 * np.log10(kept[ok] / now[ok])
    voiced = (f0 > 0).astype(np.float64)
    reach = max(1, int(round(SMOOTHING_MS / period_ms)))
    triangle = 1.0 - np.abs(np.arange(-reach, reach + 1)) / (reach + 1)
    weight = np.convolve(voiced, triangle, mode="same")
    smoothed = np.convolve(db * voiced, triangle, mode="same") / np.maximum(weight, 1e-12)
    return np.where(f0 > 0, np.power(10.0, smoothed / 10.0), 1.0)

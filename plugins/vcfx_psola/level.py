"""The output's level: voiced grains scaled so that every moment is as loud as the input it came from."""

from __future__ import annotations

import numpy as np

import vcfx

from .marks import frame_starts
from .state import PsolaState

LEVEL_WINDOW_S = 0.02
"""Shortest span (s) the levels are compared over; a longer one holds :data:`LEVEL_WINDOW_PERIODS` target periods."""

LEVEL_WINDOW_PERIODS = 3
"""Target periods the levels are compared over, so that no gain follows the pulses of one period."""

GAIN_RANGE = (0.25, 4.0)
"""The least and most the voiced grains are scaled by."""


@vcfx.compiled
def frame_mean_square(y, starts):
    """Mean square of ``y`` (channels x samples, all channels together) over each frame's run of samples."""
    out = np.zeros(len(starts))
    for k in range(len(starts)):
        end = starts[k + 1] if k + 1 < len(starts) else y.shape[1]
        total = 0.0
        for c in range(y.shape[0]):
            for s in range(starts[k], end):
                total += y[c, s] * y[c, s]
        if end > starts[k]:
            out[k] = total / ((end - starts[k]) * y.shape[0])
    return out


@vcfx.compiled
def _mix_into(voiced, unvoiced, gain, hop):
    """``voiced`` (in place) times ``gain``, one per frame (frame ``k`` at sample ``k * hop``, linear between), plus
    ``unvoiced``."""
    last = len(gain) - 1
    for c in range(voiced.shape[0]):
        for k in range(last + 1):
            first = int(np.ceil(k * hop))
            end = voiced.shape[1] if k == last else min(int(np.ceil((k + 1) * hop)), voiced.shape[1])
            step = 0.0 if k == last else (gain[k + 1] - gain[k]) / hop
            for s in range(first, end):
                voiced[c, s] = voiced[c, s] * (gain[k] + (s - k * hop) * step) + unvoiced[c, s]
    return voiced


def smoothed(power: np.ndarray, width: int) -> np.ndarray:
    """``power`` averaged under a Hann window ``width`` frames wide, the window cut off (and renormalised) at the ends."""
    window = np.hanning(min(width, len(power) - 1 + len(power) % 2) + 2)[1:-1]  # odd, no wider than ``power``
    return np.convolve(power, window, "same") / np.convolve(np.ones(len(power)), window, "same")


def leveled(state: PsolaState, x: np.ndarray, voiced: np.ndarray, unvoiced: np.ndarray) -> np.ndarray:
    """The output: the voiced grains ``voiced`` (overwritten) scaled to give it the level of the input ``x``, plus
    ``unvoiced``.

    Unvoiced grains copy the input in place under windows that sum to one,
    so they keep its level as they are. Voiced grains do not: lowered in
    pitch, grains two analysis periods wide lie a target period apart with
    gaps between them, and the voice gets quieter (about 4 dB an octave
    down, as in Praat's Change gender). Over every :data:`LEVEL_WINDOW_PERIODS` target periods
    (at least :data:`LEVEL_WINDOW_S`), the voiced grains are scaled so that
    they and the unvoiced ones together have the mean square of the input
    at the time the output came from (``state.source_s``), all channels
    together so that a stereo image stays as it was. Scaling the whole
    output to the input's RMS instead made noise and breath 2-4 dB louder.
    """
    period_s = state.frame_period_ms / 1000.0
    rate = state.sample_rate
    f0 = state.f0[state.f0 > 0]
    span = max(LEVEL_WINDOW_S, LEVEL_WINDOW_PERIODS / f0.min()) if len(f0) else LEVEL_WINDOW_S
    width = max(3, int(np.ceil(span / period_s)) | 1)
    analysed = len(state.analysed_f0)
    p_in = smoothed(frame_mean_square(x, frame_starts(analysed, period_s, x.shape[1], rate)), width)
    p_in = np.interp(state.source_s / period_s, np.arange(analysed), p_in)
    starts = frame_starts(len(state.f0), period_s, state.frames, rate)
    p_voiced = smoothed(frame_mean_square(voiced, starts), width)
    p_unvoiced = smoothed(frame_mean_square(unvoiced, starts), width)
    heard = p_voiced > 1e-9 * max(p_in.max(initial=0.0), 1e-30)
    gain = np.ones(len(state.f0))
    gain[heard] = np.sqrt(np.maximum(p_in[heard] - p_unvoiced[heard], 0.0) / p_voiced[heard])
    return _mix_into(voiced, unvoiced, np.clip(gain, *GAIN_RANGE), period_s * rate)

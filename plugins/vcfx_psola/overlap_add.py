"""Synthesis: place output marks along the target f0, overlap-add the nearest analysis grain at each."""

from __future__ import annotations

import numpy as np
import soxr

import vcfx

from .marks import UNVOICED_SPACING_S, frame_of, frame_starts, mark_rate, marks_along
from .state import PsolaState

CHUNK_MARKS = 1024
"""Grains gathered at once, on one of the threads: bounds the memory of a long input."""


def grain_window(offsets: np.ndarray, half: np.ndarray | float) -> np.ndarray:
    """Hann window of half-width ``half`` at ``offsets`` samples from a grain's centre (0 beyond it).

    The cosine is taken in float32, ten times faster than in float64 here;
    its error (below 1e-7) is far below any sample's resolution.
    """
    return 0.5 + 0.5 * np.cos((np.pi * np.clip(offsets / half, -1.0, 1.0)).astype(np.float32))


@vcfx.compiled
def _grains(x, at, centre_in, after, half, reach, length, zero_mean):
    """Grains of ``x`` read at ``centre_in + after`` (linearly between samples), under Hann windows of half-width
    ``half``, added at ``at`` into ``length`` samples of output (one row per channel of ``x``).

    With ``zero_mean`` each windowed grain has its weighted mean taken off first, so grains repeated faster
    than they were cut add no offset."""
    out = np.zeros((x.shape[0], length))
    mean = np.zeros(x.shape[0])
    for g in range(len(at)):
        mean[:] = 0.0
        if zero_mean:
            weight = 0.0
            for o in range(-reach[g], reach[g] + 1):
                w = 0.5 + 0.5 * np.cos(np.pi * min(max(o / half[g], -1.0), 1.0))
                i = centre_in[g] + o
                weight += w
                for c in range(x.shape[0]):
                    mean[c] += w * (x[c, i] + after[g] * (x[c, i + 1] - x[c, i]))
            if weight > 0.0:
                mean /= weight
        for o in range(-reach[g], reach[g] + 1):
            w = 0.5 + 0.5 * np.cos(np.pi * min(max(o / half[g], -1.0), 1.0))
            i = centre_in[g] + o
            for c in range(x.shape[0]):
                out[c, at[g] + o] += w * (x[c, i] + after[g] * (x[c, i + 1] - x[c, i]) - mean[c])
    return out


def output_marks(state: PsolaState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output marks (samples), the analysis mark each copies, the input sample it reads, the target period there,
    and how far (a fraction of a sample, 0 where unvoiced) the sample is after the mark's exact position.

    A voiced output mark reads the grain around its nearest analysis mark,
    so grains start on a glottal pulse; an unvoiced one reads the input at
    exactly the position the time map gives (``-1`` in the second array),
    so noise and silence are copied in place, not shifted by up to half
    the distance between marks.
    """
    period_s = state.frame_period_ms / 1000.0
    starts = frame_starts(len(state.f0), period_s, state.frames, state.sample_rate)
    out, exact = marks_along(mark_rate(state.f0), starts, state.frames, state.sample_rate, exact=True)
    late = out - exact
    source = np.interp(out / state.sample_rate, np.arange(len(state.source_s)) * period_s, state.source_s)
    source *= state.sample_rate
    right = np.clip(np.searchsorted(state.marks, source), 1, len(state.marks) - 1)
    left = right - 1
    nearest = np.where(np.abs(state.marks[left] - source) <= np.abs(state.marks[right] - source), left, right)
    if len(state.marks) == 1:
        nearest = np.zeros(len(out), dtype=int)
    f0 = state.f0[frame_of(out, starts)]
    unvoiced = f0 <= 0
    period = state.sample_rate / np.where(unvoiced, np.inf, f0)
    return out, np.where(unvoiced, -1, nearest), np.rint(source).astype(int), period, np.where(unvoiced, 0.0, late)


def overlap_add(state: PsolaState, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The voiced and the unvoiced grains of ``channels`` (indices into ``state.samples``) overlap-added, apart.

    Each part has shape ``(len(channels), state.frames)``; the output is
    their sum once the voiced part has its level
    (:func:`vcfx_psola.level.leveled`).

    Each voiced grain is input around its analysis mark under a Hann window
    two periods wide: two analysis periods, or two target periods where
    those are shorter (where the pitch goes up), as Praat's overlap-add
    cuts its grains. Longer grains would overlap more than two at a time,
    copies of one glottal cycle less than a period apart, and their sum
    cancels what the cycle's first harmonic carries: vowels whose first
    formant sits near f0 lost 10-16 dB an octave up. Each unvoiced grain is
    20 ms of input around the position the time map gives
    (:func:`output_marks`). A voiced grain is read from its analysis mark's
    exact position and added at its output mark's exact position (both to
    a fraction of a sample; the input read by linear interpolation): to
    the nearest sample, a period of 73.5 samples came out 73 and 74 by
    turns, and the jitter filled the gaps between harmonics to 20 dB under
    them. Each voiced grain has its window-weighted mean taken off: an
    octave up a grain spans one analysis period, centred on a glottal
    pulse, and its mean, repeated twice as often, added an offset (on
    speech.wav a fifth of the output's power lay below 60 Hz; on a pure
    tone the offset outweighed the tone). With a formant ratio ``r`` the
    grains come from the input resampled to play ``r`` times as fast (as
    Praat's "Change gender" resamples the sound): a grain lasts ``1 / r``
    as long and its spectrum, the formants, moves up by ``r``, while the
    output marks keep the pitch.
    """
    r = state.formant_ratio
    x = state.samples[channels]
    if r != 1.0:
        x = soxr.resample(x.T, state.sample_rate, state.sample_rate / r).T
    x = np.ascontiguousarray(x, dtype=np.float32)  # what is gathered, grain by grain: half the memory traffic
    out_marks, src, source, target, late = output_marks(state)
    unvoiced_half = round(UNVOICED_SPACING_S * state.sample_rate)
    centres = np.where(src >= 0, state.marks[src] + late * r, source)  # where the grain's centre is read, exactly
    widths = np.where(src >= 0, np.minimum(state.mark_periods[src], target * r), unvoiced_half)
    # voiced grains, then unvoiced ones, each in time order: a chunk covers one stretch of the output, so each
    # chunk adds up only that stretch; its grains lie end to end, each as long as its own window
    order = np.lexsort((out_marks, src < 0))
    voiced_count = int(np.count_nonzero(src >= 0))
    out_marks, centres, widths = out_marks[order], centres[order], widths[order]
    pad = int(np.ceil(max(widths.max(initial=1), state.mark_periods.max()) / r)) + 1  # room past either end
    x = np.pad(x, ((0, 0), (pad, pad)))

    def chunk(a: int) -> tuple[int, int, np.ndarray]:
        b = min(a + CHUNK_MARKS, voiced_count if a < voiced_count else len(out_marks))
        centre_out = out_marks[a:b] + pad
        exact = centres[a:b] / r
        centre_in = np.clip(np.floor(exact).astype(int), 0, x.shape[1] - 2 * pad - 2) + pad
        after = (exact - np.floor(exact)).astype(np.float32)
        half = widths[a:b] / r
        reach = np.ceil(half).astype(np.int64)
        first = int((centre_out - reach).min())
        length = int((centre_out + reach).max()) - first + 1
        voiced = a < voiced_count
        return int(not voiced), first, _grains(x, centre_out - first, centre_in, after, half, reach, length, voiced)

    firsts = [*range(0, voiced_count, CHUNK_MARKS), *range(voiced_count, len(out_marks), CHUNK_MARKS)]
    y = np.zeros((2, len(channels), state.frames + 2 * pad))
    for part_of, first, part in vcfx.thread_map(chunk, firsts):
        y[part_of, :, first:first + part.shape[1]] += part
    return y[0, :, pad:pad + state.frames], y[1, :, pad:pad + state.frames]

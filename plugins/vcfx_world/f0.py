"""f0 for the WORLD domain: DIO or Harvest, StoneMask, octave check, voicing by periodicity and settled edges."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyworld
import soxr

import vcfx

from . import stonemask

DIO_RATE_HZ = 7000
"""DIO tracks f0 on the signal decimated to about this rate (its ``speed``).

Measured against Praat at 16-48 kHz: as many frames within 50 cents and
as many voiced frames found as at the full rate (within 1 %), three to five
times faster (docs/measurements.md). StoneMask then refines f0 on the
full-rate signal.
"""

OCTAVE_PERIODICITY = 0.6
OCTAVE_MARGIN = 0.1
"""A frame repeating this well at half its tracked period, and at least as well as at the period, was tracked an
octave low (:func:`raise_octave_errors`); one repeating better by the margin at twice it, an octave high
(:func:`lower_octave_errors`). Between the two the tracked f0 stands."""

CLEAR_PERIODICITY = 0.8
"""How well a frame must repeat at twice its tracked period to be halved (:func:`lower_octave_errors`).

Steady voice repeats at 0.9 or more: frames of a vowel DIO tracked an octave
high repeated at 0.95-0.98 at twice their period. Creak, whose periods
alternate, repeats only moderately over two of them (0.64 on speech.wav,
against 0.49 over one), and is left as tracked.
"""


TRACKING_RATE_HZ = 16000
"""Voicing and periodicity (:func:`settle_voicing`) are decided on the voice resampled to this rate when faster.

Every harmonic they use lies far below 8 kHz; at 44.1 kHz this makes
them about three times faster, with the same frames voiced.
"""


def tracking_signal(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """``x`` at :data:`TRACKING_RATE_HZ` (or its own rate, if slower), and that rate."""
    if sample_rate <= TRACKING_RATE_HZ:
        return x, sample_rate
    return np.ascontiguousarray(soxr.resample(x, sample_rate, TRACKING_RATE_HZ), dtype=np.float64), TRACKING_RATE_HZ


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


PERIODICITY_CHUNK = 256
"""Frames :func:`periodicity` takes at a time: enough to amortise its calls, few enough that their windows stay in
the processor's cache (on 30 s of speech, a quarter faster than 64)."""


def periodicity(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, f0_floor_hz: float) -> np.ndarray:
    """Normalised autocorrelation of each voiced frame at one period of its f0; 0 where unvoiced.

    As in Praat's voicing decision, the window is three periods of the
    lowest f0 searched: steady voice scores near 1, creak and breathy edges
    well below. The period need not be a whole number of samples: the
    lagged window is interpolated linearly between samples, so a high voice
    at a low rate scores as it would at a high one. Samples past the end of
    ``x`` count as 0.

    With ``a`` the window, ``b0`` and ``b1`` the windows ``lag`` and
    ``lag + 1`` samples later and ``f`` the period's fraction of a sample,
    the lagged window is ``b = (1 - f) b0 + f b1``, so ``a.b`` and ``b.b``
    follow from the dot products of ``a``, ``b0`` and ``b1`` without
    forming ``b``; frames are taken :data:`PERIODICITY_CHUNK` at a time.
    The dot products run in single precision, half the time of double:
    on real speech the results move by less than 1e-6.
    """
    n = int(3 * sample_rate / f0_floor_hz)
    out = np.zeros(len(f0))
    voiced = np.flatnonzero(f0 > 0)
    period = sample_rate / f0[voiced]
    lags = np.floor(period).astype(int)
    fracs = period - lags
    starts = np.clip((t[voiced] * sample_rate).astype(int) - n // 2, 0, len(x))
    for c in range(0, len(voiced), PERIODICITY_CHUNK):
        frames = slice(c, c + PERIODICITY_CHUNK)
        out[voiced[frames]] = _periodicity_chunk(x, starts[frames], lags[frames], fracs[frames], n)
    return out


def _periodicity_chunk(x: np.ndarray, starts: np.ndarray, lags: np.ndarray, f: np.ndarray, n: int) -> np.ndarray:
    """:func:`periodicity` of the ``n``-sample windows at ``starts``, at periods ``lags + f`` samples."""
    lo, hi = int(starts.min()), int((starts + lags).max()) + n + 1
    span = x[lo:hi].astype(np.float32)
    if len(span) < hi - lo:
        span = np.pad(span, (0, hi - lo - len(span)))
    step = span.strides[0]
    windows = np.lib.stride_tricks.as_strided(span, (hi - lo - n, n + 1), (step, step), writeable=False)
    a = windows[starts - lo, :-1]
    lagged = windows[starts - lo + lags]
    b0, b1 = lagged[:, :-1], lagged[:, 1:]
    g = 1.0 - f

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", u, v)

    ab0, ab1, b0b0, b0b1, b1b1, aa = (dot(u, v).astype(np.float64)
                                      for u, v in ((a, b0), (a, b1), (b0, b0), (b0, b1), (b1, b1), (a, a)))
    ab = g * ab0 + f * ab1
    bb = g * g * b0b0 + 2 * f * g * b0b1 + f * f * b1b1
    energy = np.sqrt(aa * bb)
    return ab / np.where(energy > 0, energy, np.inf)


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
    least :data:`OCTAVE_PERIODICITY`) at least as well as at the period;
    creak, whose periods alternate, does not. "Nearly as well" is not
    enough: a voice whose first formant sits on its second harmonic repeats
    at half its period nearly as well, and on a fast glide the longer lag
    loses more to the changing period.
    Such frames are doubled, and so is every run of voiced frames without a
    jump (:func:`pitch_runs`) in which most frames look like that, as long as
    twice the f0 stays below ``f0_ceil_hz``.
    """
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    at_f0 = periodicity(x, f0, t, sample_rate, floor)
    at_double = periodicity(x, 2 * f0, t, sample_rate, floor)
    low = (at_double >= OCTAVE_PERIODICITY) & (at_double >= at_f0)
    doubled = low.copy()
    for a, b in pitch_runs(f0):
        if low[a:b].mean() > 0.5:
            doubled[a:b] = True
    doubled &= 2 * f0 < ceil
    if not doubled.any():
        return f0, at_f0
    f0 = f0.copy()
    times = np.ascontiguousarray(t[doubled])
    f0[doubled] = stonemask.refine(x, 2 * f0[doubled], times, sample_rate)
    at_f0[doubled] = periodicity(x, f0[doubled], times, sample_rate, floor)
    return f0, at_f0


def lower_octave_errors(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, opts: dict[str, Any],
                        at_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 with frames tracked an octave high put right (halved, refined by StoneMask), and its :func:`periodicity`.

    A voice whose even harmonics are strong also half repeats every half
    period, and a tracker can settle there. A frame looks like that when,
    with its f0 halved and refined by StoneMask, it repeats better by
    :data:`OCTAVE_MARGIN` or more, and clearly (:data:`CLEAR_PERIODICITY`):
    the mirror of :func:`raise_octave_errors`, which doubles only frames
    that repeat at least as well at the higher f0, so the two never undo
    each other. Only frames that repeat at least as well at half their f0
    before refinement are tried (a true track repeats less well two periods
    on). Such frames are halved, and so is every run of voiced frames
    without a jump (:func:`pitch_runs`) in which most frames look like that,
    as long as half the f0 stays above ``f0_floor_hz``.
    """
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    halvable = (f0 > 0) & (f0 / 2 >= floor)
    can_gain = halvable & (at_f0 < 1.0 - OCTAVE_MARGIN)  # a periodicity is at most 1
    at_half = periodicity(x, np.where(can_gain, f0 / 2, 0.0), t, sample_rate, floor)
    tried = np.flatnonzero(can_gain & (at_half >= at_f0))
    if not len(tried):
        return f0, at_f0
    halves, repeats = np.zeros(len(f0)), np.zeros(len(f0))
    halves[tried], repeats[tried] = _refined(x, f0[tried] / 2, np.ascontiguousarray(t[tried]), sample_rate, floor,
                                             ceil)
    high = (halves > 0) & (repeats >= CLEAR_PERIODICITY) & (repeats >= at_f0 + OCTAVE_MARGIN)
    halved = high.copy()
    for a, b in pitch_runs(f0):
        if high[a:b].mean() > 0.5:
            halved[a:b] = True
    halved &= halvable
    more = np.flatnonzero(halved & (halves == 0))  # frames of such runs not tried yet
    if len(more):
        halves[more], repeats[more] = _refined(x, f0[more] / 2, np.ascontiguousarray(t[more]), sample_rate, floor,
                                               ceil)
    halved &= halves > 0
    if not halved.any():
        return f0, at_f0
    f0, at_f0 = f0.copy(), at_f0.copy()
    f0[halved], at_f0[halved] = halves[halved], repeats[halved]
    return f0, at_f0


VOICING_THRESHOLD = 0.45
"""A frame repeating at least this well at its period is voiced (Praat's voicing threshold; :func:`periodicity`)."""

EDGE_TOLERANCE = 0.02
"""How far (a ratio: about 34 cents) the first or last frame of a voiced stretch may be off its inner frames' trend."""

EDGE_REACH = 6
"""Frames from each end of a voiced stretch that :func:`settle_edges` may change."""

EDGE_CONTEXT = 3
"""Inner frames whose trend checks an edge frame (:func:`settle_edges`)."""

SILENCE = 0.03
"""Frames whose peak is below this share of the channel's peak stay unvoiced, as in Praat."""


JUMP_REACH = 2
"""Voiced frames on each side whose median f0 a frame is checked against (:func:`mend_jumps`)."""

JUMP_STEPS = 5
"""Periods :func:`mend_jumps` tries within :data:`EDGE_TOLERANCE` of that median."""


PEAK_WINDOW_HZ = 250.0
""":func:`settle_on_peaks` looks for each frame's period over three periods at this f0 (12 ms).

Short enough that the turns of a fast contour are not averaged away: on a
synthetic voice turning every 0.25 s, a window of 42 ms (three periods of
the floor) put the peaks 45-50 cents low and one of 20 ms the troughs 25
cents high. The window need not hold a period: it is compared with the
window one period later.
"""

PEAK_REACH_CENTS = 100.0
"""How far from its tracked f0 :func:`settle_on_peaks` looks for a frame's period."""

PEAK_MARGIN = 0.05
"""How much better a frame must repeat at another period for :func:`settle_on_peaks` to move it there."""

PEAK_TOLERANCE_CENTS = 10.0
"""How far StoneMask may move a frame off the period :func:`settle_on_peaks` found."""

STONEMASK_FRAMES = 200
"""Frames below which StoneMask refines on one thread (each frame is refined on its own)."""


def _stonemasked(x, f0, t, sample_rate: int, floor: float, ceil: float) -> np.ndarray:
    """``f0`` refined by StoneMask where positive (0 outside ``floor`` .. ``ceil``)."""
    f0 = np.where((f0 >= floor) & (f0 <= ceil), f0, 0.0)
    on = np.flatnonzero(f0 > 0)
    if len(on):
        parts = np.array_split(on, max(1, min(vcfx.threads(), len(on) // STONEMASK_FRAMES)))
        refined = vcfx.thread_map(lambda part: stonemask.refine(x, f0[part], t[part], sample_rate), parts)
        f0[on] = np.concatenate(refined)
    return np.where((f0 >= floor) & (f0 <= ceil), f0, 0.0)


def _refined(x, f0, t, sample_rate: int, floor: float, ceil: float) -> tuple[np.ndarray, np.ndarray]:
    """``f0`` refined by StoneMask where positive, and its :func:`periodicity` (0 outside ``floor`` .. ``ceil``)."""
    f0 = _stonemasked(x, f0, t, sample_rate, floor, ceil)
    return f0, periodicity(x, f0, t, sample_rate, floor)


def _neighbour_f0(f0: np.ndarray, reach: int | None = None) -> np.ndarray:
    """f0 of each unvoiced frame, log-interpolated between the voiced frames either side of it; else 0.

    Before the first voiced frame and after the last, their f0 is taken.
    With ``reach``, only frames within ``reach`` of a voiced frame get one,
    and a voiced frame farther away on the other side counts for nothing:
    the nearest voiced frame's f0 is taken instead.
    """
    voiced = np.flatnonzero(f0 > 0)
    out = np.zeros(len(f0))
    if not len(voiced):
        return out
    frames = np.arange(len(f0))
    guess = np.exp2(np.interp(frames, voiced, np.log2(f0[voiced])))
    if reach is None:
        out[f0 <= 0] = guess[f0 <= 0]
        return out
    after = np.clip(np.searchsorted(voiced, frames), 0, len(voiced) - 1)
    before = np.clip(np.searchsorted(voiced, frames, side="right") - 1, 0, len(voiced) - 1)
    to_before, to_after = np.abs(frames - voiced[before]), np.abs(frames - voiced[after])
    nearest = np.where(to_before <= to_after, voiced[before], voiced[after])
    guess = np.where((to_before <= reach) & (to_after <= reach), guess, f0[nearest])
    near = (np.minimum(to_before, to_after) <= reach) & (f0 <= 0)
    out[near] = guess[near]
    return out


def voice_by_periodicity(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int,
                         opts: dict[str, Any], at_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 voiced wherever a frame repeats at its period, and its :func:`periodicity`.

    Each frame the tracker left unvoiced is tried at the f0 of the voiced
    frames around it (log-interpolated between them; the nearest one's
    before the first and after the last), refined by StoneMask, and voiced
    if it repeats there at least :data:`VOICING_THRESHOLD`, unless it is
    silence (:data:`SILENCE`) or too near either end of the signal for the
    window to fit. So a syllable the tracker missed whole is voiced as
    well as the frames next to one it found. A stretch of
    frames the tracker voiced none of which repeats that well is noise
    (breath, a fricative), and is unvoiced; the others stay voiced whole:
    the faint, breathy ends of a syllable repeat poorly, yet listeners and
    trackers still hear their pitch, and synthesising them from noise loses
    it.
    """
    f0, at_f0 = f0.copy(), at_f0.copy()
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    for a, b in voiced_stretches(f0):
        if at_f0[a:b].max() < VOICING_THRESHOLD:
            f0[a:b], at_f0[a:b] = 0.0, 0.0
    todo = np.flatnonzero(f0 <= 0)
    if not len(todo):
        return f0, at_f0
    n = int(3 * sample_rate / floor)
    centres = (t[todo] * sample_rate).astype(int)
    todo = todo[(centres >= n // 2) & (centres + n // 2 <= len(x))]  # as in Praat, the window must fit
    if not len(todo):
        return f0, at_f0
    magnitude = np.abs(x)
    starts = (t[todo] * sample_rate).astype(int) - n // 2
    loud = np.maximum.reduceat(np.pad(magnitude, (0, n)), np.ravel(np.column_stack([starts, starts + n])))[::2]
    todo = todo[loud >= SILENCE * magnitude.max()]
    if not len(todo):
        return f0, at_f0
    near = _neighbour_f0(f0)[todo]
    todo, near = todo[near > 0], near[near > 0]
    if not len(todo):
        return f0, at_f0
    cand, strength = _refined(x, near, np.ascontiguousarray(t[todo]), sample_rate, floor, ceil)
    keep = (cand > 0) & (strength >= VOICING_THRESHOLD)
    f0[todo[keep]] = cand[keep]
    at_f0[todo[keep]] = strength[keep]
    return f0, at_f0


def _onto(x, guess, t, sample_rate: int, opts: dict[str, Any], tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """``guess`` refined by StoneMask where that stays within ``tolerance`` (log2) of it, and its periodicity."""
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    guess = np.clip(guess, floor, ceil)
    new = _stonemasked(x, guess, t, sample_rate, floor, ceil)
    stray = ~((new > 0) & (np.abs(np.log2(np.where(new > 0, new, 1.0) / guess)) <= tolerance))
    new[stray] = guess[stray]
    return new, periodicity(x, new, t, sample_rate, floor)


def voiced_stretches(f0: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frames of every run of voiced frames."""
    edges = np.diff(np.concatenate([[0], (f0 > 0).astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _stretch_medians(f0: np.ndarray, reach: int) -> np.ndarray:
    """Median log2 f0 of the voiced frames within ``reach`` of each frame in its stretch; NaN where unvoiced."""
    log_f0 = np.where(f0 > 0, np.log2(np.where(f0 > 0, f0, 1.0)), np.nan)
    padded = np.pad(log_f0, reach, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1)
    # a window may reach over an unvoiced gap into the next stretch: cut it at the gaps
    offsets = np.arange(-reach, reach + 1)
    stretch = np.cumsum(f0 <= 0)
    same = np.take(np.pad(stretch, reach, constant_values=-1), np.arange(len(f0))[:, None] + reach + offsets)
    windows = np.where(same == stretch[:, None], windows, np.nan)
    out = np.full(len(f0), np.nan)
    voiced = f0 > 0
    if voiced.any():
        out[voiced] = np.nanmedian(windows[voiced], axis=1)
    return out


def mend_jumps(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, opts: dict[str, Any],
               at_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 whose frames that jump off their neighbours are put where the voice repeats best, and its periodicity.

    A tracker can lose a frame or two inside a voiced stretch, landing
    semitones off the frames around it; a pitch change renders that as a
    crack. A frame more than :data:`EDGE_TOLERANCE` off the median of the
    voiced frames within :data:`JUMP_REACH` of it in its stretch is tried at
    :data:`JUMP_STEPS` periods within that tolerance of the median; the one
    it repeats best at, refined by StoneMask where that stays near it,
    replaces the frame's f0 if the frame repeats better there than where it
    was. Glides are kept: the median of a monotonic run is its middle
    frame.
    """
    tolerance = np.log2(1 + EDGE_TOLERANCE)
    median = _stretch_medians(f0, JUMP_REACH)
    voiced = f0 > 0
    with np.errstate(invalid="ignore"):
        off = np.flatnonzero(voiced & (np.abs(np.log2(np.where(voiced, f0, 1.0)) - median) > tolerance))
    if not len(off):
        return f0, at_f0
    times = np.ascontiguousarray(t[off])
    candidates = np.exp2(median[off, None] + np.linspace(-tolerance, tolerance, JUMP_STEPS)[None, :])
    repeats = np.column_stack([periodicity(x, candidates[:, j], times, sample_rate, opts["f0_floor_hz"])
                               for j in range(JUMP_STEPS)])
    best = candidates[np.arange(len(off)), repeats.argmax(axis=1)]
    new, p = _onto(x, best, times, sample_rate, opts, tolerance)
    better = p > at_f0[off]
    f0, at_f0 = f0.copy(), at_f0.copy()
    f0[off[better]], at_f0[off[better]] = new[better], p[better]
    return f0, at_f0


def settle_edges(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, opts: dict[str, Any],
                 at_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 whose voiced stretches start and end on their trend, and its :func:`periodicity`.

    From each end of a stretch of voiced frames, the first
    :data:`EDGE_CONTEXT` + 1 frames in a row that step by less than
    :data:`EDGE_TOLERANCE` are its anchor, if it starts within
    :data:`EDGE_REACH` frames of the end. Each frame outside it, going
    outward, must lie within :data:`EDGE_TOLERANCE` of the line through
    the :data:`EDGE_CONTEXT` frames inside it; one that does not is moved
    onto that line (refined by StoneMask where that stays on it), so a
    pitch change does not chirp at the start or end of a syllable. If it
    does not repeat there (:data:`VOICING_THRESHOLD`), it and every frame
    outside it are unvoiced. Frames of stretches too short to have a trend
    that far off the f0 of the voiced frames within :data:`EDGE_REACH`
    frames around them are moved onto it the same way, or unvoiced.
    """
    f0, at_f0 = f0.copy(), at_f0.copy()
    tolerance = np.log2(1 + EDGE_TOLERANCE)
    reach = np.arange(1, EDGE_CONTEXT + 1)
    # least-squares line through (k, y_k), k = 1 .. EDGE_CONTEXT, read at k = 0: weights on the y_k
    at_zero = np.linalg.pinv(np.column_stack([np.ones(EDGE_CONTEXT), reach]))[0]
    stretches = voiced_stretches(f0)
    walks = []  # (first frame outside the anchor, the stretch's end frame, step outward)
    for a, b in stretches:
        if b - a <= EDGE_CONTEXT:
            continue
        steady = np.abs(np.diff(np.log2(f0[a:b]))) < tolerance
        steady_runs = np.convolve(steady.astype(int), np.ones(EDGE_CONTEXT, int), "valid") == EDGE_CONTEXT
        anchors = np.flatnonzero(steady_runs)
        if len(anchors):
            for step, first, end in ((-1, a + anchors[0], a), (1, a + anchors[-1] + EDGE_CONTEXT, b - 1)):
                if first != end and abs(first - end) <= EDGE_REACH:
                    walks.append((first + step, end, step))
    if walks:
        edge, end, step = (np.array(column) for column in zip(*walks))
        active = np.ones(len(walks), dtype=bool)
        while active.any():  # all walks advance one frame outward at a time
            i = np.flatnonzero(active)
            expected = np.log2(f0[edge[i, None] - step[i, None] * reach[None, :]]) @ at_zero
            off = np.abs(np.log2(f0[edge[i]]) - expected) > tolerance
            if off.any():
                j = i[off]
                new, p = _onto(x, np.exp2(expected[off]), t[edge[j]], sample_rate, opts, tolerance)
                repeats = p >= VOICING_THRESHOLD
                f0[edge[j[repeats]]], at_f0[edge[j[repeats]]] = new[repeats], p[repeats]
                for w in j[~repeats]:  # it and every frame outside it are unvoiced
                    lo, hi = sorted((edge[w], end[w]))
                    f0[lo:hi + 1], at_f0[lo:hi + 1] = 0.0, 0.0
                    active[w] = False
            done = edge == end
            edge = np.where(active & ~done, edge + step, edge)
            active &= ~done
    short = np.zeros(len(f0), dtype=bool)
    for a, b in stretches:
        if b - a <= EDGE_CONTEXT:
            short[a:b] = True
    if short.any():
        guess = _neighbour_f0(np.where(short, 0.0, f0), EDGE_REACH)
        off = short & (guess > 0) & (np.abs(np.log2(np.where(short, f0, 1.0) / np.where(guess > 0, guess, 1.0)))
                                     > tolerance)
        if off.any():
            new, p = _onto(x, guess[off], t[off], sample_rate, opts, tolerance)
            repeats = p >= VOICING_THRESHOLD
            f0[off], at_f0[off] = np.where(repeats, new, 0.0), np.where(repeats, p, 0.0)
    return f0, at_f0


@vcfx.compiled
def parabola_vertex(before, here, after):
    """Offset (within half a step of ``here``) and height of the vertex of the parabola through three equally
    spaced values; ``(0, here)`` where they do not bend down."""
    curve = before - 2.0 * here + after
    if curve >= 0.0:
        return 0.0, here
    shift = min(0.5, max(-0.5, 0.5 * (before - after) / curve))
    return shift, here - 0.25 * (before - after) * shift


@vcfx.compiled
def _repeat_peaks(x, centres, periods, n, reach):
    """Best period (samples) within ``reach`` (a ratio) of each of ``periods``, how well it repeats, and at ``periods``.

    The normalised autocorrelation of two ``n``-sample windows ``lag``
    apart, centred together on each of ``centres``, at every whole lag in
    reach; the peak between whole lags by a parabola through the best and
    its neighbours (:func:`parabola_vertex`). A peak at either end of the reach is no peak: its
    period is returned as 0. Windows that do not fit in ``x`` score 0.
    """
    frames = len(centres)
    best = np.zeros(frames)
    peak = np.zeros(frames)
    here = np.zeros(frames)
    for i in range(frames):
        lo = int(np.floor(periods[i] / reach))
        hi = int(np.ceil(periods[i] * reach))
        r = np.zeros(hi - lo + 1)
        for k in range(hi - lo + 1):
            lag = lo + k
            start = centres[i] - (n + lag) // 2
            if start < 0 or start + lag + n > len(x):
                continue
            ab = 0.0
            aa = 0.0
            bb = 0.0
            for j in range(n):
                u = x[start + j]
                v = x[start + lag + j]
                ab += u * v
                aa += u * u
                bb += v * v
            if aa > 0.0 and bb > 0.0:
                r[k] = ab / np.sqrt(aa * bb)
        f = periods[i] - lo
        k0 = min(int(f), hi - lo - 1)
        here[i] = r[k0] + (f - k0) * (r[k0 + 1] - r[k0])
        k = int(np.argmax(r))
        if 0 < k < hi - lo:
            shift, peak[i] = parabola_vertex(r[k - 1], r[k], r[k + 1])
            best[i] = lo + k + shift
    return best, peak, here


def settle_on_peaks(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, opts: dict[str, Any],
                    at_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 whose voiced frames lie where the voice repeats best near them, and its :func:`periodicity`.

    StoneMask refines DIO's f0 towards the nearest harmonic structure, and
    where DIO was off (a fast rise, a weak first period) it can stay tens
    of cents off the period the waveform repeats at. Each voiced frame's
    period is sought within :data:`PEAK_REACH_CENTS` of its f0, over
    windows of three periods of :data:`PEAK_WINDOW_HZ` centred on the
    frame; a frame repeating better there by :data:`PEAK_MARGIN` is moved
    onto that period (refined by StoneMask where that stays within
    :data:`PEAK_TOLERANCE_CENTS`), if it then repeats better by
    :func:`periodicity` too.
    """
    voiced = np.flatnonzero(f0 > 0)
    if not len(voiced):
        return f0, at_f0
    n = int(3 * sample_rate / max(PEAK_WINDOW_HZ, opts["f0_floor_hz"]))
    centres = np.rint(t[voiced] * sample_rate).astype(np.int64)
    best, peak, here = _repeat_peaks(x, centres, sample_rate / f0[voiced], n, 2.0 ** (PEAK_REACH_CENTS / 1200))
    move = (best > 0) & (peak > here + PEAK_MARGIN)
    if not move.any():
        return f0, at_f0
    frames = voiced[move]
    guess = np.clip(sample_rate / best[move], opts["f0_floor_hz"], opts["f0_ceil_hz"])
    new, p = _onto(x, guess, np.ascontiguousarray(t[frames]), sample_rate, opts, PEAK_TOLERANCE_CENTS / 1200)
    better = p > at_f0[frames]
    f0, at_f0 = f0.copy(), at_f0.copy()
    f0[frames[better]], at_f0[frames[better]] = new[better], p[better]
    return f0, at_f0


def settle_voicing(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int,
                   opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The refined f0 track made final, and its :func:`periodicity`.

    Octave errors put right (:func:`raise_octave_errors`,
    :func:`lower_octave_errors`), voicing decided by periodicity
    (:func:`voice_by_periodicity`), frames that jump off
    their neighbours mended (:func:`mend_jumps`), every frame put where
    it repeats best near its f0 (:func:`settle_on_peaks`), then the edges
    of voiced stretches put on their trend (:func:`settle_edges`).
    """
    f0, at_f0 = raise_octave_errors(x, f0, t, sample_rate, opts)
    f0, at_f0 = lower_octave_errors(x, f0, t, sample_rate, opts, at_f0)
    f0, at_f0 = voice_by_periodicity(x, f0, t, sample_rate, opts, at_f0)
    f0, at_f0 = mend_jumps(x, f0, t, sample_rate, opts, at_f0)
    f0, at_f0 = settle_on_peaks(x, f0, t, sample_rate, opts, at_f0)
    return settle_edges(x, f0, t, sample_rate, opts, at_f0)

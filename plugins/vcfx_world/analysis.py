"""WORLD analysis: options, then f0, envelope and aperiodicity of every channel in blocks on all cores."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import soxr

import vcfx

from . import cheaptrick, d4c, stonemask
from .f0 import dio_speed, settle_voicing, track_f0, tracking_signal
from .features import WorldFeatures

F0_METHODS = ("dio", "harvest")

OPTION_PARAMS = (
    vcfx.Param("f0_method", str, "dio", "f0 tracker: dio is fast, harvest tracks voicing more accurately",
               choices=F0_METHODS),
    vcfx.Param("f0_floor_hz", float, 71.0, "Lowest f0 searched", unit="Hz", low=40.0, high=400.0),
    vcfx.Param("f0_ceil_hz", float, 800.0, "Highest f0 searched", unit="Hz", low=100.0, high=1600.0),
    vcfx.Param("frame_period_ms", float, 5.0, "Hop between analysis frames", unit="ms", low=1.0, high=20.0),
)

BLOCK_S = 1.0
"""StoneMask refines blocks of frames this long, on all cores (fixed by time alone: the same on any number of cores)."""

D4C_RATE_HZ = 22050
"""D4C runs on the voice resampled to this rate when faster (:func:`d4c_signal`, :func:`aperiodicity`)."""

D4C_BAND_HZ = 3000.0
D4C_TOP_BAND_HZ = 15000.0
"""D4C measures aperiodicity in bands every 3 kHz, up to 15 kHz and 3 kHz short of Nyquist, and interpolates in dB."""

UNVOICED_APERIODICITY = 1.0 - 1e-12
"""What D4C gives a frame it takes as unvoiced (WORLD's 1 - kMySafeGuardMinimum); synthesis ignores it there."""


def analysis_options(ctx: vcfx.Context, domain: str = "world") -> dict[str, Any]:
    """The chain's options for ``domain``, validated against :data:`OPTION_PARAMS`.

    Another domain that analyses as this one does (``psola``) reads its own
    options with the same declarations.
    """
    given = dict(ctx.options.get(domain, {}))
    declared = {p.name: p for p in OPTION_PARAMS}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise vcfx.ParameterError(f"unknown {domain} option {unknown}; known: {', '.join(declared)}")
    opts = {name: p.validate(given.get(name, p.default)) for name, p in declared.items()}
    if opts["f0_floor_hz"] >= opts["f0_ceil_hz"]:
        raise vcfx.ParameterError(
            f"f0_floor_hz={opts['f0_floor_hz']} must be below f0_ceil_hz={opts['f0_ceil_hz']}"
        )
    return opts


def frame_count(samples: int, sample_rate: int, period_ms: float) -> int:
    """Frames WORLD's analysis gives ``samples`` samples."""
    return int(1000.0 * samples / sample_rate / period_ms) + 1


def blocks(frames: int, period_ms: float) -> list[tuple[int, int]]:
    """Runs of frames, :data:`BLOCK_S` long, that StoneMask refines one at a time."""
    size = max(1, round(1000.0 * BLOCK_S / period_ms))
    return [(a, min(a + size, frames)) for a in range(0, frames, size)]


def batches(frames: np.ndarray, key: np.ndarray) -> list[np.ndarray]:
    """``frames`` in order of ``key`` (their f0), cut into :data:`~vcfx_world.cheaptrick.FRAMES_PER_BATCH`.

    CheapTrick and D4C analyse every frame on its own, so a batch may hold
    frames from anywhere in the channel; frames of similar f0 have windows
    of similar length, and full batches make few, large NumPy calls, which
    share the cores best. The batches depend on the frames alone, so the
    result is the same on any number of cores.
    """
    ordered = frames[np.argsort(key[frames], kind="stable")]
    return [ordered[a:a + cheaptrick.FRAMES_PER_BATCH] for a in range(0, len(ordered), cheaptrick.FRAMES_PER_BATCH)]


def spectral_envelope(x, f0, t, sample_rate: int, opts: dict[str, Any]) -> np.ndarray:
    """CheapTrick on the frames given: :func:`vcfx_world.cheaptrick.spectral_envelope`."""
    return cheaptrick.spectral_envelope(x, f0, t, sample_rate, cheaptrick.fft_size(sample_rate, opts["f0_floor_hz"]))


def interpolated_frames(f0: np.ndarray) -> np.ndarray:
    """Frames whose aperiodicity :func:`aperiodicity` interpolates instead of analysing: a mask.

    Every odd voiced frame between two voiced frames. D4C's window spans
    three periods or more, so neighbouring frames overlap heavily and
    aperiodicity changes little from one to the next; WORLD's synthesis
    interpolates it linearly between frames in the same way.
    """
    between = np.zeros(len(f0), dtype=bool)
    voiced = f0 > 0
    between[1:-1:2] = voiced[1:-1:2] & voiced[:-2:2] & voiced[2::2]
    return between


def d4c_signal(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """``x`` at :data:`D4C_RATE_HZ` (or its own rate, if not faster), and that rate."""
    if sample_rate <= D4C_RATE_HZ:
        return x, sample_rate
    return np.ascontiguousarray(soxr.resample(x, sample_rate, D4C_RATE_HZ), dtype=np.float64), D4C_RATE_HZ


def _last_band_hz(sample_rate: float) -> float:
    """Centre of D4C's highest band at ``sample_rate``."""
    return D4C_BAND_HZ * int(min(D4C_TOP_BAND_HZ, sample_rate / 2 - D4C_BAND_HZ) / D4C_BAND_HZ)


def _widened(ap: np.ndarray, rate: int, sample_rate: int, bins: int) -> np.ndarray:
    """Aperiodicity D4C gave at ``rate``, as wide as an envelope at ``sample_rate`` (``bins`` bins).

    Below the highest band measured it is D4C's; the bands that only the
    higher rate has get that band's value, and above them it rises in dB
    to 1 at Nyquist, as D4C itself interpolates.
    """
    if rate == sample_rate:
        return ap
    db = 20 * np.log10(ap)
    wanted = np.linspace(0.0, sample_rate / 2, bins)
    top, last = _last_band_hz(rate), _last_band_hz(sample_rate)

    def at(hz):  # db read at frequencies hz (up to rate / 2), linearly between bins
        position = np.asarray(hz) / (rate / 2) * (ap.shape[1] - 1)
        lower = np.minimum(np.floor(position).astype(int), ap.shape[1] - 2)
        return db[:, lower] + (position - lower) * (db[:, lower + 1] - db[:, lower])

    rise = np.clip((wanted - last) / (sample_rate / 2 - last), 0.0, 1.0)
    out = at(np.array([top])) * (1.0 - rise)
    low = wanted <= top
    out[:, low] = at(wanted[low])
    return np.power(10.0, out / 20)


def aperiodicity(x, f0, t, sample_rate: int, opts: dict[str, Any], low: tuple[np.ndarray, int] | None = None,
                 ) -> np.ndarray:
    """D4C on the frames given, as wide as CheapTrick's envelope (any f0 floor works).

    D4C gives unvoiced frames :data:`UNVOICED_APERIODICITY` without looking
    at them, so it runs only on voiced frames, and of those not on the
    :func:`interpolated_frames`, which get the mean of their neighbours. This
    halves D4C's time; the output stays within every quality target
    (docs/measurements.md, "Where WORLD's time goes").

    Above 22.05 kHz it runs on ``low``, the voice at :data:`D4C_RATE_HZ`
    (:func:`d4c_signal`), three times faster: D4C's bands up to 6 kHz are
    the same there, and the higher ones, which a higher rate adds, are held
    at the 6 kHz band's value (:func:`_widened`).

    D4C is :func:`vcfx_world.d4c.aperiodicity`, without WORLD's own voicing
    check: the analysis has decided voicing already
    (:func:`vcfx_world.f0.settle_voicing`), and the check gave frames that
    repeat well at their period pure noise.
    """
    analysed = analysed_frames(f0)
    ap = unanalysed_aperiodicity(len(f0), sample_rate, opts)
    if len(analysed):
        ap[analysed] = _d4c_rows(x, f0[analysed], t[analysed], sample_rate, opts, low)
    return interpolate_between(ap, f0)


def analysed_frames(f0: np.ndarray) -> np.ndarray:
    """The frames :func:`aperiodicity` gives to D4C: voiced, not :func:`interpolated_frames`."""
    return np.flatnonzero((f0 > 0) & ~interpolated_frames(f0))


def unanalysed_aperiodicity(frames: int, sample_rate: int, opts: dict[str, Any]) -> np.ndarray:
    """Aperiodicity of ``frames`` frames, all :data:`UNVOICED_APERIODICITY`, as wide as CheapTrick's envelope."""
    return np.full((frames, cheaptrick.fft_size(sample_rate, opts["f0_floor_hz"]) // 2 + 1), UNVOICED_APERIODICITY)


def interpolate_between(ap: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """``ap`` with each of the :func:`interpolated_frames` the mean of its neighbours (in place)."""
    _mean_of_neighbours(ap, np.flatnonzero(interpolated_frames(f0)))
    return ap


@vcfx.compiled
def _mean_of_neighbours(rows, which):
    for row in which:
        for k in range(rows.shape[1]):
            rows[row, k] = 0.5 * (rows[row - 1, k] + rows[row + 1, k])


def _d4c_rows(x, f0, t, sample_rate: int, opts: dict[str, Any], low: tuple[np.ndarray, int] | None) -> np.ndarray:
    """D4C's aperiodicity of voiced frames, on ``low`` when given, as wide as CheapTrick's envelope."""
    signal, rate = low if low is not None else (x, sample_rate)
    found = d4c.aperiodicity(signal, f0, t, rate, cheaptrick.fft_size(rate, opts["f0_floor_hz"]))
    return _widened(found, rate, sample_rate, cheaptrick.fft_size(sample_rate, opts["f0_floor_hz"]) // 2 + 1)


TRACK_PIECE_S = 3.0
"""DIO tracks a channel in pieces at most this long, on all cores (fixed by the duration alone, like :data:`BLOCK_S`)."""

TRACK_MARGIN_S = 0.25
"""Signal given to DIO on either side of a piece (on real speech 0.1 s already gives the whole channel's frames)."""


def _dio_pieces(frames: int, sample_rate: int, period_ms: float) -> list[tuple[int, int, int, int]]:
    """(first frame, end frame, first and end frame tracked) of each piece of a channel.

    Pieces start on a frame that starts at a whole sample that DIO's
    decimation keeps (a multiple of :func:`vcfx_world.f0.dio_speed`), so
    their frames and decimated samples fall where the whole channel's do.
    """
    step = Fraction(sample_rate) * Fraction(period_ms).limit_denominator(1000) / 1000
    align = next((k for k in range(1, 1025) if (k * step) % dio_speed(sample_rate) == 0), 0)
    pieces = math.ceil((frames - 1) * period_ms / 1000 / TRACK_PIECE_S)  # frames span (frames - 1) periods
    if pieces < 2 or not align:
        return [(0, frames, 0, frames)]
    margin = align * -(-round(1000 * TRACK_MARGIN_S / period_ms) // align)
    cuts = [0] + [(k * frames // pieces) // align * align for k in range(1, pieces)] + [frames]
    return [(a, b, max(0, a - margin), min(frames, b + margin)) for a, b in zip(cuts, cuts[1:])]


def track_channels(xs: list[np.ndarray], sample_rate: int, opts: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """f0 (refined by StoneMask where DIO tracked it; 0 unvoiced) and frame times of every channel, on all cores.

    DIO tracks each channel in pieces of at most :data:`TRACK_PIECE_S` with
    :data:`TRACK_MARGIN_S` of signal on either side. DIO looks at a few
    periods around each frame, so the pieces give the frames the whole
    channel gives (on real speech, the same frames voiced and f0 within
    2e-7 cents), except for the few borderline frames that DIO changes as
    readily when silence is appended to the signal. StoneMask refines per
    :func:`blocks` of frames. Pieces and blocks are fixed by the duration,
    so the result is the same on any number of cores.
    """
    period = opts["frame_period_ms"]
    if opts["f0_method"] == "harvest" or not xs:
        return vcfx.thread_map(lambda x: track_f0(x, sample_rate, opts), xs)
    step = Fraction(sample_rate) * Fraction(period).limit_denominator(1000) / 1000
    counts = [frame_count(len(x), sample_rate, period) for x in xs]
    jobs = [(c, *piece) for c, n in enumerate(counts) for piece in _dio_pieces(n, sample_rate, period)]
    speed = dio_speed(sample_rate)

    def tracked(c: int, a: int, b: int, lo: int, hi: int) -> np.ndarray:
        # DIO decimates counting back from the last sample: a piece ends where the channel's count falls
        end = int(hi * step)
        stop = len(xs[c]) if hi == counts[c] else min(len(xs[c]), end + (len(xs[c]) - end) % speed)
        f0, _ = track_f0(np.ascontiguousarray(xs[c][int(lo * step):stop]), sample_rate, opts)
        kept = f0[a - lo:b - lo]
        return np.pad(kept, (0, b - a - len(kept)))

    pieces = vcfx.thread_map(tracked, *zip(*jobs))
    tracks = [(np.concatenate([f for (cc, *_), f in zip(jobs, pieces) if cc == c]), np.arange(n) * period / 1000.0)
              for c, n in enumerate(counts)]
    spans = [(c, a, b) for c, n in enumerate(counts) for a, b in blocks(n, period)]
    def refine(c: int, a: int, b: int) -> np.ndarray:
        f0, t = tracks[c]
        return stonemask.refine(xs[c], f0[a:b], t[a:b], sample_rate)

    refined = vcfx.thread_map(refine, *zip(*spans))
    return [(np.concatenate([r for (cc, _, _), r in zip(spans, refined) if cc == c]), t)
            for c, (_, t) in enumerate(tracks)]


def analyze_channels(xs: list[np.ndarray], sample_rate: int, opts: dict[str, Any]) -> list[WorldFeatures]:
    """WORLD features of sounding channels, on all cores.

    f0 is tracked per channel, refined by StoneMask per :func:`blocks` of
    frames and made final (octave errors, voicing by periodicity, edges:
    :func:`vcfx_world.f0.settle_voicing`, at the tracking rate); then
    D4C and CheapTrick run on :func:`batches` of frames, all of them side
    by side. Each looks at the whole signal around its frame, so the
    batches' frames join seamlessly.
    """
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in xs]
    tracks = track_channels(xs, sample_rate, opts)
    lows = [tracking_signal(x, sample_rate) for x in xs]
    checked = vcfx.thread_map(lambda low, track: settle_voicing(low[0], *track, low[1], opts), lows, tracks)
    tracks = [(f0, t) for (f0, _), (_, t) in zip(checked, tracks)]
    d4c_inputs = [d4c_signal(x, sample_rate) for x in xs]
    # D4C first: its batches take longer
    jobs = [(True, c, frames) for c, (f0, _) in enumerate(tracks) for frames in batches(analysed_frames(f0), f0)]
    jobs += [(False, c, frames) for c, (f0, _) in enumerate(tracks)
             for frames in batches(np.arange(len(f0)), np.where(f0 > 0, f0, cheaptrick.DEFAULT_F0_HZ))]

    def run(is_d4c: bool, c: int, frames: np.ndarray) -> np.ndarray:
        f0, t = tracks[c]
        if is_d4c:
            return _d4c_rows(xs[c], f0[frames], t[frames], sample_rate, opts, d4c_inputs[c])
        return spectral_envelope(xs[c], f0[frames], t[frames], sample_rate, opts)

    results = vcfx.thread_map(run, *zip(*jobs)) if jobs else []
    features = []
    for c, (x, (f0, periodic)) in enumerate(zip(xs, checked)):
        ap = unanalysed_aperiodicity(len(f0), sample_rate, opts)
        sp = np.empty_like(ap)
        for (is_d4c, cc, frames), rows in zip(jobs, results):
            if cc == c:
                (ap if is_d4c else sp)[frames] = rows
        features.append(WorldFeatures.analysed(f0, sp, interpolate_between(ap, f0), source=x, periodicity=periodic))
    return features

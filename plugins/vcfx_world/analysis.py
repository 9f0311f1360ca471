"""WORLD analysis: options, then f0, envelope and aperiodicity of every channel in blocks on all cores."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pyworld
import soxr

import vcfx

from . import cheaptrick, d4c
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
"""CheapTrick and D4C run on blocks of frames this long, on all cores.

Frames are analysed each on their own, in batches within a block; the
blocks are fixed by time alone, so the result is the same on any number
of cores.
"""

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
    """Runs of frames, :data:`BLOCK_S` long, that CheapTrick and D4C take one at a time."""
    size = max(1, round(1000.0 * BLOCK_S / period_ms))
    return [(a, min(a + size, frames)) for a in range(0, frames, size)]


def spectral_envelope(x, f0, t, sample_rate: int, opts: dict[str, Any]) -> np.ndarray:
    """CheapTrick on the frames given (a block of a channel): :func:`vcfx_world.cheaptrick.spectral_envelope`."""
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
    fft_size = cheaptrick.fft_size(sample_rate, opts["f0_floor_hz"])
    signal, rate = low if low is not None else (x, sample_rate)
    between = interpolated_frames(f0)
    analysed = np.flatnonzero((f0 > 0) & ~between)
    ap = np.full((len(f0), fft_size // 2 + 1), UNVOICED_APERIODICITY)
    if len(analysed):
        size = cheaptrick.fft_size(rate, opts["f0_floor_hz"])
        found = d4c.aperiodicity(signal, f0[analysed], t[analysed], rate, size)
        ap[analysed] = _widened(found, rate, sample_rate, fft_size // 2 + 1)
    mid = np.flatnonzero(between)
    ap[mid] = 0.5 * (ap[mid - 1] + ap[mid + 1])
    return ap


TRACK_PIECE_S = 3.0
"""DIO tracks a channel in pieces about this long, on all cores (fixed by the duration alone, like :data:`BLOCK_S`)."""

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
    pieces = round(frames * period_ms / 1000 / TRACK_PIECE_S)
    if pieces < 2 or not align:
        return [(0, frames, 0, frames)]
    margin = align * -(-round(1000 * TRACK_MARGIN_S / period_ms) // align)
    cuts = [0] + [(k * frames // pieces) // align * align for k in range(1, pieces)] + [frames]
    return [(a, b, max(0, a - margin), min(frames, b + margin)) for a, b in zip(cuts, cuts[1:])]


def track_channels(xs: list[np.ndarray], sample_rate: int, opts: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """f0 (refined by StoneMask where DIO tracked it; 0 unvoiced) and frame times of every channel, on all cores.

    DIO tracks each channel in pieces of about :data:`TRACK_PIECE_S` with
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
        return pyworld.stonemask(xs[c], np.ascontiguousarray(f0[a:b]), np.ascontiguousarray(t[a:b]), sample_rate)

    refined = vcfx.thread_map(refine, *zip(*spans))
    return [(np.concatenate([r for (cc, _, _), r in zip(spans, refined) if cc == c]), t)
            for c, (_, t) in enumerate(tracks)]


def analyze_channels(xs: list[np.ndarray], sample_rate: int, opts: dict[str, Any]) -> list[WorldFeatures]:
    """WORLD features of sounding channels, on all cores.

    f0 is tracked per channel, refined by StoneMask per :func:`blocks` of
    frames and made final (octave errors, voicing by periodicity, edges:
    :func:`vcfx_world.f0.settle_voicing`, at the tracking rate); then
    D4C and CheapTrick run per block. Each of them looks at the whole signal
    around a frame, so blocks join seamlessly.
    """
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in xs]
    tracks = track_channels(xs, sample_rate, opts)
    spans = [(c, a, b) for c, (f0, _) in enumerate(tracks) for a, b in blocks(len(f0), opts["frame_period_ms"])]

    def frames(c: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        f0, t = tracks[c]
        return np.ascontiguousarray(f0[a:b]), np.ascontiguousarray(t[a:b])

    def joined(results: list[np.ndarray], c: int) -> np.ndarray:
        return np.concatenate([r for (cc, _, _), r in zip(spans, results) if cc == c])

    lows = [tracking_signal(x, sample_rate) for x in xs]
    checked = vcfx.thread_map(lambda low, track: settle_voicing(low[0], *track, low[1], opts), lows, tracks)
    tracks = [(f0, t) for (f0, _), (_, t) in zip(checked, tracks)]
    d4c_inputs = [d4c_signal(x, sample_rate) for x in xs]
    estimates = (aperiodicity, spectral_envelope)  # D4C first: it takes longer
    jobs = [(estimate, c, a, b) for estimate in estimates for c, a, b in spans]
    results = vcfx.thread_map(lambda estimate, c, a, b: (
        aperiodicity(xs[c], *frames(c, a, b), sample_rate, opts, low=d4c_inputs[c]) if estimate is aperiodicity
        else spectral_envelope(xs[c], *frames(c, a, b), sample_rate, opts)), *zip(*jobs))
    by_estimate = {estimate: results[i * len(spans):(i + 1) * len(spans)] for i, estimate in enumerate(estimates)}
    features = []
    for c, (x, (f0, periodic)) in enumerate(zip(xs, checked)):
        sp, ap = joined(by_estimate[spectral_envelope], c), joined(by_estimate[aperiodicity], c)
        features.append(WorldFeatures.analysed(f0, sp, ap, source=x, periodicity=periodic))
    return features

"""The WORLD domain: analysis once per run of WORLD effects, synthesis once."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pyworld

import vcfx
from vcfx.errors import ParameterError
from vcfx.parallel import threads

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

Each pyworld call seeds its own tiny dither afresh, so where the blocks
fall changes the features slightly; the blocks are fixed by time alone,
so the result is the same on any number of cores.
"""

SYNTH_PIECE_S = 1.0
"""Synthesis runs in pieces of about this length, cut at quiet unvoiced frames."""

SYNTH_OVERLAP_FRAMES = 4
"""Crossfade between pieces of a channel synthesized in parallel."""

MAX_SYNTHESIS_FFT = 2**16

DIO_RATE_HZ = 7000
"""DIO tracks f0 on the signal decimated to about this rate (its ``speed``).

Measured against Praat at 16-48 kHz: as many frames within 50 cents and
as many voiced frames found as at the full rate (within 1 %), three to five
times faster (docs/measurements.md). StoneMask then refines f0 on the
full-rate signal.
"""

D4C_CHECKED_RATE_HZ = 15800
"""Below this rate pyworld's D4C decides voicing from memory it never wrote.

Its voicing check sums the spectrum up to 7.9 kHz, past the Nyquist
frequency of a slower signal, so its answer varies with whatever ran
before. There the check is skipped: every voiced frame gets the full
aperiodicity analysis, which is what the check passes for a signal with
nothing above 4 kHz.
"""

OCTAVE_PERIODICITY = 0.6
OCTAVE_MARGIN = 0.1
"""A frame repeating this well at half its tracked period was tracked an octave low (:func:`raise_octave_errors`)."""

SILENCE_PEAK = 1e-6
"""A channel whose peak is below this is passed through as silence."""


@dataclass
class WorldFeatures:
    """WORLD features of one channel.

    Attributes
    ----------
    f0 : np.ndarray [shape=(frames,)]
        Fundamental frequency in Hz; 0 marks unvoiced frames.
    spectral_envelope : np.ndarray [shape=(frames, fft_size // 2 + 1)]
        Power spectral envelope (CheapTrick).
    aperiodicity : np.ndarray [shape=(frames, fft_size // 2 + 1)]
        Aperiodicity in [0, 1] (D4C).
    silent : bool
        The input channel was silent; synthesis returns silence.
    input_rms : float, optional
        RMS of the analysed channel; synthesis restores this level.
    envelope_power : float, optional
        :func:`envelope_power` of the spectral envelope as analysed. Effects
        that change the envelope's power change the output level by the
        same ratio.
    source : np.ndarray, optional
        The analysed samples. A channel with no voiced frame whose envelope,
        aperiodicity and length no effect replaced is passed through as
        these samples: resynthesis would only turn its noise into other noise.
    periodicity : np.ndarray [shape=(frames,)], optional
        How clearly each voiced frame repeats at its analysed period
        (:func:`periodicity`); 0 where unvoiced. Effects that change the
        number of frames resample it with them.
    """

    f0: np.ndarray
    spectral_envelope: np.ndarray
    aperiodicity: np.ndarray
    silent: bool = False
    input_rms: float | None = None
    envelope_power: float | None = None
    source: np.ndarray | None = field(default=None, repr=False)
    analysed: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    periodicity: np.ndarray | None = field(default=None, repr=False)

    def untouched_unvoiced(self, frames: int) -> bool:
        """No voiced frame, and envelope, aperiodicity and length as analysed."""
        return (
            self.source is not None
            and self.analysed is not None
            and len(self.source) == frames
            and not np.any(self.f0)
            and self.spectral_envelope is self.analysed[0]
            and self.aperiodicity is self.analysed[1]
        )


@dataclass
class WorldState:
    """What WORLD effects transform: the features of every channel.

    Attributes
    ----------
    channels : list of WorldFeatures
    sample_rate : int
        Rate of the audio (and of synthesis).
    frame_period_ms : float
        Time between frames.
    frames : int
        Number of samples synthesis must return; effects that change the
        duration (tempo) update it.
    options : dict
        The analysis options used.
    """

    channels: list[WorldFeatures]
    sample_rate: int
    frame_period_ms: float
    frames: int
    options: dict[str, Any] = field(default_factory=dict)

    def frame_times(self, channel: int = 0) -> np.ndarray:
        """Time in seconds of every frame of ``channel``."""
        n = len(self.channels[channel].f0)
        return np.arange(n) * (self.frame_period_ms / 1000.0)


def frame_power(spectral_envelope: np.ndarray) -> np.ndarray:
    """Mean-square level of each frame described by a power spectral envelope (Parseval)."""
    sp = spectral_envelope
    return (sp[:, 0] + 2 * sp[:, 1:-1].sum(axis=1) + sp[:, -1]) / (2 * (sp.shape[1] - 1))


def envelope_power(spectral_envelope: np.ndarray) -> float:
    """Mean of :func:`frame_power` over all frames."""
    return float(frame_power(spectral_envelope).mean())


def analysis_options(ctx: vcfx.Context) -> dict[str, Any]:
    """The chain's ``world`` options, validated against :data:`OPTION_PARAMS`."""
    given = dict(ctx.options.get("world", {}))
    declared = {p.name: p for p in OPTION_PARAMS}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(f"unknown world option {unknown}; known: {', '.join(declared)}")
    opts = {name: p.validate(given.get(name, p.default)) for name, p in declared.items()}
    if opts["f0_floor_hz"] >= opts["f0_ceil_hz"]:
        raise ParameterError(
            f"f0_floor_hz={opts['f0_floor_hz']} must be below f0_ceil_hz={opts['f0_ceil_hz']}"
        )
    return opts


def _frame_count(samples: int, sample_rate: int, period_ms: float) -> int:
    return int(1000.0 * samples / sample_rate / period_ms) + 1


def dio_speed(sample_rate: int) -> int:
    """DIO's decimation factor for ``sample_rate``: see :data:`DIO_RATE_HZ`."""
    return min(12, max(1, sample_rate // DIO_RATE_HZ))


def track_f0(x: np.ndarray, sample_rate: int, opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz, 0 where unvoiced) and frame times (s) of one channel, before refinement.

    DIO's f0 is refined by StoneMask frame by frame afterwards (see
    :func:`analyze_channels`); Harvest's needs no refinement.
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


def blocks(frames: int, period_ms: float) -> list[tuple[int, int]]:
    """Runs of frames, :data:`BLOCK_S` long, that CheapTrick and D4C take one at a time."""
    size = max(1, round(1000.0 * BLOCK_S / period_ms))
    return [(a, min(a + size, frames)) for a in range(0, frames, size)]


def spectral_envelope(x, f0, t, sample_rate: int, opts: dict[str, Any]) -> np.ndarray:
    """CheapTrick on the frames given (a block of a channel)."""
    floor = opts["f0_floor_hz"]
    fft_size = pyworld.get_cheaptrick_fft_size(sample_rate, floor)
    return pyworld.cheaptrick(x, f0, t, sample_rate, f0_floor=floor, fft_size=fft_size)


def aperiodicity(x, f0, t, sample_rate: int, opts: dict[str, Any]) -> np.ndarray:
    """D4C on the frames given, as wide as CheapTrick's envelope (any f0 floor works)."""
    fft_size = pyworld.get_cheaptrick_fft_size(sample_rate, opts["f0_floor_hz"])
    skip_check = {} if sample_rate >= D4C_CHECKED_RATE_HZ else {"threshold": -np.inf}
    return pyworld.d4c(x, f0, t, sample_rate, fft_size=fft_size, **skip_check)


def analyze_channels(xs: list[np.ndarray], sample_rate: int, opts: dict[str, Any]) -> list[WorldFeatures]:
    """WORLD features of sounding channels, on all cores.

    f0 is tracked per channel, refined by StoneMask per :func:`blocks` of
    frames and checked for octave errors (:func:`raise_octave_errors`); then
    D4C and CheapTrick run per block. Each of them looks at the whole signal
    around a frame, so blocks join seamlessly.
    """
    xs = [np.ascontiguousarray(x, dtype=np.float64) for x in xs]
    tracks = _map(lambda x: track_f0(x, sample_rate, opts), xs)
    spans = [(c, a, b) for c, (f0, _) in enumerate(tracks) for a, b in blocks(len(f0), opts["frame_period_ms"])]

    def frames(c: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        f0, t = tracks[c]
        return np.ascontiguousarray(f0[a:b]), np.ascontiguousarray(t[a:b])

    def joined(results: list[np.ndarray], c: int) -> np.ndarray:
        return np.concatenate([r for (cc, _, _), r in zip(spans, results) if cc == c])

    if opts["f0_method"] == "dio":
        refined = _map(lambda c, a, b: pyworld.stonemask(xs[c], *frames(c, a, b), sample_rate), *zip(*spans))
        tracks = [(joined(refined, c), t) for c, (_, t) in enumerate(tracks)]
    checked = [raise_octave_errors(x, f0, t, sample_rate, opts) for x, (f0, t) in zip(xs, tracks)]
    tracks = [(f0, t) for (f0, _), (_, t) in zip(checked, tracks)]
    estimates = (aperiodicity, spectral_envelope)  # D4C first: it takes longer
    jobs = [(estimate, c, a, b) for estimate in estimates for c, a, b in spans]
    results = _map(lambda estimate, c, a, b: estimate(xs[c], *frames(c, a, b), sample_rate, opts), *zip(*jobs))
    by_estimate = {estimate: results[i * len(spans):(i + 1) * len(spans)] for i, estimate in enumerate(estimates)}
    features = []
    for c, (x, (f0, periodic)) in enumerate(zip(xs, checked)):
        sp, ap = joined(by_estimate[spectral_envelope], c), joined(by_estimate[aperiodicity], c)
        features.append(WorldFeatures(f0, sp, ap, input_rms=float(np.sqrt(np.mean(np.square(x)))),
                                      envelope_power=envelope_power(sp), source=x, analysed=(sp, ap),
                                      periodicity=periodic))
    return features


_EXECUTOR: ThreadPoolExecutor | None = None



def _executor() -> ThreadPoolExecutor:
    """Threads for WORLD work: pyworld releases the GIL, so channels and parts run on all cores."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="vcfx-world")
    return _EXECUTOR


def _map(fn, *iterables) -> list:
    """``list(map(fn, ...))``, on the WORLD threads when there is more than one item and more than one thread."""
    items = list(zip(*iterables))
    if len(items) < 2 or threads() < 2:
        return [fn(*args) for args in items]
    return list(_executor().map(fn, *zip(*items)))


def _forget_executor() -> None:
    """A forked child (a process pool's worker) has none of the parent's threads: start afresh."""
    global _EXECUTOR
    _EXECUTOR = None


os.register_at_fork(after_in_child=_forget_executor)


def check_state(state: "WorldState", bins: int) -> None:
    """Refuse features that pyworld's synthesis would crash on or turn into noise.

    pyworld does not check its input: a wrong envelope width aborts the
    process, NaN spreads to the whole output. Third-party WORLD effects may
    return anything, so the domain checks before it synthesizes.
    """
    nyquist = state.sample_rate / 2
    for i, ch in enumerate(state.channels):
        where = f"channel {i}"
        f0, sp, ap = (np.asarray(a) for a in (ch.f0, ch.spectral_envelope, ch.aperiodicity))
        if f0.ndim != 1 or sp.ndim != 2 or ap.ndim != 2:
            raise vcfx.EffectError(f"{where}: f0 must be 1-D and the envelope and aperiodicity 2-D, got "
                                   f"{f0.shape}, {sp.shape}, {ap.shape}")
        if not (len(f0) == sp.shape[0] == ap.shape[0]) or not (sp.shape[1] == ap.shape[1] == bins):
            raise vcfx.EffectError(f"{where}: features must be shaped ({len(f0)}, {bins}) like the analysis, got "
                                   f"envelope {sp.shape} and aperiodicity {ap.shape}")
        if len(f0) < 2:
            raise vcfx.EffectError(f"{where}: at least 2 frames are needed to synthesize, got {len(f0)}")
        if not (np.isfinite(f0).all() and np.isfinite(sp).all() and np.isfinite(ap).all()):
            raise vcfx.EffectError(f"{where}: features contain NaN or inf")
        if (f0 < 0).any() or (f0 >= nyquist).any():
            raise vcfx.EffectError(f"{where}: f0 must lie in [0, {nyquist:g}) Hz, got {f0.min():g}..{f0.max():g}")
        if (sp <= 0).any():
            raise vcfx.EffectError(f"{where}: the spectral envelope must be positive")
        if (ap < 0).any() or (ap > 1).any():
            raise vcfx.EffectError(f"{where}: aperiodicity must lie in [0, 1]")


def _cuts(feat: WorldFeatures, align: int, piece: int) -> list[int]:
    """Frames (multiples of ``align``) to cut synthesis at: the quietest unvoiced frame near every ``piece`` frames."""
    n = len(feat.f0)
    parts = max(1, round(n / piece))
    power = frame_power(feat.spectral_envelope)
    cuts = [0]
    for k in range(1, parts):
        lo, hi = (k * n) // parts - n // (4 * parts), (k * n) // parts + n // (4 * parts)
        candidates = [c for c in range(-(-max(lo, cuts[-1] + 1) // align) * align, min(hi, n - 1), align)
                      if feat.f0[c] == 0 and c > cuts[-1] + SYNTH_OVERLAP_FRAMES]
        if candidates:
            cuts.append(min(candidates, key=lambda c: power[c]))
    return cuts + [n]


def _longest_pulse_gap(f0: np.ndarray, sample_rate: int, period: float) -> int:
    """The longest gap (samples) between excitation pulses that WORLD's synthesis will place.

    Mirrors its pulse placement: f0 and voicing interpolated linearly between
    frames (extrapolated one frame past the end), unvoiced stretches at
    500 Hz, a pulse wherever the phase wraps.
    """
    n = len(f0)
    if n < 2:
        return 0
    length = int(n * period * sample_rate / 1000)
    frame_t = np.arange(n + 1) * (period / 1000)
    voiced = (f0 > 0).astype(np.float64)
    coarse_f0 = np.append(f0, 2 * f0[-1] - f0[-2])
    coarse_vuv = np.append(voiced, 2 * voiced[-1] - voiced[-2])
    t = np.arange(length) / sample_rate
    inst = np.where(np.interp(t, frame_t, coarse_vuv) > 0.5, np.interp(t, frame_t, coarse_f0), 500.0)
    inst = np.maximum(inst, 0.0)
    phase = np.fmod(np.cumsum(2 * np.pi * inst / sample_rate), 2 * np.pi)
    pulses = np.concatenate([[0], np.flatnonzero(np.abs(np.diff(phase)) > np.pi), [length]])
    return int(np.diff(pulses).max())


def _pulse_gap_bound(f0: np.ndarray, sample_rate: int) -> float:
    """An upper bound of :func:`_longest_pulse_gap`, from a few numbers (inf when there is none).

    Where WORLD counts a sample as voiced, its f0 is at least half of a
    voiced frame's (next to an unvoiced one) or the value extrapolated past
    the last frame; unvoiced stretches run at 500 Hz.
    """
    voiced = f0[f0 > 0]
    lowest = min(500.0, 0.5 * voiced.min()) if len(voiced) else 500.0
    if len(f0) > 1 and f0[-1] > 0:
        lowest = min(lowest, 2 * f0[-1] - f0[-2])
    return sample_rate / lowest + 2 if lowest > 0 else np.inf


def _widen(values: np.ndarray, bins: int, log: bool) -> np.ndarray:
    old = np.linspace(0.0, 1.0, values.shape[1])
    new = np.linspace(0.0, 1.0, bins)
    data = np.log(values) if log else values
    out = np.stack([np.interp(new, old, row) for row in data])
    return np.exp(out) if log else out


def _synthesizable(f0, sp, ap, sample_rate: int, period: float):
    """Features pyworld can synthesize without writing past its buffers.

    WORLD's synthesis writes each pulse gap into a buffer of the envelope's FFT
    size. After a deep downward shift, gaps near voicing edges can outgrow it,
    which corrupts the heap and aborts the process; the envelope and
    aperiodicity are then resampled to a wide enough FFT size, which changes
    nothing audible. f0 below ``sample_rate / fft_size``, which WORLD would
    treat as unvoiced anyway, is made unvoiced.
    """
    fft = 2 * (sp.shape[1] - 1)
    if _pulse_gap_bound(f0, sample_rate) + 2 <= fft:
        return f0, sp, ap
    gap = _longest_pulse_gap(f0, sample_rate, period)
    if gap + 2 <= fft:
        return f0, sp, ap
    fft = min(fft * 2 ** int(np.ceil(np.log2((gap + 2) / fft))), MAX_SYNTHESIS_FFT)
    sp, ap = _widen(sp, fft // 2 + 1, log=True), _widen(ap, fft // 2 + 1, log=False)
    f0 = np.where(f0 < sample_rate / fft + 1, 0.0, f0)
    if _longest_pulse_gap(f0, sample_rate, period) + 2 > fft:
        f0 = np.zeros_like(f0)  # beyond any FFT size worth synthesizing: whisper rather than crash
    return f0, sp, ap


@dataclass
class _SynthesisPlan:
    """One channel's features ready for pyworld, and where its pieces start and end (frames)."""

    f0: np.ndarray
    spectral_envelope: np.ndarray
    aperiodicity: np.ndarray
    cuts: list[int]
    step: Fraction  # samples per frame

    def pieces(self) -> list[tuple[int, int]]:
        ends = [min(len(self.f0), b + SYNTH_OVERLAP_FRAMES) for b in self.cuts[1:]]
        return list(zip(self.cuts[:-1], ends)) if len(self.cuts) > 2 else [(0, len(self.f0))]


def _plan_synthesis(feat: WorldFeatures, sample_rate: int, period: float) -> _SynthesisPlan:
    """Cut a channel into pieces of about :data:`SYNTH_PIECE_S` at quiet unvoiced frames.

    With no voice at a cut, no pulse is split; pieces overlap by
    :data:`SYNTH_OVERLAP_FRAMES` and are crossfaded there. Cuts fall on frames
    that start at a whole sample, so pieces join without drift.
    """
    f0, sp, ap = _synthesizable(feat.f0, feat.spectral_envelope, feat.aperiodicity, sample_rate, period)
    n = len(f0)
    step = Fraction(sample_rate) * Fraction(period).limit_denominator(1000) / 1000
    piece = max(1, round(1000 * SYNTH_PIECE_S / period))
    if step.denominator > 64 or n < 2 * piece:
        return _SynthesisPlan(f0, sp, ap, [0, n], step)
    align = step.denominator * -(-SYNTH_OVERLAP_FRAMES // step.denominator)
    return _SynthesisPlan(f0, sp, ap, _cuts(feat, align, piece), step)


def _synthesize_piece(plan: _SynthesisPlan, a: int, b: int, sample_rate: int, period: float) -> np.ndarray:
    return pyworld.synthesize(
        np.ascontiguousarray(plan.f0[a:b], dtype=np.float64),
        np.ascontiguousarray(plan.spectral_envelope[a:b], dtype=np.float64),
        np.ascontiguousarray(plan.aperiodicity[a:b], dtype=np.float64),
        sample_rate,
        frame_period=period,
    )


def _join_pieces(plan: _SynthesisPlan, pieces: list[np.ndarray]) -> np.ndarray:
    """Crossfade the pieces of one channel over their overlap."""
    if len(pieces) == 1:
        return pieces[0]
    starts = [int(a * plan.step) for a, _ in plan.pieces()]
    fade = int(SYNTH_OVERLAP_FRAMES * plan.step)
    out = np.zeros(starts[-1] + len(pieces[-1]))
    for i, (start, y) in enumerate(zip(starts, pieces)):
        y = y.copy()
        if i > 0:
            y[:fade] *= np.linspace(0.0, 1.0, fade)
        if i < len(pieces) - 1:
            keep = starts[i + 1] - start + fade
            y = y[:keep]
            y[-fade:] *= np.linspace(1.0, 0.0, fade)
        out[start:start + len(y)] += y
    return out


def _fit_level(feat: WorldFeatures, y: np.ndarray, frames: int) -> np.ndarray:
    """Fit ``y`` to exactly ``frames`` samples at the level the channel was analysed at.

    CheapTrick's spectral recovery (its ``q1`` lifter) sharpens the envelope's
    peaks while keeping its mean log power, which raises its mean power: an
    unchanged round trip comes out 13-18 % louder in RMS, by an amount that
    depends on the voice (without the lifter it is 3-4 % quieter; D4C plays
    no part). So the output is scaled to the input's RMS, times the change in
    envelope power that the effects made.
    """
    y = y[:frames] if len(y) >= frames else np.pad(y, (0, frames - len(y)))
    rms = np.sqrt(np.mean(np.square(y)))
    if feat.input_rms is None or feat.envelope_power is None or not rms > 0:
        return y
    target = feat.input_rms * np.sqrt(envelope_power(feat.spectral_envelope) / feat.envelope_power)
    return y * (target / rms)


def synthesize_channels(channels: list[WorldFeatures], sample_rate: int, period: float,
                        frames: int) -> list[np.ndarray]:
    """Synthesize every channel, fitted to ``frames`` samples, the pieces of all channels on all cores.

    A silent channel comes back as silence, an untouched unvoiced one as the
    samples analysed.
    """
    plans = {c: _plan_synthesis(feat, sample_rate, period) for c, feat in enumerate(channels)
             if not feat.silent and not feat.untouched_unvoiced(frames)}
    jobs = [(c, a, b) for c, plan in plans.items() for a, b in plan.pieces()]
    pieces = _map(lambda c, a, b: _synthesize_piece(plans[c], a, b, sample_rate, period), *zip(*jobs)) if jobs else []
    out = []
    for c, feat in enumerate(channels):
        if feat.silent:
            out.append(np.zeros(frames))
        elif c not in plans:
            out.append(np.asarray(feat.source, dtype=np.float64))
        else:
            y = _join_pieces(plans[c], [p for (cc, _, _), p in zip(jobs, pieces) if cc == c])
            out.append(_fit_level(feat, y, frames))
    return out


class WorldDomain(vcfx.Domain):
    """WORLD vocoder features (f0, spectral envelope, aperiodicity) per channel.

    Options, given as ``Chain(..., options={"world": {...}})``: see
    :data:`OPTION_PARAMS`.
    """

    name = "world"

    def min_frames(self, sample_rate: int) -> int:
        return int(0.02 * sample_rate)

    def analyze(self, audio: vcfx.Audio, ctx: vcfx.Context) -> WorldState:
        opts = analysis_options(ctx)
        sounding = [c for c, x in enumerate(audio.samples) if np.abs(x).max() >= SILENCE_PEAK]
        analysed = dict(zip(sounding, analyze_channels([audio.samples[c] for c in sounding], audio.sample_rate,
                                                       opts)))
        channels = [analysed[c] if c in analysed else self._silence(audio, opts) for c in range(audio.channels)]
        return WorldState(channels, audio.sample_rate, opts["frame_period_ms"], audio.frames, opts)

    def _silence(self, audio: vcfx.Audio, opts: dict[str, Any]) -> WorldFeatures:
        n = _frame_count(audio.frames, audio.sample_rate, opts["frame_period_ms"])
        bins = self.bins(audio.sample_rate, opts)
        return WorldFeatures(np.zeros(n), np.full((n, bins), 1e-16), np.ones((n, bins)), True)

    def check_options(self, ctx: vcfx.Context) -> None:
        analysis_options(ctx)

    @staticmethod
    def bins(sample_rate: int, opts: dict[str, Any]) -> int:
        """Width of the spectral envelope and aperiodicity for these analysis options."""
        return pyworld.get_cheaptrick_fft_size(sample_rate, opts["f0_floor_hz"]) // 2 + 1

    def synthesize(self, state: WorldState, ctx: vcfx.Context) -> vcfx.Audio:
        check_state(state, self.bins(state.sample_rate, state.options or analysis_options(ctx)))
        out = synthesize_channels(state.channels, state.sample_rate, state.frame_period_ms, state.frames)
        return vcfx.Audio(np.stack(out), state.sample_rate)

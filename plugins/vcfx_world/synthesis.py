"""WORLD synthesis: checked features, in pieces cut at quiet unvoiced frames, on all cores."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyworld

import vcfx

from .features import WorldFeatures, WorldState, envelope_power, frame_power
from .pool import pool_map

SYNTH_PIECE_S = 1.0
"""Synthesis runs in pieces of about this length, cut at quiet unvoiced frames."""

SYNTH_OVERLAP_FRAMES = 4
"""Crossfade between pieces of a channel synthesized in parallel."""

MAX_SYNTHESIS_FFT = 2**16
"""Widest envelope synthesis is given (see :func:`_synthesizable`)."""


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
        if len(f0) != state.frames_for(state.frames):
            raise vcfx.EffectError(f"{where}: {len(f0)} frames, but {state.frames} samples take "
                                   f"{state.frames_for(state.frames)}; an effect that changes the duration "
                                   f"declares it with WorldState.set_length")
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
             if not feat.silent and not feat.is_untouched(frames)}
    jobs = [(c, a, b) for c, plan in plans.items() for a, b in plan.pieces()]
    pieces = pool_map(lambda c, a, b: _synthesize_piece(plans[c], a, b, sample_rate, period), *zip(*jobs)) if jobs else []
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

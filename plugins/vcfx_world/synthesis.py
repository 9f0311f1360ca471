"""WORLD synthesis: checked features, made safe to synthesize, synthesized on all cores, at the analysed level."""

from __future__ import annotations

import numpy as np

import vcfx

from . import vocoder
from .features import WorldFeatures, WorldState, envelope_power
from .harmonics import level_gains

MAX_SYNTHESIS_FFT = 2**16
"""Widest envelope synthesis is given (see :func:`_synthesizable`)."""


def check_state(state: "WorldState", bins: int) -> None:
    """Refuse features that synthesis cannot use or would turn into noise.

    A wrong envelope width has no meaning, NaN would spread to the whole
    output. Third-party WORLD effects may return anything, so the domain
    checks before it synthesizes.
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
        # the extremes are NaN where any value is, and inf where any is
        (f0_low, f0_high), (sp_low, sp_high), (ap_low, ap_high) = ((a.min(), a.max()) for a in (f0, sp, ap))
        if not np.isfinite([f0_low, f0_high, sp_low, sp_high, ap_low, ap_high]).all():
            raise vcfx.EffectError(f"{where}: features contain NaN or inf")
        if f0_low < 0 or f0_high >= nyquist:
            raise vcfx.EffectError(f"{where}: f0 must lie in [0, {nyquist:g}) Hz, got {f0_low:g}..{f0_high:g}")
        if sp_low <= 0:
            raise vcfx.EffectError(f"{where}: the spectral envelope must be positive")
        if ap_low < 0 or ap_high > 1:
            raise vcfx.EffectError(f"{where}: aperiodicity must lie in [0, 1]")


def _longest_pulse_gap(f0: np.ndarray, fft_size: int, sample_rate: int, period: float) -> int:
    """The most samples between two pulses of :func:`vocoder.pulses` (the noise one pulse carries)."""
    if len(f0) < 2:
        return 0
    train = vocoder.pulses(f0, fft_size, sample_rate, period, vocoder.output_length(len(f0), sample_rate, period))
    return int(train.noise.max()) if len(train.noise) else 0


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
    """Features whose every pulse's noise fits in the envelope's FFT size.

    Synthesis filters the noise between two pulses in one FFT of the
    envelope's size, as WORLD does (pyworld writes past its buffer
    otherwise). After a deep downward shift, gaps near voicing edges can
    outgrow it; the envelope and aperiodicity are then resampled to a wide
    enough FFT size, which changes nothing audible. f0 below
    ``sample_rate / fft_size``, which synthesis treats as unvoiced anyway,
    is made unvoiced.
    """
    fft = 2 * (sp.shape[1] - 1)
    if _pulse_gap_bound(f0, sample_rate) + 2 <= fft:
        return f0, sp, ap
    gap = _longest_pulse_gap(f0, fft, sample_rate, period)
    if gap + 2 <= fft:
        return f0, sp, ap
    fft = min(fft * 2 ** int(np.ceil(np.log2((gap + 2) / fft))), MAX_SYNTHESIS_FFT)
    sp, ap = _widen(sp, fft // 2 + 1, log=True), _widen(ap, fft // 2 + 1, log=False)
    f0 = np.where(f0 < sample_rate / fft + 1, 0.0, f0)
    if _longest_pulse_gap(f0, fft, sample_rate, period) + 2 > fft:
        f0 = np.zeros_like(f0)  # beyond any FFT size worth synthesizing: whisper
    return f0, sp, ap


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
    """Synthesize every channel, fitted to ``frames`` samples, each on all cores (:func:`vocoder.synthesize`).

    A silent channel comes back as silence, an untouched unvoiced one as the
    samples analysed. Frames whose f0 went up get the power their analysed
    harmonics carried (:func:`vcfx_world.harmonics.level_gains`) before the
    level is restored.
    """
    out = []
    for feat in channels:
        if feat.silent:
            out.append(np.zeros(frames))
        elif feat.is_untouched(frames):
            out.append(np.asarray(feat.source, dtype=np.float64))
        else:
            sp = feat.spectral_envelope
            gains = level_gains(feat.f0, feat.analysed_f0, sp, feat.aperiodicity, sample_rate, period)
            if gains is not None:
                sp = sp * gains[:, np.newaxis]
            f0, sp, ap = _synthesizable(feat.f0, sp, feat.aperiodicity, sample_rate, period)
            y = vocoder.synthesize(f0, sp, ap, sample_rate, period, mapper=vcfx.thread_map)
            out.append(_fit_level(feat, y, frames))
    return out

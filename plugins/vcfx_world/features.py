"""The WORLD domain: analysis once per run of WORLD effects, synthesis once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyworld

import vcfx
from vcfx.errors import ParameterError

F0_METHODS = ("dio", "harvest")

OPTION_PARAMS = (
    vcfx.Param("f0_method", str, "dio", "f0 tracker: dio is fast, harvest tracks voicing more accurately",
               choices=F0_METHODS),
    vcfx.Param("f0_floor_hz", float, 71.0, "Lowest f0 searched", unit="Hz", low=40.0, high=400.0),
    vcfx.Param("f0_ceil_hz", float, 800.0, "Highest f0 searched", unit="Hz", low=100.0, high=1600.0),
    vcfx.Param("frame_period_ms", float, 5.0, "Hop between analysis frames", unit="ms", low=1.0, high=20.0),
)

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
    """

    f0: np.ndarray
    spectral_envelope: np.ndarray
    aperiodicity: np.ndarray
    silent: bool = False
    input_rms: float | None = None
    envelope_power: float | None = None


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


def analyze_channel(x: np.ndarray, sample_rate: int, opts: dict[str, Any]) -> WorldFeatures:
    """Run f0 tracking, CheapTrick and D4C on one channel (float64, C-contiguous)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    period = opts["frame_period_ms"]
    floor, ceil = opts["f0_floor_hz"], opts["f0_ceil_hz"]
    if opts["f0_method"] == "harvest":
        f0, t = pyworld.harvest(x, sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=period)
    else:
        raw, t = pyworld.dio(x, sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=period)
        f0 = pyworld.stonemask(x, raw, t, sample_rate)
    sp = pyworld.cheaptrick(x, f0, t, sample_rate, f0_floor=floor)
    ap = pyworld.d4c(x, f0, t, sample_rate)
    rms = float(np.sqrt(np.mean(np.square(x))))
    return WorldFeatures(f0, sp, ap, input_rms=rms, envelope_power=envelope_power(sp))


def synthesize_channel(feat: WorldFeatures, sample_rate: int, period: float, frames: int) -> np.ndarray:
    """Synthesize one channel at the level it was analysed at, fitted to exactly ``frames`` samples.

    CheapTrick's spectral recovery (its ``q1`` lifter) sharpens the envelope's
    peaks while keeping its mean log power, which raises its mean power: an
    unchanged round trip comes out 13-18 % louder in RMS, by an amount that
    depends on the voice (without the lifter it is 3-4 % quieter; D4C plays
    no part). So the output is scaled to the input's RMS, times the change in
    envelope power that the effects made.
    """
    if feat.silent:
        return np.zeros(frames)
    y = pyworld.synthesize(
        np.ascontiguousarray(feat.f0, dtype=np.float64),
        np.ascontiguousarray(feat.spectral_envelope, dtype=np.float64),
        np.ascontiguousarray(feat.aperiodicity, dtype=np.float64),
        sample_rate,
        frame_period=period,
    )
    y = y[:frames] if len(y) >= frames else np.pad(y, (0, frames - len(y)))
    rms = np.sqrt(np.mean(np.square(y)))
    if feat.input_rms is None or feat.envelope_power is None or not rms > 0:
        return y
    target = feat.input_rms * np.sqrt(envelope_power(feat.spectral_envelope) / feat.envelope_power)
    return y * (target / rms)


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
        channels = []
        for x in audio.samples:
            if np.abs(x).max() < SILENCE_PEAK:
                n = int(audio.frames / audio.sample_rate * 1000 / opts["frame_period_ms"]) + 1
                bins = pyworld.get_cheaptrick_fft_size(audio.sample_rate, opts["f0_floor_hz"]) // 2 + 1
                channels.append(WorldFeatures(np.zeros(n), np.full((n, bins), 1e-16), np.ones((n, bins)), True))
            else:
                channels.append(analyze_channel(x, audio.sample_rate, opts))
        return WorldState(channels, audio.sample_rate, opts["frame_period_ms"], audio.frames, opts)

    def synthesize(self, state: WorldState, ctx: vcfx.Context) -> vcfx.Audio:
        out = np.stack(
            [synthesize_channel(c, state.sample_rate, state.frame_period_ms, state.frames) for c in state.channels]
        )
        return vcfx.Audio(out, state.sample_rate)

"""The WORLD domain: analysis once per run of WORLD effects, synthesis once."""

from __future__ import annotations

from typing import Any

import numpy as np

import vcfx

from . import cheaptrick
from .analysis import OPTION_PARAMS, analysis_options, analyze_channels, frame_count
from .features import WorldFeatures, WorldState
from .synthesis import check_state, synthesize_channels

SILENCE_PEAK = 1e-6
"""A channel whose peak is below this is passed through as silence."""


class WorldDomain(vcfx.Domain):
    """WORLD vocoder features (f0, spectral envelope, aperiodicity) per channel.

    Options, given as ``Chain(..., options={"world": {...}})``: see
    :data:`option_params`.
    """

    name = "world"
    option_params = OPTION_PARAMS

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
        n = frame_count(audio.frames, audio.sample_rate, opts["frame_period_ms"])
        bins = self.bins(audio.sample_rate, opts)
        return WorldFeatures(np.zeros(n), np.full((n, bins), 1e-16), np.ones((n, bins)), True)

    def check_options(self, ctx: vcfx.Context) -> None:
        analysis_options(ctx)

    @staticmethod
    def bins(sample_rate: int, opts: dict[str, Any]) -> int:
        """Width of the spectral envelope and aperiodicity for these analysis options."""
        return cheaptrick.fft_size(sample_rate, opts["f0_floor_hz"]) // 2 + 1

    def synthesize(self, state: WorldState, ctx: vcfx.Context) -> vcfx.Audio:
        check_state(state, self.bins(state.sample_rate, state.options or analysis_options(ctx)))
        out = synthesize_channels(state.channels, state.sample_rate, state.frame_period_ms, state.frames)
        return vcfx.Audio(np.stack(out), state.sample_rate)

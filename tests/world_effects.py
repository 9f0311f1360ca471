"""Two WORLD effects of a third-party plugin, written from the "WORLD domain" page with public names only."""

from __future__ import annotations

import numpy as np

import vcfx
import vcfx_world

QUIET_POWER = 1e-16
"""Spectral envelope of the frames a pause adds: far below any voice."""


class Vibrato(vcfx.Effect):
    """Wobble the pitch: f0 times ``2 ** (depth_cents / 1200 * sin(2 pi rate_hz t))`` on voiced frames."""

    name = "vibrato"
    summary = "Periodic pitch wobble (WORLD)"
    params = (
        vcfx.Param("rate_hz", float, 5.5, "Wobbles per second", unit="Hz", low=0.5, high=20.0),
        vcfx.Param("depth_cents", float, 50.0, "Largest pitch deviation", unit="cents", low=0.0, high=1200.0),
    )
    domains = ("world",)
    examples = ({"rate_hz": 6.0, "depth_cents": 80.0},)

    def process_world(self, state: vcfx_world.WorldState, ctx: vcfx.Context) -> vcfx_world.WorldState:
        for i, ch in enumerate(state.channels):
            wobble = np.sin(2 * np.pi * self.rate_hz * state.frame_times(i))
            ch.f0 *= np.exp2(self.depth_cents / 1200.0 * wobble)  # in place: unvoiced frames stay 0 Hz
        return state


class Pause(vcfx.Effect):
    """Append ``pause_ms`` of silence, as unvoiced WORLD frames of negligible power."""

    name = "world_pause"
    summary = "Silence appended in the WORLD domain"
    params = (vcfx.Param("pause_ms", float, 200.0, "Silence added at the end", unit="ms", low=0.0, high=5000.0),)
    domains = ("world",)
    examples = ({"pause_ms": 50.0},)

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        if self.is_random():
            return None
        return frames + round(self.pause_ms * sample_rate / 1000.0)

    def process_world(self, state: vcfx_world.WorldState, ctx: vcfx.Context) -> vcfx_world.WorldState:
        frames = self.expected_frames(state.frames, state.sample_rate)
        extra = state.frames_for(frames) - len(state.channels[0].f0)
        for ch in state.channels:
            bins = ch.spectral_envelope.shape[1]
            ch.f0 = np.concatenate([ch.f0, np.zeros(extra)])
            ch.spectral_envelope = np.concatenate([ch.spectral_envelope, np.full((extra, bins), QUIET_POWER)])
            ch.aperiodicity = np.concatenate([ch.aperiodicity, np.ones((extra, bins))])
            if ch.periodicity is not None:
                ch.periodicity = np.concatenate([ch.periodicity, np.zeros(extra)])
        state.set_length(frames)
        return state


@vcfx.hookimpl
def register_effects(register):
    register(Vibrato)
    register(Pause)

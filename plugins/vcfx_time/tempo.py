"""tempo: change the pace, keep the pitch (Rubber Band, or WORLD frames)."""

from __future__ import annotations

import numpy as np
import pedalboard

import vcfx

from .rescaling import Rescaling, fit_length

PAD_FRAMES = 8192
"""Silence appended before Rubber Band, which drops or shortens very short inputs."""


class Tempo(Rescaling):
    """Change the pace without changing the pitch.

    Works in two domains and the chain picks the one that avoids a
    conversion:

    - ``waveform``: Rubber Band (through ``pedalboard.time_stretch``, high
      quality). The input is padded with silence first, because Rubber Band
      drops or shortens very short inputs, and the result is cut to length.
    - ``world``: next to WORLD effects (``pitch_shift`` ...), the WORLD
      frames are resampled in time, output frame ``j`` reading input frame
      ``j * rate`` (``WorldState.resample`` of ``vcfx_world``), so the chain
      analyses and synthesises only once.
    - ``psola``: next to PSOLA effects, the time map of the pitch marks is
      stretched (``PsolaState.stretch`` of ``vcfx_psola``).

    Parameters
    ----------
    rate : float
        Pace, 0.25 to 4; above 1 is faster (shorter).

    Notes
    -----
    The output has exactly ``max(1, round(frames / rate))`` frames in both
    domains. Any input length works, down to a single frame (next to WORLD
    effects, the WORLD analysis needs 20 ms).
    """

    name = "tempo"
    summary = "Faster or slower at the same pitch (Rubber Band or WORLD)"
    params = (
        vcfx.Param("rate", float, 1.0, "Pace; 2 is twice as fast at the same pitch", unit="x",
                   low=0.25, high=4.0),
    )
    domains = ("waveform", "world", "psola")
    examples = ({"rate": 0.7}, {"rate": 1.3})

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        frames = self.expected_frames(audio.frames, audio.sample_rate)
        if self.rate == 1.0:
            return audio
        x = np.pad(audio.samples, ((0, 0), (0, PAD_FRAMES)))
        y = pedalboard.time_stretch(x, float(audio.sample_rate), stretch_factor=self.rate)
        return audio.replace(samples=fit_length(y, frames))

    def process_world(self, state, ctx: vcfx.Context):
        frames = self.expected_frames(state.frames, state.sample_rate)
        state.resample(frames, np.arange(state.frames_for(frames)) * self.rate)
        return state

    def process_psola(self, state, ctx: vcfx.Context):
        frames = self.expected_frames(state.frames, state.sample_rate)
        state.stretch(frames, np.arange(state.frames_for(frames)) * self.rate)
        return state

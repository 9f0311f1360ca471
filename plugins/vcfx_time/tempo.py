"""tempo: change the pace, keep the pitch (Rubber Band, or WORLD frames)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pedalboard

import vcfx

from .rescaling import Rescaling, fit_length

PAD_FRAMES = 8192
"""Silence appended before Rubber Band, which drops or shortens very short inputs."""


def stretch_features(feat, rate: float, n_out: int):
    """Resample one channel's WORLD frames in time: output frame ``j`` reads input frame ``j * rate``.

    The spectral envelope is interpolated in log power and the aperiodicity
    linearly. f0 is interpolated in log frequency only between two voiced
    frames; next to an unvoiced frame (f0 = 0) the nearer frame is taken,
    so voicing boundaries stay sharp and no glide from 0 Hz appears.
    """
    n_in = len(feat.f0)
    pos = np.minimum(np.arange(n_out) * rate, n_in - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = pos - i0
    f0_0, f0_1 = feat.f0[i0], feat.f0[i1]
    voiced = (f0_0 > 0) & (f0_1 > 0)
    nearest = np.where(w < 0.5, f0_0, f0_1)
    glide = np.exp2((1 - w) * np.log2(np.where(voiced, f0_0, 1.0)) + w * np.log2(np.where(voiced, f0_1, 1.0)))
    f0 = np.where(voiced, glide, nearest)
    wc = w[:, np.newaxis]
    sp = _interpolate_rows(np.log(np.maximum(feat.spectral_envelope, 1e-300)), i0, wc)
    np.exp(sp, out=sp)
    ap = _interpolate_rows(np.asarray(feat.aperiodicity, dtype=np.float64), i0, wc)
    periodicity = None if feat.periodicity is None else np.where(w < 0.5, feat.periodicity[i0], feat.periodicity[i1])
    return dataclasses.replace(feat, f0=f0, spectral_envelope=sp, aperiodicity=ap, periodicity=periodicity)


def _interpolate_rows(values: np.ndarray, i0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows ``i0 + w`` of ``values``, linearly interpolated (``i0`` + 1 past the end reads the last row)."""
    step = np.diff(values, axis=0, append=values[-1:])
    out = values[i0]
    rise = step[i0]
    rise *= w
    out += rise
    return out


class Tempo(Rescaling):
    """Change the pace without changing the pitch.

    Works in two domains and the chain picks the one that avoids a
    conversion:

    - ``waveform``: Rubber Band (through ``pedalboard.time_stretch``, high
      quality). The input is padded with silence first, because Rubber Band
      drops or shortens very short inputs, and the result is cut to length.
    - ``world``: next to WORLD effects (``pitch_shift`` ...), the WORLD
      frames are resampled in time (see :func:`stretch_features`), so the
      chain analyses and synthesises only once.

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
    domains = ("waveform", "world")
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
        n_out = int(frames / state.sample_rate * 1000.0 / state.frame_period_ms) + 1
        state.channels = [stretch_features(ch, self.rate, n_out) for ch in state.channels]
        state.frames = frames
        return state

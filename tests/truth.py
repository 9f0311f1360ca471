"""Independent measurements for tests: Praat (through parselmouth) judges pitch, not WORLD."""

from __future__ import annotations

import numpy as np
import parselmouth

import vcfx


def praat_f0(audio: vcfx.Audio, floor: float = 60.0, ceiling: float = 900.0, step_s: float = 0.01):
    """Times (s) and f0 (Hz, 0 where unvoiced) of the first channel, by Praat's autocorrelation."""
    sound = parselmouth.Sound(audio.samples[0].astype(np.float64), audio.sample_rate)
    pitch = sound.to_pitch_ac(time_step=step_s, pitch_floor=floor, pitch_ceiling=ceiling)
    return pitch.xs(), pitch.selected_array["frequency"]


def f0_at(audio: vcfx.Audio, times_s: np.ndarray, **kw) -> np.ndarray:
    """Praat f0 sampled at ``times_s`` (nearest frame; 0 where unvoiced or outside)."""
    t, f = praat_f0(audio, **kw)
    idx = np.clip(np.searchsorted(t, times_s), 0, len(t) - 1)
    near = np.abs(t[idx] - times_s) <= 0.006
    return np.where(near, f[idx], 0.0)


def shift_cents(before: vcfx.Audio, after: vcfx.Audio, time_scale: float = 1.0, **kw) -> np.ndarray:
    """Per-frame pitch change in cents on frames voiced in both.

    ``time_scale`` maps a time in ``before`` to the time in ``after``
    (1 / rate for tempo and speed).
    """
    t, f_before = praat_f0(before, **kw)
    f_after = f0_at(after, t * time_scale, **kw)
    both = (f_before > 0) & (f_after > 0)
    return 1200.0 * np.log2(f_after[both] / f_before[both])


def cents(ratio: float) -> float:
    return 1200.0 * float(np.log2(ratio))

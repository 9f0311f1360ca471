"""What speed and tempo share: a ``rate`` that divides the duration."""

from __future__ import annotations

import numpy as np

import vcfx


def fit_length(x: np.ndarray, frames: int) -> np.ndarray:
    """Crop or zero-pad ``x`` (channels, n) along time to exactly ``frames``."""
    if x.shape[-1] >= frames:
        return x[..., :frames]
    return np.pad(x, ((0, 0), (0, frames - x.shape[-1])))


class Rescaling(vcfx.Effect):
    """An effect whose output lasts ``duration / rate``: exactly ``max(1, round(frames / rate))`` frames."""

    rate: float

    def live(self, sample_rate, channels, block_frames, ctx):
        """Refused: a live stream keeps its length, and this effect changes it."""
        raise vcfx.StreamError(f"it changes the length (rate={self.rate} makes the output last 1/rate as long), "
                               "and a live stream's output keeps pace with its input")

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        if self.is_random():
            return None
        return max(1, round(frames / self.rate))

"""What PSOLA effects transform: a target f0 contour, a time map and a formant ratio over the analysed samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import vcfx


@dataclass
class PsolaState:
    """The analysed audio, its pitch marks, and what synthesis should make of them.

    Every per-frame array describes the *output*: frame ``j`` is at
    ``j * frame_period_ms`` in the output, and reads the input at
    ``source_s[j]``.

    Attributes
    ----------
    samples : ndarray, shape (channels, n)
        The analysed audio.
    sample_rate : int
        Rate of the audio (and of synthesis).
    frame_period_ms : float
        Time between frames (the ``frame_period_ms`` option).
    frames : int
        Number of samples synthesis returns; changed only through
        :meth:`stretch` or :meth:`set_length`.
    f0 : ndarray, shape (frames_for(frames),)
        Output f0 in Hz per frame, 0 where unvoiced. Analysis fills in the
        voice's own f0, so an untouched state resynthesises the input pitch.
    source_s : ndarray, shape (frames_for(frames),)
        Input time (s) each output frame reads: the time map.
    formant_ratio : float
        Factor on every formant frequency (1 keeps them).
    marks : ndarray of float
        Analysis pitch marks (sample positions, to a fraction of a sample),
        one set for every channel.
    mark_periods : ndarray of int
        Half-width in samples of the grain around each mark: the local
        period where voiced, the fixed spacing where not.
    analysed_f0 : ndarray
        f0 of the input per input frame (read only).
    periodicity : ndarray
        Normalised autocorrelation at one period per input frame (read only).
    options : dict
        The analysis options used (read only).
    """

    samples: np.ndarray
    sample_rate: int
    frame_period_ms: float
    frames: int
    f0: np.ndarray
    source_s: np.ndarray
    marks: np.ndarray
    mark_periods: np.ndarray
    analysed_f0: np.ndarray
    periodicity: np.ndarray
    formant_ratio: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)

    def frame_times(self) -> np.ndarray:
        """Output time (s) of every frame: what ``vcfx.at_times`` needs to read a Curve frame by frame."""
        return np.arange(len(self.f0)) * (self.frame_period_ms / 1000.0)

    def frames_for(self, samples: int) -> int:
        """Number of frames ``samples`` samples take, counted as the WORLD analysis counts them."""
        return int(1000.0 * samples / self.sample_rate / self.frame_period_ms) + 1

    def output_periodicity(self) -> np.ndarray:
        """:attr:`periodicity` of the input frame each output frame reads (through the time map)."""
        frame = np.rint(self.source_s / (self.frame_period_ms / 1000.0)).astype(int)
        return self.periodicity[np.clip(frame, 0, len(self.periodicity) - 1)]

    def output_power(self) -> np.ndarray | None:
        """Mean-square level of the input around the time each output frame reads, over every channel.

        The window is three periods of the f0 floor, Praat's for its
        voicing. ``None`` when the state holds no samples (a live stream's
        frames).
        """
        if self.samples.shape[-1] == 0:
            return None
        square = np.square(self.samples).mean(axis=0)
        total = np.concatenate(([0.0], np.cumsum(square)))
        half = int(1.5 * self.sample_rate / self.options["f0_floor_hz"])
        centre = np.rint(self.source_s * self.sample_rate).astype(int)
        lo = np.clip(centre - half, 0, len(square))
        hi = np.clip(centre + half + 1, 0, len(square))
        return (total[hi] - total[lo]) / np.maximum(hi - lo, 1)

    def scale_f0(self, factor) -> None:
        """Multiply the output f0 by ``factor`` (a number, or one per frame); unvoiced frames stay 0."""
        self.f0 = self.f0 * np.broadcast_to(np.asarray(factor, dtype=float), self.f0.shape)

    def set_formant_ratio(self, ratio: float) -> None:
        """Multiply the formant ratio by ``ratio`` (two shifts by 1.1 move formants by 1.21)."""
        self.formant_ratio *= float(ratio)

    def stretch(self, frames: int, positions: np.ndarray) -> None:
        """Change the duration to ``frames`` samples, output frame ``j`` reading current frame ``positions[j]``.

        ``positions`` holds ``frames_for(frames)`` fractional frame
        positions (``np.arange(n) * rate`` plays ``rate`` times as fast).
        The time map is interpolated linearly; f0 in log frequency between
        two voiced frames and from the nearer frame next to an unvoiced one.
        """
        n = self.frames_for(frames)
        positions = np.clip(np.asarray(positions, dtype=float), 0, len(self.f0) - 1)
        if positions.shape != (n,):
            raise vcfx.EffectError(f"stretch(frames={frames}): needs {n} positions, got {positions.shape}")
        grid = np.arange(len(self.f0))
        self.source_s = np.interp(positions, grid, self.source_s)
        lo = np.floor(positions).astype(int)
        hi = np.minimum(lo + 1, len(self.f0) - 1)
        w = positions - lo
        a, b = self.f0[lo], self.f0[hi]
        both = (a > 0) & (b > 0)
        nearer = np.where(w < 0.5, a, b)
        with np.errstate(divide="ignore"):
            blended = np.exp2((1 - w) * np.log2(np.where(both, a, 1.0)) + w * np.log2(np.where(both, b, 1.0)))
        self.f0 = np.where(both, blended, nearer)
        self.set_length(frames)

    def set_length(self, frames: int) -> None:
        """Declare that synthesis returns ``frames`` samples, after giving ``f0`` and ``source_s`` their frames.

        Raises
        ------
        vcfx.EffectError
            When ``frames`` is not a positive whole number, or ``f0`` or
            ``source_s`` does not hold ``frames_for(frames)`` frames.
        """
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
            raise vcfx.EffectError(f"set_length(frames={frames!r}): frames must be a whole number of samples, >= 1")
        n = self.frames_for(frames)
        if len(self.f0) != n or len(self.source_s) != n:
            raise vcfx.EffectError(f"set_length(frames={frames}): {frames} samples take {n} frames, but f0 has "
                                   f"{len(self.f0)} and source_s {len(self.source_s)}")
        self.frames = int(frames)

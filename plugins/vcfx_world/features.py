"""What the WORLD domain holds: f0, spectral envelope and aperiodicity per channel, and how effects change it.

The contract is written out for effect authors in the "WORLD domain" page of
the documentation (docs/domains.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import vcfx


@dataclass
class WorldFeatures:
    """WORLD features of one channel.

    Effects may replace or change in place ``f0``, ``spectral_envelope``,
    ``aperiodicity`` and ``periodicity``; the other fields describe the
    analysis and are left alone.

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
    source : np.ndarray, optional
        The analysed samples, which synthesis returns as they are for a
        channel that :meth:`is_untouched`.
    periodicity : np.ndarray [shape=(frames,)], optional
        How clearly each voiced frame repeats at its analysed period
        (normalised autocorrelation at one period, as in Praat's voicing
        decision); 0 where unvoiced. :meth:`resampled` and
        :meth:`WorldState.set_length` keep it frame for frame with f0.
    fingerprint : str, optional
        Digest of the envelope and aperiodicity as analysed, kept only for a
        channel analysed with no voiced frame (see :meth:`is_untouched`).
    analysed_f0 : np.ndarray [shape=(frames,)], optional
        The f0 each frame's envelope was measured at. Synthesis gives a
        frame whose f0 went up the power its analysed harmonics carried
        (:func:`vcfx_world.harmonics.level_gains`). :meth:`resampled` and
        :meth:`WorldState.set_length` keep it frame for frame with f0.
    """

    f0: np.ndarray
    spectral_envelope: np.ndarray
    aperiodicity: np.ndarray
    silent: bool = False
    input_rms: float | None = None
    envelope_power: float | None = None
    source: np.ndarray | None = field(default=None, repr=False)
    periodicity: np.ndarray | None = field(default=None, repr=False)
    fingerprint: str | None = field(default=None, repr=False)
    analysed_f0: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def analysed(cls, f0: np.ndarray, spectral_envelope: np.ndarray, aperiodicity: np.ndarray, source: np.ndarray,
                 periodicity: np.ndarray | None = None) -> WorldFeatures:
        """Features of the analysed samples ``source``, with the level and fingerprint synthesis compares against."""
        return cls(f0, spectral_envelope, aperiodicity,
                   input_rms=float(np.sqrt(np.mean(np.square(source)))),
                   envelope_power=envelope_power(spectral_envelope), source=source, periodicity=periodicity,
                   fingerprint=None if np.any(f0) else _digest(spectral_envelope, aperiodicity),
                   analysed_f0=np.array(f0, dtype=np.float64))

    def is_untouched(self, frames: int) -> bool:
        """Whether synthesis may return :attr:`source` as it is instead of resynthesizing the channel.

        True only for a channel that was analysed with no voiced frame, still
        has none, still lasts ``frames`` samples, and whose envelope and
        aperiodicity hold exactly the values analysed. Contents are compared,
        not objects: an array changed in place counts as changed, and a new
        array with the analysed values does not. A voiced channel is always
        resynthesized, changed or not.
        """
        return (self.source is not None and self.fingerprint is not None and len(self.source) == frames
                and not np.any(self.f0)
                and _digest(self.spectral_envelope, self.aperiodicity) == self.fingerprint)

    def resampled(self, positions: np.ndarray) -> WorldFeatures:
        """These features read at fractional frame ``positions``: output frame ``j`` is input frame ``positions[j]``.

        The spectral envelope is interpolated in log power and the
        aperiodicity linearly. f0 is interpolated in log frequency only
        between two voiced frames; next to an unvoiced frame (f0 = 0) the
        nearer frame is taken, so voicing boundaries stay sharp and no glide
        from 0 Hz appears; so is the analysed f0. Periodicity takes the
        nearer frame. Positions past the last frame read the last frame.

        Parameters
        ----------
        positions : np.ndarray [shape=(new_frames,)]
            Non-negative input frame of each output frame.

        Returns
        -------
        WorldFeatures
            A copy with ``len(positions)`` frames; the analysis fields are kept.
        """
        n_in = len(self.f0)
        pos = np.minimum(np.asarray(positions, dtype=np.float64), n_in - 1)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w = pos - i0
        sp = _interpolate_rows(self.spectral_envelope, i0, w, log=True)
        ap = _interpolate_rows(self.aperiodicity, i0, w)
        periodicity = None if self.periodicity is None else np.where(w < 0.5, self.periodicity[i0],
                                                                     self.periodicity[i1])
        analysed_f0 = None if self.analysed_f0 is None else _f0_between(self.analysed_f0, i0, i1, w)
        return dataclasses.replace(self, f0=_f0_between(self.f0, i0, i1, w), spectral_envelope=sp, aperiodicity=ap,
                                   periodicity=periodicity, analysed_f0=analysed_f0)


@dataclass
class WorldState:
    """What WORLD effects transform: the features of every channel.

    Attributes
    ----------
    channels : list of WorldFeatures
        One per channel of the audio, each with the same number of frames.
    sample_rate : int
        Rate of the audio (and of synthesis).
    frame_period_ms : float
        Time between frames.
    frames : int
        Number of samples synthesis returns. An effect that changes the
        duration declares the new one with :meth:`set_length` (or
        :meth:`resample`).
    options : dict
        The analysis options used: ``f0_method``, ``f0_floor_hz``,
        ``f0_ceil_hz``, ``frame_period_ms``.
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

    def frames_for(self, samples: int) -> int:
        """Number of WORLD frames that ``samples`` samples take, counted as the analysis counts them."""
        return int(1000.0 * samples / self.sample_rate / self.frame_period_ms) + 1

    def set_length(self, frames: int) -> None:
        """Declare a new duration: synthesis returns ``frames`` samples.

        Call it after giving every channel's f0, envelope and aperiodicity
        ``frames_for(frames)`` frames. A channel's periodicity still at its
        old number of frames is resampled to the new one as if the frames had
        been stretched evenly, and so is its analysed f0; an effect that
        knows better sets them first.

        Raises
        ------
        vcfx.EffectError
            When ``frames`` is not a positive whole number, or a channel's f0
            does not have ``frames_for(frames)`` frames.
        """
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
            raise vcfx.EffectError(f"set_length(frames={frames!r}): frames must be a whole number of samples, >= 1")
        n = self.frames_for(frames)
        for c, ch in enumerate(self.channels):
            if len(ch.f0) != n:
                raise vcfx.EffectError(f"set_length(frames={frames}): {frames} samples take {n} frames, but channel "
                                       f"{c} has {len(ch.f0)}; give every channel {n} frames first")
            if ch.periodicity is not None and len(ch.periodicity) != n:
                ch.periodicity = _stretch_evenly(ch.periodicity, n)
            if ch.analysed_f0 is not None and len(ch.analysed_f0) != n:
                ch.analysed_f0 = _stretch_evenly(ch.analysed_f0, n)
        self.frames = int(frames)

    def resample(self, frames: int, positions: np.ndarray) -> None:
        """Change the duration to ``frames`` samples, every channel read at ``positions`` (:meth:`WorldFeatures.resampled`).

        ``positions`` holds the input frame of each of the
        ``frames_for(frames)`` output frames: ``np.arange(n) * rate`` plays
        ``rate`` times as fast.
        """
        self.channels = [ch.resampled(positions) for ch in self.channels]
        self.set_length(frames)


def frame_power(spectral_envelope: np.ndarray) -> np.ndarray:
    """Mean-square level of each frame described by a power spectral envelope (Parseval)."""
    sp = spectral_envelope
    return (sp[:, 0] + 2 * sp[:, 1:-1].sum(axis=1) + sp[:, -1]) / (2 * (sp.shape[1] - 1))


def envelope_power(spectral_envelope: np.ndarray) -> float:
    """Mean of :func:`frame_power` over all frames."""
    return float(frame_power(spectral_envelope).mean())


def _digest(*arrays: np.ndarray) -> str:
    """Digest of the arrays' shapes, types and contents."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


def _interpolate_rows(values: np.ndarray, i0: np.ndarray, w: np.ndarray, log: bool = False) -> np.ndarray:
    """Rows ``i0 + w`` of ``values``, linearly interpolated (``i0`` + 1 past the end reads the last row).

    With ``log``, the natural logs of the values (at least 1e-300) are
    interpolated and the result exponentiated; the logs are taken of just
    the rows read.
    """
    values = np.asarray(values, dtype=np.float64)
    first = np.asarray(i0, dtype=np.int64)
    second = np.minimum(first + 1, len(values) - 1)
    if log:
        values, first, second = _log_rows(values, first, second)
    out = _between_rows(values, first, second, np.asarray(w, dtype=np.float64))
    return np.exp(out, out=out) if log else out


@vcfx.compiled
def _between_rows(values, first, second, w):
    out = np.empty((len(first), values.shape[1]))
    last = len(values) - 1
    for row in range(len(first)):
        a, b = min(first[row], last), min(second[row], last)
        for k in range(values.shape[1]):
            out[row, k] = values[a, k] + (values[b, k] - values[a, k]) * w[row]
    return out


def _log_rows(values: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Natural logs (of values at least 1e-300) of the rows of ``values`` that ``first`` and ``second`` read.

    Returns the logs and where the rows ``first`` and ``second`` are in them.
    """
    lo, hi = int(first.min()), int(second.max()) + 1
    if hi - lo <= 2 * len(first):  # positions in order: every row in between
        logs = np.maximum(values[lo:hi], 1e-300)
        first, second = first - lo, second - lo
    else:
        needed, at = np.unique(np.concatenate([first, second]), return_inverse=True)
        logs = np.maximum(values[needed], 1e-300)
        first, second = at[:len(first)], at[len(first):]
    return np.log(logs, out=logs), first, second


def _f0_between(f0: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """f0 between frames ``i0`` and ``i1`` at ``w``: in log frequency when both are voiced, else the nearer frame."""
    f0_0, f0_1 = f0[i0], f0[i1]
    voiced = (f0_0 > 0) & (f0_1 > 0)
    nearest = np.where(w < 0.5, f0_0, f0_1)
    glide = np.exp2((1 - w) * np.log2(np.where(voiced, f0_0, 1.0)) + w * np.log2(np.where(voiced, f0_1, 1.0)))
    return np.where(voiced, glide, nearest)


def _stretch_evenly(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` at ``n`` evenly spread positions, each the nearer frame."""
    if n == 1 or len(values) < 2:
        return np.resize(values[:1], n)
    return values[np.rint(np.arange(n) * ((len(values) - 1) / (n - 1))).astype(int)]

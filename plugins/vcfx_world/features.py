"""What the WORLD domain holds: f0, spectral envelope and aperiodicity per channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    source : np.ndarray, optional
        The analysed samples. A channel with no voiced frame whose envelope,
        aperiodicity and length no effect replaced is passed through as
        these samples: resynthesis would only turn its noise into other noise.
    periodicity : np.ndarray [shape=(frames,)], optional
        How clearly each voiced frame repeats at its analysed period
        (:func:`periodicity`); 0 where unvoiced. Effects that change the
        number of frames resample it with them.
    """

    f0: np.ndarray
    spectral_envelope: np.ndarray
    aperiodicity: np.ndarray
    silent: bool = False
    input_rms: float | None = None
    envelope_power: float | None = None
    source: np.ndarray | None = field(default=None, repr=False)
    analysed: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    periodicity: np.ndarray | None = field(default=None, repr=False)

    def untouched_unvoiced(self, frames: int) -> bool:
        """No voiced frame, and envelope, aperiodicity and length as analysed."""
        return (
            self.source is not None
            and self.analysed is not None
            and len(self.source) == frames
            and not np.any(self.f0)
            and self.spectral_envelope is self.analysed[0]
            and self.aperiodicity is self.analysed[1]
        )


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

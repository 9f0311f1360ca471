"""noise in a live stream: the chain's seeded generator, block by block."""

from __future__ import annotations

import numpy as np
from scipy import signal

import vcfx

from .noise import COLORS, DEFAULT_SNR_DB, FLAT_BELOW_HZ

PINK = (np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786]),
        np.array([1.0, -2.494956002, 2.017265875, -0.522189400]))
"""A 1/f filter for white noise (Paul Kellet's; -3 dB per octave from about 10 Hz to the Nyquist frequency)."""


def color_filter(color: str, sample_rate: int) -> tuple[np.ndarray, np.ndarray] | None:
    """IIR ``(b, a)`` that gives white noise the colour's spectrum with unit power; None for white."""
    if COLORS[color] == 0.0:
        return None
    if color == "pink":
        b, a = PINK
    else:  # brown: a leaky integrator, flat below FLAT_BELOW_HZ
        pole = np.exp(-2 * np.pi * FLAT_BELOW_HZ / sample_rate)
        b, a = np.array([1.0]), np.array([1.0, -pole])
    impulse = np.zeros(20 * sample_rate)
    impulse[0] = 1.0
    gain = np.sqrt(np.sum(signal.lfilter(b, a, impulse) ** 2))
    return b / gain, a


class NoiseLive(vcfx.LiveProcessor):
    """Adds the effect's noise to each block; no latency.

    The noise is drawn from the effect's generator (the chain's seed), so
    the same seed gives the same stream, and :meth:`reset` starts it again.
    With ``amount`` the level is absolute; with ``snr_db`` it follows the
    mean square of all input since the stream began (silence so far gets
    no noise). White noise of one channel is the very sequence the offline
    effect draws, before the offline effect scales it to an exact RMS;
    pink and brown come from IIR filters whose power gain is one, so their
    power is exact on average rather than in every run.
    """

    latency_frames = 0

    def __init__(self, effect, sample_rate: int, channels: int, ctx: vcfx.Context):
        self.effect, self.channels, self.seed_sequence = effect, channels, ctx.seed_sequence
        self.filter = color_filter(effect.color, sample_rate)
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.Generator(np.random.PCG64(self.seed_sequence))
        self.energy, self.count = 0.0, 0
        if self.filter is not None:
            self.zi = np.zeros((self.channels, len(self.filter[1]) - 1))

    def process(self, block: np.ndarray) -> np.ndarray:
        amount, snr_db = self.effect.amount, self.effect.snr_db  # read once: another thread may change them
        n = block.shape[1]
        if amount is not None:
            level = np.float32(amount)
        else:  # the mean square of the input so far, frame by frame, so block sizes do not matter
            energy = self.energy + np.cumsum(np.einsum("ij,ij->j", block, block, dtype=np.float64))
            count = self.count + self.channels * np.arange(1, n + 1)
            snr_db = DEFAULT_SNR_DB if snr_db is None else snr_db
            level = np.sqrt(energy / count / 10.0 ** (snr_db / 10.0)).astype(np.float32)
            self.energy, self.count = float(energy[-1]), int(count[-1])
        noise = self.rng.standard_normal((n, self.channels), dtype=np.float32).T  # time-major: any block sizes
        noise = np.ascontiguousarray(noise)
        if self.filter is not None:
            shaped, self.zi = signal.lfilter(self.filter[0], self.filter[1], noise, axis=1, zi=self.zi)
            noise = shaped.astype(np.float32)
        noise *= level
        noise += block
        return noise

    def flush(self) -> np.ndarray:
        self.reset()
        return np.zeros((self.channels, 0), np.float32)

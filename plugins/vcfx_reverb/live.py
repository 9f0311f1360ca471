"""reverb in a live stream: uniformly partitioned convolution, the tail carried across blocks."""

from __future__ import annotations

import numpy as np

import vcfx

PARTITION = 256
"""Frames per partition of the impulse response: the head is convolved directly, the rest by FFT."""


class ReverbLive(vcfx.LiveProcessor):
    """The effect's convolution, block by block, with no latency.

    The impulse response's first :data:`PARTITION` taps are applied by
    direct convolution to every frame as it arrives; the others, in
    partitions of that length, by FFT (overlap-save with a frequency-domain
    delay line) each time a partition of input is complete, into the
    output of the next partition. Any block size works and the output is
    the offline convolution (``keep_peak=False``) within float rounding;
    :meth:`flush` returns the tail, ``L - 1`` frames. ``keep_peak`` is not
    applied live: it needs the peak of the whole output.
    """

    latency_frames = 0

    def __init__(self, effect, sample_rate: int, channels: int):
        self.effect, self.channels = effect, channels
        h = np.asarray(effect.impulse_response(sample_rate, channels), dtype=np.float32).astype(np.float64)
        self.length = h.shape[1]
        b = PARTITION
        parts = -(-self.length // b)
        h = np.pad(h, ((0, 0), (0, parts * b - self.length)))
        self.head = h[:, :b]
        # G[q] is the spectrum of partition q + 1; reversed and doubled so that every step reads one slice
        g = np.fft.rfft(np.pad(h[:, b:].reshape(h.shape[0], parts - 1, b).transpose(1, 0, 2),
                               ((0, 0), (0, 0), (0, b))), axis=-1)
        self.parts = parts - 1
        self.g2 = np.concatenate([g[::-1], g[::-1]]) if self.parts else g
        self.reset()

    def reset(self) -> None:
        b, c = PARTITION, self.channels
        self.history = np.zeros((c, b - 1))
        self.current = np.zeros((c, 2 * b))  # the previous partition, then the one being filled
        self.pos = 0
        self.delay_line = np.zeros((max(self.parts, 1), c, b + 1), dtype=complex)
        self.write = 0
        self.tail = np.zeros((c, b))

    def process(self, block: np.ndarray) -> np.ndarray:
        wet = np.float64(self.effect.wet)  # read once per block
        b = PARTITION
        x = block.astype(np.float64)
        n = x.shape[1]
        out = np.empty((self.channels, n))
        done = 0
        while done < n:
            k = min(n - done, b - self.pos)
            seg = x[:, done:done + k]
            ext = np.concatenate([self.history, seg], axis=1)
            for c in range(self.channels):
                head = self.head[c if len(self.head) > 1 else 0]
                out[c, done:done + k] = np.convolve(ext[c], head, mode="valid")
            out[:, done:done + k] += self.tail[:, self.pos:self.pos + k]
            self.history = ext[:, k:]
            self.current[:, b + self.pos:b + self.pos + k] = seg
            self.pos += k
            done += k
            if self.pos == b:
                self._partition_done()
        out *= wet
        out += (1.0 - wet) * x
        return out.astype(np.float32)

    def _partition_done(self) -> None:
        b = PARTITION
        self.pos = 0
        if self.parts:
            self.delay_line[self.write] = np.fft.rfft(self.current, axis=-1)
            q = self.parts
            start = q - 1 - self.write
            g = self.g2[start:start + q]
            spectrum = (np.einsum("rcb,rb->cb", self.delay_line, g[:, 0]) if g.shape[1] == 1
                        else np.einsum("rcb,rcb->cb", self.delay_line, g))
            self.tail = np.fft.irfft(spectrum, 2 * b, axis=-1)[:, b:]
            self.write = (self.write + 1) % q
        self.current[:, :b] = self.current[:, b:]

    def flush(self) -> np.ndarray:
        rest = self.length - 1
        parts = [self.process(np.zeros((self.channels, min(PARTITION, rest - s)), np.float32))
                 for s in range(0, rest, PARTITION)]
        self.reset()
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)

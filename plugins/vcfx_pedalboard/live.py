"""pedalboard in a live stream: the plugin keeps its state between blocks (``reset=False``)."""

from __future__ import annotations

import numpy as np

import vcfx

PROBE_S = 0.5
"""Seconds of noise a plugin is streamed when the stream is built, to learn how many frames it holds back."""


class PedalboardLive(vcfx.LiveProcessor):
    """Runs the plugin on each block with ``reset=False``, so its state flows from block to block.

    A built-in plugin named by the effect is built afresh for the stream
    (another run never shares it); a wrapped object or a loaded VST3/AU is
    the effect's own. Streamed, pedalboard drops the frames a plugin's
    latency would delay and returns fewer frames than it was given until it
    has them (a look-ahead limiter 240 at 48 kHz in blocks of 256,
    ``Resample`` and the codecs more), and how many depends on the size of
    the blocks: given blocks of changing size it returned nothing at all.
    So when the stream is built, :data:`PROBE_S` of noise through the
    plugin in blocks of ``block_frames`` gives the most frames it holds
    back; a plugin that holds none gets each block as it comes, one that
    holds some is given the input in blocks of exactly ``block_frames`` as
    they fill, its output queued behind silence as long as what it holds
    back and a block less one frame: that is :attr:`latency_frames`, and
    every block is answered in full and in step. A plugin that holds frames
    back and gives silence for the noise cannot stream (in
    pedalboard 0.9.26 ``PitchShift`` does, spotify/pedalboard#415) and is
    refused. :meth:`flush` returns the latency and ``tail_s`` of the
    plugin's output for silence (a reverb's tail) and resets the plugin.
    """

    def __init__(self, effect, sample_rate: int, channels: int, block_frames: int):
        from .effect import build_builtin, parse_settings

        self.effect, self.sample_rate, self.channels, self.block_frames = effect, sample_rate, channels, block_frames
        self.plugin = (build_builtin(effect.plugin, parse_settings(effect.settings)) if isinstance(effect.plugin, str)
                       else effect.instance())
        self.plugin.reset()
        self.latency_frames = self._held_back()
        self.reset()

    def _held_back(self) -> int:
        """The most frames the plugin holds back over :data:`PROBE_S` of noise; StreamError if it gives silence."""
        frames = max(1, round(PROBE_S * self.sample_rate))
        noise = 0.1 * np.random.default_rng(0).standard_normal((self.channels, frames)).astype(np.float32)
        given = returned = held = 0
        loudest = 0.0
        for start in range(0, frames, self.block_frames):
            block = noise[:, start:start + self.block_frames]
            y = self._run(block)
            given, returned = given + block.shape[1], returned + y.shape[1]
            held = max(held, given - returned)
            loudest = max(loudest, float(np.abs(y).max(initial=0.0)))
        self.plugin.reset()
        if held and loudest == 0.0:  # held back, and gave nothing but silence (a gate that shuts holds nothing)
            name = self.effect.plugin if isinstance(self.effect.plugin, str) else type(self.plugin).__name__
            hint = "; for pitch, stream pitch_shift" if name == "PitchShift" else ""
            raise vcfx.StreamError(f"pedalboard's {name} gives silence when streamed block by block "
                                   f"(reset=False){hint}")
        return held + self.block_frames - 1 if held else 0  # the input waits for a whole block

    def _run(self, block: np.ndarray) -> np.ndarray:
        # pedalboard guesses the layout from the shape; a mono block goes in 1-D, which no version misreads
        y = self.plugin.process(block[0] if block.shape[0] == 1 else block, float(self.sample_rate), reset=False)
        if y.size == 0:  # all held back, in whatever shape
            return np.zeros((self.channels, 0), np.float32)
        return y[np.newaxis, :] if y.ndim == 1 else y

    def reset(self) -> None:
        self.plugin.reset()
        self.queue = np.zeros((self.channels, self.latency_frames), np.float32)
        self.pending = np.zeros((self.channels, 0), np.float32)

    def process(self, block: np.ndarray) -> np.ndarray:
        if self.latency_frames:
            self.pending = np.concatenate([self.pending, block], axis=1)
            whole = self.pending.shape[1] // self.block_frames * self.block_frames
            outs = [self._run(self.pending[:, s:s + self.block_frames]) for s in range(0, whole, self.block_frames)]
            self.pending = self.pending[:, whole:]
        else:
            outs = [self._run(block)]
        queue = np.concatenate([self.queue, *(y.astype(np.float32, copy=False) for y in outs)], axis=1)
        n = block.shape[1]
        if queue.shape[1] < n:  # held back more than the probe did: keep pace
            queue = np.pad(queue, ((0, 0), (0, n - queue.shape[1])))
        self.queue = queue[:, n:]
        return np.ascontiguousarray(queue[:, :n])

    def flush(self) -> np.ndarray:
        rest = self.latency_frames + self.effect.tail_frames(self.sample_rate)
        parts = [self.process(np.zeros((self.channels, min(self.block_frames, rest - s)), np.float32))
                 for s in range(0, rest, self.block_frames)]
        self.reset()
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)

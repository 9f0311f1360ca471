"""pedalboard in a live stream: the plugin keeps its state between blocks (``reset=False``)."""

from __future__ import annotations

import numpy as np

import vcfx


class PedalboardLive(vcfx.LiveProcessor):
    """Runs the plugin on each block with ``reset=False``, so its state flows from block to block.

    A built-in plugin named by the effect is built afresh for the stream
    (another run never shares it); a wrapped object or a loaded VST3/AU is
    the effect's own. pedalboard compensates the latency a plugin reports,
    so it is not added here. :meth:`flush` returns ``tail_s`` of the
    plugin's output for silence (a reverb's tail) and resets the plugin.
    """

    latency_frames = 0

    def __init__(self, effect, sample_rate: int, channels: int, block_frames: int):
        from .effect import build_builtin, parse_settings

        self.effect, self.sample_rate, self.channels, self.block_frames = effect, sample_rate, channels, block_frames
        self.plugin = (build_builtin(effect.plugin, parse_settings(effect.settings)) if isinstance(effect.plugin, str)
                       else effect.instance())
        self.plugin.reset()

    def reset(self) -> None:
        self.plugin.reset()

    def process(self, block: np.ndarray) -> np.ndarray:
        # pedalboard guesses the layout from the shape; a mono block goes in 1-D, which no version misreads
        x = block[0] if block.shape[0] == 1 else block
        y = self.plugin.process(x, float(self.sample_rate), reset=False)
        if y.ndim == 1:
            y = y[np.newaxis, :]
        if y.shape != block.shape:  # a plugin that holds frames back: pad, keep pace
            y = np.pad(y[:, :block.shape[1]], ((0, 0), (0, max(0, block.shape[1] - y.shape[1]))))
        return np.ascontiguousarray(y, dtype=np.float32)

    def flush(self) -> np.ndarray:
        rest = self.effect.tail_frames(self.sample_rate)
        parts = [self.process(np.zeros((self.channels, min(self.block_frames, rest - s)), np.float32))
                 for s in range(0, rest, self.block_frames)]
        self.reset()
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)

"""A spy on WORLD: the real functions run, their calls are counted."""

import numpy as np
import pyworld
from vcfx_world import cheaptrick, d4c, vocoder

OWN = {"synthesize": (vocoder, "synthesize"), "cheaptrick": (cheaptrick, "spectral_envelope"),
       "d4c": (d4c, "aperiodicity")}
"""WORLD's stages that vcfx computes itself: where each is counted."""


class Counter:
    """Counts calls of WORLD functions (synthesis, CheapTrick and D4C are the domain's own, :data:`OWN`), and the
    frames handed to cheaptrick and d4c.

    Channels are analysed in batches of frames, so "analysed once" means every
    frame reached cheaptrick exactly once, and d4c at most once (it sees only
    the voiced frames it analyses): see :meth:`analysed_once`.
    """

    def __init__(self, monkeypatch, *names):
        self.calls = {n: 0 for n in names}
        self.frames = {n: 0 for n in names}
        self.d4c_times: list[np.ndarray] = []
        for name in names:
            owner, attribute = OWN.get(name, (pyworld, name))
            real = getattr(owner, attribute)

            def spy(*args, _real=real, _name=name, **kwargs):
                self.calls[_name] += 1
                if _name in ("cheaptrick", "d4c"):
                    self.frames[_name] += len(args[1])
                if _name == "d4c":
                    self.d4c_times.append(np.asarray(args[2]).copy())
                return _real(*args, **kwargs)

            monkeypatch.setattr(owner, attribute, spy)

    def analysed_once(self, audio, frame_period_ms: float = 5.0) -> bool:
        """Every WORLD frame of every channel of ``audio`` went through cheaptrick once, and some through d4c once."""
        frames = audio.channels * (int(1000 * audio.duration_s / frame_period_ms) + 1)
        times = np.concatenate(self.d4c_times) if self.d4c_times else np.zeros(0)
        _, seen = np.unique(times, return_counts=True)
        return self.frames["cheaptrick"] == frames and len(times) > 0 and seen.max() <= audio.channels

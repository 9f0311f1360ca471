"""A spy on pyworld: the real functions run, their calls are counted."""

import pyworld


class Counter:
    """Counts calls of pyworld functions, and the frames handed to cheaptrick and d4c.

    Channels are analysed in blocks of frames, so "analysed once" means every
    frame reached cheaptrick and d4c exactly once: see :meth:`analysed_once`.
    """

    def __init__(self, monkeypatch, *names):
        self.calls = {n: 0 for n in names}
        self.frames = {n: 0 for n in names}
        for name in names:
            real = getattr(pyworld, name)

            def spy(*args, _real=real, _name=name, **kwargs):
                self.calls[_name] += 1
                if _name in ("cheaptrick", "d4c"):
                    self.frames[_name] += len(args[1])
                return _real(*args, **kwargs)

            monkeypatch.setattr(pyworld, name, spy)

    def analysed_once(self, audio, frame_period_ms: float = 5.0) -> bool:
        """Every WORLD frame of every channel of ``audio`` went through cheaptrick and d4c exactly once."""
        frames = audio.channels * (int(1000 * audio.duration_s / frame_period_ms) + 1)
        return self.frames["cheaptrick"] == self.frames["d4c"] == frames

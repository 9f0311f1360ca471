"""A spy on pyworld: the real functions run, their calls are counted."""

import pyworld


class Counter:
    """Counts calls of pyworld functions, and the frames handed to cheaptrick and d4c.

    Long channels are analysed in parallel runs of frames, so "analysed once"
    means every frame reached cheaptrick and d4c exactly once.
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

"""echo: repeats of the voice, each quieter than the one before."""

from __future__ import annotations

import numpy as np

import vcfx


class Echo(vcfx.Effect):
    """Add ``repeats`` echoes, ``delay_ms`` apart, each ``feedback`` times the one before.

    ``y[n] = x[n] + mix(t) * sum_{k=1..repeats} feedback**(k-1) * x[n - k*D]``
    with ``D = round(delay_ms * sample_rate / 1000)``. The dry voice is kept
    as it is; the echoes are added on top, so the output may peak higher
    than the input (vcfx never clips it silently).

    Parameters
    ----------
    delay_ms : float
        Time between echoes.
    feedback : float
        Level of each echo relative to the one before.
    repeats : int
        Number of echoes.
    mix : float or vcfx.Curve
        Level of the first echo; a curve fades the echoes in or out over
        time (seconds of the output).

    Notes
    -----
    The output is longer than the input by the last echo:
    ``frames + repeats * D`` frames (see :meth:`expected_frames`). The
    effect uses no randomness and keeps no state between runs.
    """

    name = "echo"
    summary = "Repeats of the voice, delay_ms apart, each quieter by feedback"
    params = (
        vcfx.Param("delay_ms", float, 250.0, "Time between echoes", unit="ms", low=1.0, high=2000.0),
        vcfx.Param("feedback", float, 0.5, "Level of each echo relative to the one before", low=0.0, high=0.95),
        vcfx.Param("repeats", int, 3, "Number of echoes", low=0, high=20),
        vcfx.Param("mix", float, 0.5, "Level of the first echo", low=0.0, high=1.0, curve=True),
    )
    examples = ({"delay_ms": 120.0, "repeats": 4}, {"delay_ms": 400.0, "feedback": 0.3, "mix": 0.8})

    def delay_frames(self, sample_rate: int) -> int:
        return round(self.delay_ms * sample_rate / 1000.0)

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        if self.is_random():  # uniform()/choice() values are drawn per run; the chain checks after the draw
            return None
        return frames + self.repeats * self.delay_frames(sample_rate)

    def context_frames(self, sample_rate: int) -> int:
        return self.repeats * self.delay_frames(sample_rate)

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        x = audio.samples.astype(np.float64)
        d = self.delay_frames(audio.sample_rate)
        total = self.expected_frames(audio.frames, audio.sample_rate)
        wet = np.zeros((audio.channels, total))
        for k in range(1, self.repeats + 1):
            wet[:, k * d : k * d + audio.frames] += self.feedback ** (k - 1) * x
        times = np.arange(total) / audio.sample_rate
        y = np.pad(x, ((0, 0), (0, total - audio.frames))) + vcfx.at_times(self.mix, times) * wet
        return audio.replace(samples=y)

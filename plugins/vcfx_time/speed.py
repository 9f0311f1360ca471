"""speed: play faster or slower like a tape, so the pitch follows the rate."""

from __future__ import annotations

import numpy as np
import soxr

import vcfx

from .rescaling import Rescaling, fit_length


class Speed(Rescaling):
    """Change speed and pitch together, like a tape played faster or slower.

    The samples are treated as if recorded at ``sample_rate * rate`` and
    resampled back to ``sample_rate`` with soxr (very high quality,
    band-limited), so the duration becomes ``duration / rate`` and every
    frequency is multiplied by ``rate`` (``rate=1.25`` is +386 cents). The
    sample rate of the output is the input's.

    Parameters
    ----------
    rate : float
        Playback speed, 0.25 to 4; above 1 is faster and higher.

    Notes
    -----
    The output has exactly ``max(1, round(frames / rate))`` frames. Any
    input length works, down to a single frame.
    """

    name = "speed"
    summary = "Faster and higher (or slower and lower) together, like a tape"
    params = (
        vcfx.Param("rate", float, 1.0, "Playback speed; 2 is twice as fast and an octave up", unit="x",
                   low=0.25, high=4.0),
    )
    examples = ({"rate": 1.25}, {"rate": 0.8})

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        frames = self.expected_frames(audio.frames, audio.sample_rate)
        if self.rate == 1.0:
            return audio
        x = audio.samples.T.astype(np.float64)
        y = soxr.resample(x, audio.sample_rate * self.rate, audio.sample_rate, quality="VHQ")
        return audio.replace(samples=fit_length(np.ascontiguousarray(y.T), frames))

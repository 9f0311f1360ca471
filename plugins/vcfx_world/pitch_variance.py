"""pitch_variance: scale the intonation, the spread of pitch around the voice's typical pitch."""

from __future__ import annotations

import numpy as np

import vcfx

from .features import WorldState


class PitchVariance(vcfx.Effect):
    """Scale how far the pitch moves around the voice's typical pitch, with the WORLD vocoder.

    On the voiced frames of each channel, log f0 moves away from (or
    towards) the channel's median log f0 ``m``: ``log f0' = m + factor *
    (log f0 - m)``, so every rise and fall, in semitones, is multiplied by
    ``factor``. ``0`` speaks on one note, ``1`` changes nothing, ``2`` is
    twice as lively. The median stays where it was; it is used rather than
    the mean because f0 tracking errors (octave jumps, creaky phrase ends)
    drag a mean away from the pitch a listener hears as the voice's own. The
    result is kept inside the analysis' f0 range (``f0_floor_hz`` ..
    ``f0_ceil_hz``). The spectral envelope is kept and the length does not
    change. ``factor`` may be a :class:`vcfx.Curve`.

    Input shorter than 20 ms, the shortest the WORLD analysis takes, is an
    :class:`vcfx.AudioError` that says so and names the effect.
    """

    name = "pitch_variance"
    summary = "Scale intonation: spread of pitch around its median (WORLD)"
    params = (
        vcfx.Param("factor", float, 1.0, "Spread of pitch around its median; 0 is monotone, 2 twice as lively",
                   low=0.0, high=4.0, curve=True),
    )
    domains = ("world",)
    examples = ({"factor": 0.0}, {"factor": 2.0})

    def process_world(self, state: WorldState, ctx: vcfx.Context) -> WorldState:
        for i, ch in enumerate(state.channels):
            voiced = ch.f0 > 0
            if not voiced.any():
                continue
            log_f0 = np.log2(ch.f0[voiced])
            centre = np.median(log_f0)
            factor = vcfx.at_times(self.factor, state.frame_times(i))[voiced]
            f0 = ch.f0.copy()
            f0[voiced] = np.clip(np.exp2(centre + factor * (log_f0 - centre)),
                                 state.options["f0_floor_hz"], state.options["f0_ceil_hz"])
            ch.f0 = f0
        return state

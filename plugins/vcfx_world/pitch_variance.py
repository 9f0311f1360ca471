"""pitch_variance: scale the intonation, the spread of pitch around the voice's typical pitch."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import vcfx

from .f0 import VOICING_THRESHOLD
from .features import WorldFeatures, WorldState

CLEARLY_PERIODIC = VOICING_THRESHOLD
"""Frames at least this periodic set the centre (see :attr:`WorldFeatures.periodicity`)."""


def centre(ch: WorldFeatures) -> float:
    """Mean log2 f0 of the clearly periodic voiced frames (of every voiced frame if none is, or if unknown).

    Periodicity is unknown when the features carry none, or none frame by
    frame (features built by hand).
    """
    voiced = ch.f0 > 0
    known = ch.periodicity is not None and len(ch.periodicity) == len(ch.f0)
    clear = voiced & (ch.periodicity >= CLEARLY_PERIODIC) if known else voiced
    return float(np.mean(np.log2(ch.f0[clear if clear.any() else voiced])))


class PitchVariance(vcfx.Effect):
    """Scale how far the pitch moves around the voice's typical pitch, with the WORLD vocoder.

    On the voiced frames of each channel, log f0 moves away from (or
    towards) the channel's mean log f0 ``m``: ``log f0' = m + factor *
    (log f0 - m)``, so every rise and fall, in semitones, is multiplied by
    ``factor``. ``0`` speaks on one note, ``1`` changes nothing, ``2`` is
    twice as lively. The mean stays where it was. It is taken over the
    frames that clearly repeat at their period (normalised autocorrelation
    at least :data:`CLEARLY_PERIODIC`, Praat's voicing threshold): creak
    and breathy phrase ends, which the f0 tracker may still call voiced,
    would drag it away from the pitch a listener hears as the voice's own.
    The result is kept inside the analysis' f0 range (``f0_floor_hz`` ..
    ``f0_ceil_hz``). The spectral envelope is kept and the length does not
    change. ``factor`` may be a :class:`vcfx.Curve`.

    In the ``psola`` domain (``vcfx_psola``) the same change applies to
    the target f0, around the mean of the analysed voice.

    Input shorter than 20 ms, the shortest the WORLD analysis takes, is an
    :class:`vcfx.AudioError` that says so and names the effect.
    """

    name = "pitch_variance"
    summary = "Scale intonation: spread of pitch around its mean (WORLD)"
    params = (
        vcfx.Param("factor", float, 1.0, "Spread of pitch around its mean; 0 is monotone, 2 twice as lively",
                   low=0.0, high=4.0, curve=True),
    )
    domains = ("world", "psola")
    examples = ({"factor": 0.0}, {"factor": 2.0})

    def process_world(self, state: WorldState, ctx: vcfx.Context) -> WorldState:
        for i, ch in enumerate(state.channels):
            voiced = ch.f0 > 0
            if not voiced.any():
                continue
            log_f0 = np.log2(ch.f0[voiced])
            m = centre(ch)
            factor = vcfx.at_times(self.factor, state.frame_times(i))[voiced]
            f0 = ch.f0.copy()
            f0[voiced] = np.clip(np.exp2(m + factor * (log_f0 - m)),
                                 state.options["f0_floor_hz"], state.options["f0_ceil_hz"])
            ch.f0 = f0
        return state

    def process_psola(self, state, ctx: vcfx.Context):
        voiced = state.f0 > 0
        if not voiced.any():
            return state
        m = centre(SimpleNamespace(f0=state.f0, periodicity=state.output_periodicity()))
        factor = vcfx.at_times(self.factor, state.frame_times())
        log_f0 = np.log2(np.where(voiced, state.f0, 1.0))
        target = np.clip(np.exp2(m + factor * (log_f0 - m)), state.options["f0_floor_hz"], state.options["f0_ceil_hz"])
        state.scale_f0(np.where(voiced, target / np.exp2(log_f0), 1.0))
        return state

"""pitch_variance: scale the intonation, the spread of pitch around the voice's typical pitch."""

from __future__ import annotations

import numpy as np

import vcfx

from .f0 import VOICING_THRESHOLD, voiced_stretches
from .features import WorldState, frame_power

CLEARLY_PERIODIC = VOICING_THRESHOLD
"""Frames at least this periodic set the centre (see :attr:`WorldFeatures.periodicity`)."""

FAINT_DB = 30.0
"""Voiced frames more than this far below the loudest one do not set the centre (Praat's silence threshold, 0.03)."""


def reliable(f0: np.ndarray, periodicity: np.ndarray | None = None, power: np.ndarray | None = None) -> np.ndarray:
    """The voiced frames that clearly repeat at their period and are not faint.

    Parameters
    ----------
    f0 : np.ndarray
        f0 per frame in Hz, 0 where unvoiced.
    periodicity : np.ndarray, optional
        Normalised autocorrelation at one period per frame; frames below
        :data:`CLEARLY_PERIODIC` are left out.
    power : np.ndarray, optional
        Mean-square level per frame; frames more than :data:`FAINT_DB`
        below the loudest voiced frame are left out.

    Either is ignored when missing or not one value per frame (features
    built by hand, a live stream's frames). When no frame passes, every
    voiced frame is reliable.
    """
    voiced = f0 > 0
    chosen = voiced.copy()
    if periodicity is not None and len(periodicity) == len(f0):
        chosen &= periodicity >= CLEARLY_PERIODIC
    if power is not None and len(power) == len(f0) and voiced.any():
        level_db = 10 * np.log10(np.maximum(power, np.finfo(float).tiny))
        chosen &= level_db >= level_db[voiced].max() - FAINT_DB
    return chosen if chosen.any() else voiced


def log_moves(f0: np.ndarray, factor: np.ndarray | float, periodicity: np.ndarray | None = None,
              power: np.ndarray | None = None) -> np.ndarray:
    """How far (log2) each frame's f0 moves: ``(factor - 1) * (log2 f0 - m)`` on the :func:`reliable` frames.

    ``m`` is the mean log2 f0 of those frames (``periodicity`` and
    ``power`` as for :func:`reliable`; at least one frame voiced).

    The other voiced frames move as the reliable ones around them in the
    same voiced stretch do (linearly in between, as the nearest one at
    either end), so a creaky or faint frame keeps its place against its
    neighbours instead of being sent away from ``m`` by a pitch that does
    not repeat. A stretch with no reliable frame does not move; unvoiced
    frames move by 0.
    """
    voiced = f0 > 0
    chosen = reliable(f0, periodicity, power)
    log_f0 = np.log2(np.where(voiced, f0, 1.0))
    own = (np.broadcast_to(factor, f0.shape) - 1.0) * (log_f0 - log_f0[chosen].mean())
    moves = np.zeros(len(f0))
    for start, stop in voiced_stretches(f0):
        at = start + np.flatnonzero(chosen[start:stop])
        if len(at):
            moves[start:stop] = np.interp(np.arange(start, stop), at, own[at])
    return moves


class PitchVariance(vcfx.Effect):
    """Scale how far the pitch moves around the voice's typical pitch, with the WORLD vocoder.

    On the voiced frames of each channel, log f0 moves away from (or
    towards) the channel's mean log f0 ``m``: ``log f0' = m + factor *
    (log f0 - m)``, so every rise and fall, in semitones, is multiplied by
    ``factor``. ``0`` speaks on one note, ``1`` changes nothing, ``2`` is
    twice as lively. The mean stays where it was.

    Both the mean and that scaling are taken over the reliable frames:
    those that clearly repeat at their period (normalised autocorrelation
    at least :data:`CLEARLY_PERIODIC`, Praat's voicing threshold) and are
    no more than :data:`FAINT_DB` below the loudest voiced frame (Praat's
    silence threshold). Creak, breathy and faint phrase ends, which the f0
    tracker may still call voiced, would drag the mean away from the pitch
    a listener hears as the voice's own, and scaled by their own distance
    from it they would be thrown to the floor of the range. They move as
    the reliable frames around them in the same voiced stretch do
    (:func:`log_moves`); a stretch with no reliable frame keeps its pitch.
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
            moves = log_moves(ch.f0, vcfx.at_times(self.factor, state.frame_times(i)), ch.periodicity,
                              frame_power(ch.spectral_envelope))
            f0 = ch.f0.copy()
            f0[voiced] = np.clip(ch.f0[voiced] * np.exp2(moves[voiced]),
                                 state.options["f0_floor_hz"], state.options["f0_ceil_hz"])
            ch.f0 = f0
        return state

    def process_psola(self, state, ctx: vcfx.Context):
        voiced = state.f0 > 0
        if not voiced.any():
            return state
        moves = log_moves(state.f0, vcfx.at_times(self.factor, state.frame_times()), state.output_periodicity(),
                          state.output_power())
        f0 = np.where(voiced, state.f0, 1.0)
        target = np.clip(f0 * np.exp2(moves), state.options["f0_floor_hz"], state.options["f0_ceil_hz"])
        state.scale_f0(np.where(voiced, target / f0, 1.0))
        return state

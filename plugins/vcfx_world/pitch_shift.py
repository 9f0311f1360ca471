"""pitch_shift: move f0 by a number of semitones, keeping the formants."""

from __future__ import annotations

import numpy as np

import vcfx

from .features import WorldState

PSOLA_FROM_SEMITONES = -11.0
"""From this shift up (at every point of a curve), :meth:`PitchShift.preferred_engine` is PSOLA; below, WORLD.

Measured with ``benchmarks/default_engine.py`` on the repository's real
voices and 22 recordings nothing was tuned on: from -11 up PSOLA's output
scored as high or higher by DNSMOS than WORLD's, with a lower p90 pitch
error; at -12 the two score alike and WORLD keeps a few more voiced frames
and has the lower p90 (docs/measurements.md, "Choosing the default engine").
"""


class PitchShift(vcfx.Effect):
    """Shift the pitch by ``semitones`` with the WORLD vocoder (or PSOLA), keeping the formants.

    f0 is multiplied by ``2 ** (semitones / 12)`` on voiced frames; the
    spectral envelope is kept, so formants stay where they were. The
    length does not change. ``semitones`` may be a :class:`vcfx.Curve` to
    shift only part of the voice.

    In the ``psola`` domain (``vcfx_psola``) the target f0 is scaled the
    same way and the waveform is overlap-added at the new pitch marks. A
    chain that chooses no engine runs a shift of at least
    :data:`PSOLA_FROM_SEMITONES` there, a lower one in WORLD
    (:meth:`preferred_engine`).

    Input shorter than 20 ms, the shortest the WORLD analysis takes, is an
    :class:`vcfx.AudioError` that says so and names the effect.
    """

    name = "pitch_shift"
    summary = "Shift pitch by semitones, formants kept (PSOLA or WORLD)"
    params = (
        vcfx.Param("semitones", float, 0.0, "Pitch change; +12 is an octave up", unit="st",
                   low=-24.0, high=24.0, curve=True),
    )
    domains = ("world", "psola")
    examples = ({"semitones": 4.0}, {"semitones": -4.0})

    def preferred_engine(self) -> str | None:
        """``"psola"`` for a shift of at least :data:`PSOLA_FROM_SEMITONES` throughout, else ``"world"``.

        None while the shift is a random value not drawn yet.
        """
        shift = self.semitones
        values = [v for _, v in shift.points] if isinstance(shift, vcfx.Curve) else [shift]
        if not all(isinstance(v, (int, float)) for v in values):
            return None
        return "psola" if min(values) >= PSOLA_FROM_SEMITONES else "world"

    def process_world(self, state: WorldState, ctx: vcfx.Context) -> WorldState:
        for i, ch in enumerate(state.channels):
            semitones = vcfx.at_times(self.semitones, state.frame_times(i))
            ch.f0 = ch.f0 * np.exp2(semitones / 12.0)
        return state

    def process_psola(self, state, ctx: vcfx.Context):
        state.scale_f0(np.exp2(vcfx.at_times(self.semitones, state.frame_times()) / 12.0))
        return state

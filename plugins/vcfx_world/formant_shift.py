"""formant_shift: move the formants up or down, keeping the pitch."""

from __future__ import annotations

import numpy as np

import vcfx

from .features import WorldState, frame_power

PSOLA_FROM_RATIO = 0.7
"""From this ratio up, :meth:`FormantShift.preferred_engine` is PSOLA; below, WORLD.

Measured with ``benchmarks/default_engine.py --effect formant_shift`` on
the repository's real voices and 22 recordings nothing was tuned on: from
0.7 to 2 PSOLA's output scored higher by DNSMOS than WORLD's on 19-20 of
26 voices, with the formants (an LPC judge) as close to the ratio; at 0.5
WORLD scored a little higher (docs/measurements.md, "Choosing the default
engine").
"""


class FormantShift(vcfx.Effect):
    """Move the formants by ``ratio`` with the WORLD vocoder (or PSOLA), keeping f0.

    The spectral envelope is warped along frequency, ``env'(f) = env(f /
    ratio)``, interpolating the log envelope linearly between bins; above
    ``ratio * nyquist`` (``ratio < 1``) the envelope holds its value at the
    Nyquist frequency. Each frame keeps its power, so the level stays. A
    ratio of 1.2 moves a 700 Hz formant to 840 Hz; ratios above 1 sound
    smaller (child-like), below 1 larger. The length does not change.

    In the ``psola`` domain (``vcfx_psola``) the grains come from the
    input resampled to play ``ratio`` times as fast, overlap-added at the
    unchanged pitch marks, as Praat's "Change gender" does. A chain that
    chooses no engine runs a ratio of at least :data:`PSOLA_FROM_RATIO`
    there, a lower one in WORLD (:meth:`preferred_engine`).

    Input shorter than 20 ms, the shortest the WORLD analysis takes, is an
    :class:`vcfx.AudioError` that says so and names the effect.
    """

    name = "formant_shift"
    summary = "Move formants by a ratio, pitch kept (PSOLA or WORLD)"
    params = (
        vcfx.Param("ratio", float, 1.0, "Formant frequency ratio; above 1 moves formants up",
                   low=0.5, high=2.0),
    )
    domains = ("world", "psola")
    examples = ({"ratio": 1.2}, {"ratio": 0.85})

    def preferred_engine(self) -> str | None:
        """``"psola"`` for a ratio of at least :data:`PSOLA_FROM_RATIO`, else ``"world"``; None while the ratio is
        a random value not drawn yet."""
        if not isinstance(self.ratio, (int, float)):
            return None
        return "psola" if self.ratio >= PSOLA_FROM_RATIO else "world"

    def process_world(self, state: WorldState, ctx: vcfx.Context) -> WorldState:
        # Aperiodicity is left alone: it describes the source (how noisy the
        # excitation is in each band), not the vocal tract's resonances.
        for ch in state.channels:
            ch.spectral_envelope = warp(ch.spectral_envelope, self.ratio)
        return state

    def process_psola(self, state, ctx: vcfx.Context):
        state.set_formant_ratio(self.ratio)
        return state


def warp(spectral_envelope: np.ndarray, ratio: float) -> np.ndarray:
    """``env(f / ratio)`` for every frame, with each frame's power kept."""
    bins = spectral_envelope.shape[1]
    src = np.minimum(np.arange(bins) / ratio, bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    frac = src - lo
    log_env = np.log(np.maximum(spectral_envelope, np.finfo(float).tiny))
    out = np.exp((1 - frac) * log_env[:, lo] + frac * log_env[:, hi])
    return out * (frame_power(spectral_envelope) / frame_power(out))[:, np.newaxis]

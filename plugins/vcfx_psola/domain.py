"""The PSOLA domain: pitch marks once per run of PSOLA effects, one overlap-add at the end."""

from __future__ import annotations

from typing import Any

import numpy as np

import vcfx
from vcfx_world import WorldDomain, settle_voicing, track_channels, tracking_signal
from vcfx_world import analysis_options as world_options  # psola tracks f0 as WORLD does

from .level import leveled
from .marks import pitch_marks
from .overlap_add import overlap_add
from .state import PsolaState

SILENCE_PEAK = 1e-6
"""A channel whose peak is below this comes out as silence."""

def analysis_options(ctx: vcfx.Context) -> dict[str, Any]:
    """The chain's ``psola`` options: the WORLD domain's declarations, as the f0 tracking is the same."""
    return world_options(ctx, "psola")


def track(x: np.ndarray, sample_rate: int, opts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz, 0 unvoiced) and periodicity per frame, tracked as the WORLD domain tracks them.

    All of it runs on the voice at the tracking rate (``vcfx_world.tracking_signal``).
    """
    x, rate = tracking_signal(x, sample_rate)
    (f0, t), = track_channels([x], rate, opts)
    return settle_voicing(x, f0, t, rate, opts)


class PsolaDomain(vcfx.Domain):
    """Pitch-synchronous overlap-add (TD-PSOLA) on the waveform itself.

    Analysis tracks f0 on the mono mix (as the WORLD domain does) and sets
    one pitch mark per glottal pulse; synthesis places new marks along the
    target f0 and time map and overlap-adds, at each, the two-period grain
    of the nearest analysis mark. Every channel uses the same marks. The
    formant ratio reads each grain faster or slower (as Praat's "Change
    gender" resamples the sound). Options, given as ``Chain(...,
    options={"psola": {...}})``, are the WORLD domain's: see
    :data:`option_params`.
    """

    name = "psola"
    option_params = WorldDomain.option_params

    def min_frames(self, sample_rate: int) -> int:
        return int(0.02 * sample_rate)

    def check_options(self, ctx: vcfx.Context) -> None:
        analysis_options(ctx)

    def analyze(self, audio: vcfx.Audio, ctx: vcfx.Context) -> PsolaState:
        opts = analysis_options(ctx)
        need = self.min_frames(audio.sample_rate)
        if audio.frames < need:
            raise vcfx.AudioError(f"the psola domain needs at least {need} frames (20 ms) at "
                                  f"{audio.sample_rate} Hz; got {audio.frames}")
        period_s = opts["frame_period_ms"] / 1000.0
        n = int(1000.0 * audio.frames / audio.sample_rate / opts["frame_period_ms"]) + 1
        mono = np.ascontiguousarray(audio.samples.mean(axis=0), dtype=np.float64)
        if np.abs(mono).max() >= SILENCE_PEAK:
            f0, periodic = track(mono, audio.sample_rate, opts)
            f0, periodic = f0[:n], periodic[:n]
        else:
            f0, periodic = np.zeros(n), np.zeros(n)
        marks, periods = pitch_marks(mono, f0, period_s, audio.sample_rate)
        return PsolaState(
            samples=np.asarray(audio.samples, dtype=np.float64), sample_rate=audio.sample_rate,
            frame_period_ms=opts["frame_period_ms"], frames=audio.frames, f0=f0.copy(),
            source_s=np.arange(n) * period_s, marks=marks, mark_periods=periods,
            analysed_f0=f0, periodicity=periodic, options=opts,
        )

    def synthesize(self, state: PsolaState, ctx: vcfx.Context) -> vcfx.Audio:
        check_state(state)
        sounding = [c for c, x in enumerate(state.samples) if np.abs(x).max() >= SILENCE_PEAK]
        out = np.zeros((len(state.samples), state.frames))
        if sounding:
            voiced, unvoiced = overlap_add(state, np.asarray(sounding))
            out[sounding] = leveled(state, state.samples[sounding], voiced, unvoiced)
        return vcfx.Audio(out, state.sample_rate)


def check_state(state: PsolaState) -> None:
    """Refuse, with a vcfx.EffectError, a state that overlap-add cannot use."""
    n = state.frames_for(state.frames)
    problems = []
    if np.ndim(state.f0) != 1 or len(state.f0) != n:
        problems.append(f"f0 has shape {np.shape(state.f0)}, {state.frames} samples need ({n},)")
    elif np.shape(state.source_s) != (n,):
        problems.append(f"source_s has shape {np.shape(state.source_s)}, {state.frames} samples need ({n},)")
    elif not (np.isfinite(state.f0).all() and np.isfinite(state.source_s).all()):
        problems.append("f0 or source_s holds NaN or infinity")
    elif (state.f0 < 0).any() or (state.f0 >= state.sample_rate / 2).any():
        problems.append(f"f0 must be 0 (unvoiced) or in (0, {state.sample_rate / 2}) Hz")
    if not (np.isfinite(state.formant_ratio) and 0.25 <= state.formant_ratio <= 4.0):
        problems.append(f"formant_ratio={state.formant_ratio} must be within 0.25 .. 4")
    if problems:
        raise vcfx.EffectError("psola synthesis refuses the state: " + "; ".join(problems))

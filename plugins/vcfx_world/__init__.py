"""WORLD vocoder domain and the effects that work on its features.

A WORLD effect of another package needs only the names exported here and
``vcfx`` (see the "WORLD domain" page of the documentation).
"""

import vcfx

from .analysis import analysis_options, track_channels
from .domain import WorldDomain
from .f0 import (PEAK_TOLERANCE_CENTS, SILENCE, VOICING_THRESHOLD, lower_octave_errors, parabola_vertex,
                 raise_octave_errors, settle_voicing, track_f0, tracking_signal, voiced_stretches)
from .features import WorldFeatures, WorldState, envelope_power, frame_power
from .formant_shift import FormantShift
from .pitch_shift import PitchShift
from .pitch_variance import PitchVariance

__all__ = [
    "WorldDomain",
    "analysis_options",
    "WorldFeatures",
    "WorldState",
    "envelope_power",
    "frame_power",
    "raise_octave_errors",
    "lower_octave_errors",
    "parabola_vertex",
    "settle_voicing",
    "track_f0",
    "track_channels",
    "tracking_signal",
    "voiced_stretches",
    "PEAK_TOLERANCE_CENTS",
    "SILENCE",
    "VOICING_THRESHOLD",
    "FormantShift",
    "PitchShift",
    "PitchVariance",
]


@vcfx.hookimpl
def register_domains(register):
    register(WorldDomain())


@vcfx.hookimpl
def register_effects(register):
    register(PitchShift)
    register(PitchVariance)
    register(FormantShift)

"""WORLD vocoder domain and the effects that work on its features."""

import vcfx

from .domain import WorldDomain
from .features import WorldFeatures, WorldState
from .formant_shift import FormantShift
from .pitch_shift import PitchShift
from .pitch_variance import PitchVariance

__all__ = ["WorldDomain", "WorldFeatures", "WorldState", "FormantShift", "PitchShift", "PitchVariance"]


@vcfx.hookimpl
def register_domains(register):
    register(WorldDomain())


@vcfx.hookimpl
def register_effects(register):
    register(PitchShift)
    register(PitchVariance)
    register(FormantShift)

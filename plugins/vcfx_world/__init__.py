"""WORLD vocoder domain and the effects that work on its features."""

import vcfx

from .features import WorldDomain, WorldFeatures, WorldState
from .pitch_shift import PitchShift

__all__ = ["WorldDomain", "WorldFeatures", "WorldState", "PitchShift"]


@vcfx.hookimpl
def register_domains(register):
    register(WorldDomain())


@vcfx.hookimpl
def register_effects(register):
    register(PitchShift)

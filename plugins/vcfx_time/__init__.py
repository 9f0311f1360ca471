"""Speed and tempo."""

import vcfx

from .speed import Speed
from .tempo import Tempo

__all__ = ["Speed", "Tempo"]


@vcfx.hookimpl
def register_effects(register):
    register(Speed)
    register(Tempo)

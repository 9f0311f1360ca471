"""Additive noise."""

import vcfx

from .noise import Noise

__all__ = ["Noise"]


@vcfx.hookimpl
def register_effects(register):
    register(Noise)

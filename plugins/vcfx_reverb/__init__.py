"""Convolution reverb."""

import vcfx

from .reverb import Reverb
from .rooms import file_ir, synthetic_ir

__all__ = ["Reverb", "file_ir", "synthetic_ir"]


@vcfx.hookimpl
def register_effects(register):
    register(Reverb)

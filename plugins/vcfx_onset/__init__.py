"""Onset detection and syllable slicing: the "onsets" slicer."""

import vcfx

from .onsets import Onsets

__all__ = ["Onsets"]


@vcfx.hookimpl
def register_slicers(register):
    register(Onsets)

"""Spotify's pedalboard inside vcfx chains: built-in plugins, plugin objects, VST3 and Audio Units."""

import vcfx

from .effect import BUILTIN_PLUGINS, PedalboardEffect, builtin_plugins, describe

__all__ = ["BUILTIN_PLUGINS", "PedalboardEffect", "builtin_plugins", "describe"]


@vcfx.hookimpl
def register_effects(register):
    register(PedalboardEffect)

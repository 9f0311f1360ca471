"""The exceptions vcfx raises for anything a user can cause."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "VcfxError",
    "ParameterError",
    "AudioError",
    "SpecError",
    "PluginError",
    "EffectError",
    "StreamError",
    "PluginLoadWarning",
    "unknown_name_message",
]


class VcfxError(Exception):
    """Base class of every error vcfx raises on bad input or a failed effect."""


class ParameterError(VcfxError, ValueError):
    """An effect parameter is unknown, of the wrong type or out of range."""


class AudioError(VcfxError, ValueError):
    """Audio samples, sample rates, layouts or files that cannot be used."""


class SpecError(VcfxError, ValueError):
    """A chain spec string or preset file that cannot be parsed."""


class PluginError(VcfxError):
    """A plugin failed to load, or an effect or domain name is unknown."""


class EffectError(VcfxError):
    """An effect failed while processing, or broke the effect contract."""


class StreamError(VcfxError, ValueError):
    """A chain that cannot run as a live stream, or a block a live stream cannot take."""


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the other plugins keep working."""


def unknown_name_message(name: str, known: Iterable[str], what: str) -> str:
    """The message for a name that is not one of ``known``: the closest match, then every known name.

    >>> unknown_name_message("revrb", ["noise", "reverb"], "effect")
    'unknown effect "revrb"; did you mean "reverb"? Known: noise, reverb'
    """
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else "."
    listing = ", ".join(known) if known else "(none)"
    return f'unknown {what} "{name}"{hint} Known: {listing}'


"""Plugin hooks. A plugin is a module listed under ``[project.entry-points.vcfx]``.

Each hook hands the plugin a ``register`` callback::

    import vcfx

    @vcfx.hookimpl
    def register_effects(register):
        register(Robot)
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("vcfx")
hookimpl = pluggy.HookimplMarker("vcfx")


@hookspec
def register_effects(register: Callable[[type], None]) -> None:
    """Register effect classes: call ``register(EffectSubclass)`` once per effect."""


@hookspec
def register_domains(register: Callable[[object], None]) -> None:
    """Register processing domains: call ``register(domain)`` with a :class:`vcfx.Domain`."""


@hookspec
def register_presets(register: Callable[[str, Callable[..., object], str], None]) -> None:
    """Register named chains: call ``register(name, factory, summary)``.

    ``factory(**options)`` returns a :class:`vcfx.Chain`.
    """


@hookspec
def register_slicers(register: Callable[[type], None]) -> None:
    """Register slicers: call ``register(SlicerSubclass)`` once per :class:`vcfx.Slicer`.

    :func:`vcfx.slice_audio` finds a slicer by its registered ``name``.
    """

"""Plugin hooks. A plugin is a module listed under ``[project.entry-points.vcfx]``.

Each registry hook hands the plugin a ``register`` callback::

    import vcfx

    @vcfx.hookimpl
    def register_effects(register):
        register(Robot)

Hooks run through pluggy, so ``@vcfx.hookimpl(tryfirst=True)``, ``trylast=True``
and wrappers (``wrapper=True``, or old-style ``hookwrapper=True``) behave as
pluggy documents. ``register.registered`` lists the names registered so far in
the call, by every plugin. A plugin whose hook raises, or that registers
something invalid or a name that is taken, fails as a whole: nothing it
registered, in any hook, is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("vcfx")
hookimpl = pluggy.HookimplMarker("vcfx")


@hookspec
def register_effects(register: Callable[[type], None]) -> None:
    """Register effect classes: call ``register(EffectSubclass)`` once per effect."""


@hookspec
def register_domains(register: Callable[[object], None]) -> None:
    """Register processing domains: call ``register(domain)`` with a :class:`vcfx.Domain`."""


@hookspec
def register_live_domains(register: Callable[[str, Callable[..., object]], None]) -> None:
    """Let a domain stream live: call ``register(domain_name, factory)``.

    ``factory(effects, contexts, sample_rate, channels, block_frames, ctx)``
    returns a :class:`vcfx.LiveProcessor` for one run of the domain's
    effects, as :meth:`vcfx.Domain.live` does (it is used instead of that
    method). It raises :class:`vcfx.StreamError` saying why when the effects
    or settings cannot stream. One factory per domain name.
    """


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


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add ``vcfx`` subcommands: ``@cli.command()``, ``@cli.group()`` or ``cli.add_command(command)``.

    ``cli`` is a click group listing vcfx's own commands. A command whose name
    is taken (``apply``, or another plugin's) makes the plugin fail to load.
    """

"""Loading plugins from entry points, with each failure isolated and named."""

from __future__ import annotations

import importlib.metadata as md
import os
import threading
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import pluggy

from . import hookspecs
from .domains import Domain
from .effect import WAVEFORM, Effect
from .errors import ParameterError, PluginError, PluginLoadWarning, suggest
from .slicer import Slicer

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "Registry",
    "registry",
    "effects",
    "effect",
    "effect_class",
    "domain",
    "preset",
    "presets",
    "slicers",
    "slicer",
    "slicer_class",
    "list_plugins",
    "owner",
    "register",
    "unregister",
    "reload",
]

ENTRY_POINT_GROUP = "vcfx"


@dataclass
class PluginInfo:
    """What one plugin brought, or why it failed."""

    name: str
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None
    effects: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    slicers: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def label(self) -> str:
        """``plugin "x" (distribution y 1.0)``, for messages."""
        dist = f" (distribution {self.distribution} {self.version})" if self.distribution else ""
        return f'plugin "{self.name}"{dist}'

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "entry_point": self.entry_point,
            "effects": self.effects,
            "domains": self.domains,
            "presets": self.presets,
            "slicers": self.slicers,
            "error": self.error,
        }


@dataclass
class Preset:
    name: str
    factory: Callable[..., Any]
    summary: str
    plugin: str


@dataclass
class Registry:
    """Everything the loaded plugins registered."""

    effects: dict[str, type[Effect]] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    presets: dict[str, Preset] = field(default_factory=dict)
    slicers: dict[str, type[Slicer]] = field(default_factory=dict)
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    owner: dict[str, PluginInfo] = field(default_factory=dict)
    slicer_owner: dict[str, PluginInfo] = field(default_factory=dict)


_pm: pluggy.PluginManager | None = None
_entry_infos: dict[str, PluginInfo] = {}
_registry: Registry | None = None
_lock = threading.RLock()


def _strict() -> bool:
    return os.environ.get("VCFX_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get("VCFX_DISABLE_PLUGINS", "").split(",") if n.strip()}


def _fail(info: PluginInfo, what: str, exc: BaseException) -> None:
    info.error = f"{what}: {type(exc).__name__}: {exc}"
    message = f"{info.label} from entry point {info.entry_point or '(none)'} failed to load; {info.error}"
    if _strict():
        raise PluginError(message + " (VCFX_STRICT_PLUGINS is set)") from exc
    warnings.warn(message, PluginLoadWarning, stacklevel=4)


def _plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager("vcfx")
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    disabled = _disabled()
    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            distribution=dist.metadata["Name"] if dist else None,
            version=dist.version if dist else None,
            entry_point=f"{ep.name} = {ep.value}",
        )
        if ep.name in disabled:
            continue
        infos[ep.name] = info
        try:
            module = ep.load()
        except BaseException as exc:  # a plugin's import may raise anything, SystemExit included
            if isinstance(exc, KeyboardInterrupt):
                raise
            _fail(info, "import failed", exc)
            continue
        try:
            pm.register(module, name=ep.name)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(module):
                pm.unregister(module)
            _fail(info, "invalid hooks", exc)
    _pm = pm
    _entry_infos.update(infos)
    return pm


def register(plugin: object, name: str) -> None:
    """Register a plugin object (a module or any object with hook implementations).

    Meant for plugins defined in the running program and for tests; installed
    packages are found through entry points without this call.
    """
    global _registry
    with _lock:
        pm = _plugin_manager()
        pm.register(plugin, name=name)
        try:
            pm.check_pending()
        except Exception as exc:
            pm.unregister(plugin)
            raise PluginError(f'plugin "{name}" has invalid hooks: {exc}') from None
        _entry_infos[name] = PluginInfo(name=name)
        _registry = None


def unregister(name: str) -> None:
    """Remove a plugin registered with :func:`register`."""
    global _registry
    with _lock:
        pm = _plugin_manager()
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin)
        _entry_infos.pop(name, None)
        _registry = None


def reload() -> Registry:
    """Forget loaded plugins and read the entry points again (and the VCFX_* variables)."""
    global _pm, _registry
    with _lock:
        _pm = None
        _registry = None
        _entry_infos.clear()
        return registry()


def _call_hook(reg: Registry, hook_name: str, adder: Callable[[PluginInfo], Callable]) -> None:
    pm = _plugin_manager()
    impls = getattr(pm.hook, hook_name).get_hookimpls()  # in registration order
    # vcfx's own plugins register first, so a newcomer claiming a taken name is the one that fails
    impls.sort(key=lambda impl: reg.plugins.get(impl.plugin_name, PluginInfo("")).distribution != "vcfx")
    for impl in impls:
        info = reg.plugins.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
        if info.error:
            continue
        callback = adder(info)
        try:
            impl.function(**{arg: callback for arg in impl.argnames})
        except Exception as exc:
            _fail(info, f"{hook_name} raised", exc)


def _build() -> Registry:
    reg = Registry()
    _plugin_manager()
    reg.plugins = {
        name: replace(info, effects=[], domains=[], presets=[], slicers=[])
        for name, info in _entry_infos.items()
    }

    def class_adder(kind: str, base: type, table: dict, owners: dict, listed: str):
        def adder(info: PluginInfo):
            def add(cls: type) -> None:
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginError(f"register_{kind}s takes vcfx.{base.__name__} subclasses, got {cls!r}")
                if not cls.name or not cls.name.isidentifier():
                    raise PluginError(
                        f"{kind} class {cls.__name__} needs a name that is an identifier, got {cls.name!r}")
                if cls.name in table:
                    raise PluginError(f'{kind} "{cls.name}" is already registered by {owners[cls.name].label}')
                table[cls.name] = cls
                owners[cls.name] = info
                getattr(info, listed).append(cls.name)

            return add

        return adder

    effect_adder = class_adder("effect", Effect, reg.effects, reg.owner, "effects")
    slicer_adder = class_adder("slicer", Slicer, reg.slicers, reg.slicer_owner, "slicers")

    def domain_adder(info: PluginInfo):
        def add(dom: Domain) -> None:
            if not isinstance(dom, Domain) or not dom.name or dom.name == WAVEFORM:
                raise PluginError(f"register_domains takes Domain instances with a name, got {dom!r}")
            if dom.name in reg.domains:
                raise PluginError(f'domain "{dom.name}" is already registered')
            reg.domains[dom.name] = dom
            info.domains.append(dom.name)

        return add

    def preset_adder(info: PluginInfo):
        def add(name: str, factory: Callable, summary: str = "") -> None:
            if name in reg.presets:
                raise PluginError(f'preset "{name}" is already registered')
            reg.presets[name] = Preset(name, factory, summary, info.name)
            info.presets.append(name)

        return add

    _call_hook(reg, "register_domains", domain_adder)
    _call_hook(reg, "register_effects", effect_adder)
    _call_hook(reg, "register_presets", preset_adder)
    _call_hook(reg, "register_slicers", slicer_adder)
    for info in reg.plugins.values():
        if info.error:  # drop what a failed plugin registered before it raised
            for name in info.effects:
                reg.effects.pop(name, None)
            for name in info.slicers:
                reg.slicers.pop(name, None)
                reg.slicer_owner.pop(name, None)
            info.effects = []
            info.slicers = []
    return reg


def registry() -> Registry:
    """The current registry, loading entry points on first use."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = _build()
        return _registry


def effects() -> list[str]:
    """Names of every registered effect, sorted."""
    return sorted(registry().effects)


def _failed_hint(reg: Registry) -> str:
    """`` Plugins that failed to load: ...`` when some did, so a missing name is explained."""
    failed = [info for _, info in sorted(reg.plugins.items()) if info.error]
    if not failed:
        return ""
    return " Plugins that failed to load: " + "; ".join(f"{info.label}: {info.error}" for info in failed) + "."


def effect_class(name: str) -> type[Effect]:
    """The class registered under ``name``; PluginError suggesting the closest name if none."""
    reg = registry()
    try:
        return reg.effects[name]
    except (KeyError, TypeError):
        raise PluginError(suggest(str(name), reg.effects, "effect") + _failed_hint(reg)) from None


def effect(name: str, **params: Any) -> Effect:
    """Build the effect registered under ``name`` with the given parameters.

    Examples
    --------
    >>> vcfx.effect("pitch_shift", semitones=4)
    PitchShift(semitones=4.0)
    """
    return effect_class(name)(**params)


def domain(name: str) -> Domain:
    """The registered domain called ``name``."""
    reg = registry()
    try:
        return reg.domains[name]
    except KeyError:
        raise PluginError(suggest(name, reg.domains, "domain")) from None


def presets() -> dict[str, str]:
    """Names of the registered presets with their one-line summaries."""
    return {name: p.summary for name, p in sorted(registry().presets.items())}


def preset(name: str, **options: Any):
    """Build the registered preset ``name`` as a :class:`vcfx.Chain`."""
    reg = registry()
    try:
        p = reg.presets[name]
    except KeyError:
        raise PluginError(suggest(name, reg.presets, "preset")) from None
    try:
        return p.factory(**options)
    except TypeError as exc:
        raise ParameterError(f'preset "{name}": {exc}') from None


def slicers() -> list[str]:
    """Names of every registered slicer, sorted."""
    return sorted(registry().slicers)


def slicer_class(name: str) -> type[Slicer]:
    """The slicer class registered under ``name``; PluginError suggesting the closest name if none."""
    reg = registry()
    try:
        return reg.slicers[name]
    except (KeyError, TypeError):
        raise PluginError(
            suggest(str(name), reg.slicers, "slicer")
            + " Slicers come from plugins; `vcfx plugins` lists them and any that failed to load."
        ) from None


def slicer(name: str, **params: Any) -> Slicer:
    """Build the slicer registered under ``name`` with the given parameters.

    Examples
    --------
    >>> vcfx.slicer("onsets", min_segment_ms=80)
    Onsets(min_segment_ms=80.0, ...)
    """
    return slicer_class(name)(**params)


def list_plugins() -> list[PluginInfo]:
    """Every plugin found, loaded or failed."""
    return sorted(registry().plugins.values(), key=lambda i: i.name)


def owner(effect_name: str) -> PluginInfo | None:
    """The plugin that registered an effect."""
    return registry().owner.get(effect_name)

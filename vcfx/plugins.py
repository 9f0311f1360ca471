"""Loading plugins from entry points and running their hooks through pluggy, each failure isolated and named.

Every hook is one pluggy call (``pm.hook.register_effects(register=...)``), so pluggy orders the
implementations (newest first, ``tryfirst``/``trylast``) and runs wrappers (``wrapper=True``, old-style
``hookwrapper=True``) around the others, exactly as it documents. pluggy holds each plugin through an
adapter that only notes which plugin's implementation is running: every ``register(...)`` call is
staged for the plugin that makes it, and an exception is charged to the plugin that raised it.

A plugin that raises, registers something invalid or claims a name that is taken fails, and the hooks are
called again without it: the registry is the first round of hook calls in which every plugin succeeded, so
nothing a failed plugin registered is kept, and a wrapper has seen exactly what was kept. Names go to vcfx's
own plugins first, then to the others in the order they were registered, whatever order pluggy called them in.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata as md
import inspect
import os
import threading
import warnings
import weakref
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

import pluggy

from . import hookspecs
from .domains import Domain
from .effect import WAVEFORM, Effect
from .errors import ParameterError, PluginError, PluginLoadWarning, unknown_name_message
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
    "describe_effects",
    "describe_slicers",
    "owner",
    "register",
    "unregister",
    "reload",
    "add_commands",
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
    live_domains: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    slicers: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
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
            "live_domains": self.live_domains,
            "presets": self.presets,
            "slicers": self.slicers,
            "hooks": self.hooks,
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
    live_domains: dict[str, Callable[..., Any]] = field(default_factory=dict)
    presets: dict[str, Preset] = field(default_factory=dict)
    slicers: dict[str, type[Slicer]] = field(default_factory=dict)
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    owner: dict[str, PluginInfo] = field(default_factory=dict)
    slicer_owner: dict[str, PluginInfo] = field(default_factory=dict)


# -- which plugin is running ------------------------------------------------------------------------------


class _Calls:
    """Which plugin's hook implementation is running, and which plugins raised during the current hook call."""

    def __init__(self) -> None:
        self.running: list[str] = []
        self.raised: dict[str, Exception] = {}

    def start(self) -> None:
        self.running.clear()
        self.raised.clear()

    @contextlib.contextmanager
    def running_as(self, name: str) -> Iterator[None]:
        self.running.append(name)
        try:
            yield
        except Exception as exc:
            # an exception passing up through a wrapper belongs to the plugin that raised it first
            if not any(exc is seen for seen in self.raised.values()):
                self.raised.setdefault(name, exc)
            raise
        finally:
            # remove this entry, not the last one: pluggy may close a misbehaving wrapper out of order
            at = len(self.running) - 1 - self.running[::-1].index(name)
            del self.running[at]

    def current(self, what: str) -> str:
        if not self.running:
            raise PluginError(f"{what} was called when no hook was running; call it inside the hook implementation")
        return self.running[-1]


def _running_as(function: Callable, name: str, calls: _Calls) -> Callable:
    """``function`` with the same signature, run as plugin ``name`` (a generator stays a generator)."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def implementation(*args, **kwargs):
            with calls.running_as(name):
                return (yield from function(*args, **kwargs))

    else:

        @functools.wraps(function)
        def implementation(*args, **kwargs):
            with calls.running_as(name):
                return function(*args, **kwargs)

    return implementation


class _Adapter:
    """What pluggy holds for one plugin: each of its hook implementations, with its options, run as that plugin."""

    def __init__(self, plugin: object, name: str, pm: pluggy.PluginManager, calls: _Calls) -> None:
        self.vcfx_plugin = plugin
        marker = f"{pm.project_name}_impl"
        for attr in dir(plugin):
            opts = pm.parse_hookimpl_opts(plugin, attr)
            if opts is not None:
                implementation = _running_as(getattr(plugin, attr), name, calls)
                setattr(implementation, marker, dict(opts))
                setattr(self, attr, implementation)

    def __repr__(self) -> str:
        return repr(self.vcfx_plugin)


# -- the plugin manager -----------------------------------------------------------------------------------

_pm: pluggy.PluginManager | None = None
_calls = _Calls()
_entry_infos: dict[str, PluginInfo] = {}
_late_failures: dict[str, str] = {}  # plugins whose register_commands failed; the registry drops them too
_registry: Registry | None = None
_generation = 0  # counts changes of the loaded plugins, so add_commands knows when to start again
_building = False
_lock = threading.RLock()


def _strict() -> bool:
    return os.environ.get("VCFX_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get("VCFX_DISABLE_PLUGINS", "").split(",") if n.strip()}


def _fail(info: PluginInfo, error: str, cause: BaseException | None = None, dropped: str | None = None) -> None:
    """Mark ``info`` failed and warn (raise with VCFX_STRICT_PLUGINS); ``dropped`` says what it had registered."""
    info.error = error
    message = f"{info.label} from entry point {info.entry_point or '(none)'} failed to load; {error}"
    if dropped is not None:
        message += "; nothing it registered is kept" + (f" ({dropped})" if dropped else "")
    if _strict():
        raise PluginError(message + " (VCFX_STRICT_PLUGINS is set)") from cause
    warnings.warn(message, PluginLoadWarning, stacklevel=5)


def _invalidate() -> None:
    global _registry, _generation
    _registry = None
    _generation += 1


def _refuse_inside_hooks(what: str) -> None:
    if _building or _calls.running:
        raise PluginError(f"{what} was called from inside a plugin hook; hooks only register")


def _add(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register ``plugin`` with pluggy under ``name``; on misspelled hooks, raise and leave nothing registered."""
    adapter = _Adapter(plugin, name, pm, _calls)
    pm.register(adapter, name=name)
    try:
        pm.check_pending()
    except Exception:
        pm.unregister(adapter)
        raise


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
            _fail(info, f"import failed: {type(exc).__name__}: {exc}", exc)
            continue
        try:
            _add(pm, module, ep.name)
        except Exception as exc:
            _fail(info, f"invalid hooks: {type(exc).__name__}: {exc}", exc)
    _pm = pm
    _entry_infos.update(infos)
    return pm


def register(plugin: object, name: str) -> None:
    """Register a plugin object (a module or any object with hook implementations).

    Meant for plugins defined in the running program and for tests; installed
    packages are found through entry points without this call.

    Raises
    ------
    PluginError
        ``name`` is taken, ``plugin`` is registered already, or it implements
        a hook that does not exist (a misspelling) or with arguments the hook
        does not have.
    """
    with _lock:
        _refuse_inside_hooks("vcfx.plugins.register")
        pm = _plugin_manager()
        if pm.has_plugin(name):
            raise PluginError(f'a plugin named "{name}" is registered already; unregister it or choose another name')
        taken = next((n for n, p in pm.list_name_plugin() if getattr(p, "vcfx_plugin", None) is plugin), None)
        if taken is not None:
            raise PluginError(f'{plugin!r} is registered already, as plugin "{taken}"')
        try:
            _add(pm, plugin, name)
        except Exception as exc:
            raise PluginError(f'plugin "{name}" has invalid hooks: {exc}') from None
        _entry_infos[name] = PluginInfo(name=name)
        _invalidate()


def unregister(name: str) -> None:
    """Remove a plugin registered with :func:`register`."""
    with _lock:
        _refuse_inside_hooks("vcfx.plugins.unregister")
        pm = _plugin_manager()
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin)
        _entry_infos.pop(name, None)
        _late_failures.pop(name, None)
        _invalidate()


def reload() -> Registry:
    """Forget loaded plugins and read the entry points again (and the VCFX_* variables)."""
    global _pm
    with _lock:
        _refuse_inside_hooks("vcfx.plugins.reload")
        _pm = None
        _entry_infos.clear()
        _late_failures.clear()
        _invalidate()
        return registry()


# -- one hook call ----------------------------------------------------------------------------------------


class _Register:
    """The ``register`` callback of one hook call: each call is checked and staged for the plugin making it.

    ``registered`` lists the names registered so far in this call, by every plugin, in order; a wrapper
    (after its ``yield``) or a ``trylast`` implementation reads it to see what the others registered.
    """

    def __init__(self, hook: str, kind: str, check: Callable[..., tuple[str, Any]],
                 staged: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.hook = hook
        self._kind = kind
        self._check = check
        self._signature = inspect.signature(check)
        self._staged = staged
        self._names: list[str] = []

    @property
    def registered(self) -> tuple[str, ...]:
        return tuple(self._names)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        plugin = _calls.current(f"register() of {self.hook}")
        try:
            self._signature.bind(plugin, *args, **kwargs)
        except TypeError as exc:
            raise PluginError(f"register() of {self.hook}: {exc}") from None
        name, value = self._check(plugin, *args, **kwargs)
        mine = self._staged.setdefault(plugin, {}).setdefault(self._kind, {})
        if name in mine:
            raise PluginError(f'{self._kind[:-1]} "{name}" is registered twice by plugin "{plugin}"')
        mine[name] = value
        self._names.append(name)

    def __repr__(self) -> str:
        return f"<register of {self.hook}>"


def _call(pm: pluggy.PluginManager, hook: str, skip: set[str], **kwargs: Any) -> dict[str, str]:
    """Call ``hook`` on every plugin not in ``skip``; the plugins that raised, with what they raised."""
    caller = pm.subset_hook_caller(hook, [p for n, p in pm.list_name_plugin() if n in skip and p is not None])
    _calls.start()
    try:
        caller(**kwargs)
    except Exception as exc:
        if not any(exc is seen for seen in _calls.raised.values()):
            # no implementation raised this: pluggy's own check of a wrapper ("did not yield", ...)
            wrappers = [i.plugin_name for i in caller.get_hookimpls() if i.wrapper or i.hookwrapper]
            if not wrappers:
                raise
            for name in wrappers:
                _calls.raised.setdefault(name, exc)
    finally:
        _calls.running.clear()
    return {name: f"{hook} raised: {type(exc).__name__}: {exc}" for name, exc in _calls.raised.items()}


def _by_priority(infos: dict[str, PluginInfo]) -> list[PluginInfo]:
    """vcfx's own plugins first, then the others, each in the order they were registered."""
    return sorted(infos.values(), key=lambda info: info.distribution != "vcfx")


def _listing(staged: dict[str, dict[str, Any]]) -> str:
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in staged.items() if names)


# -- what a register call may register --------------------------------------------------------------------


def _class_check(kind: str, base: type) -> Callable[..., tuple[str, type]]:
    def check(plugin: str, cls: type) -> tuple[str, type]:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(f"register_{kind}s takes vcfx.{base.__name__} subclasses, got {cls!r}")
        if not isinstance(cls.name, str) or not cls.name.isidentifier():
            raise PluginError(f"{kind} class {cls.__name__} needs a name that is an identifier, got {cls.name!r}")
        return cls.name, cls

    return check


def _check_domain(plugin: str, dom: Domain) -> tuple[str, Domain]:
    if not isinstance(dom, Domain) or not isinstance(dom.name, str) or not dom.name or dom.name == WAVEFORM:
        raise PluginError(f"register_domains takes vcfx.Domain instances with a name, got {dom!r}")
    return dom.name, dom


def _check_live_domain(plugin: str, name: str, factory: Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    if not isinstance(name, str) or not name or name == WAVEFORM or not callable(factory):
        raise PluginError(f"register_live_domains takes a domain name and a factory, got {name!r}, {factory!r}")
    return name, factory


def _check_preset(plugin: str, name: str, factory: Callable[..., Any], summary: str = "") -> tuple[str, Preset]:
    if not isinstance(name, str) or not name or not callable(factory):
        raise PluginError(f"register_presets takes a name and a factory returning a Chain, got {name!r}, {factory!r}")
    return name, Preset(name, factory, str(summary), plugin)


def _check_command(plugin: str, name: str, command: Any) -> tuple[str, Any]:
    if not isinstance(name, str) or not name or name.split() != [name] or not callable(getattr(command, "main", None)):
        raise PluginError(f"register_commands adds click commands with a one-word name, got {name!r}, {command!r}")
    return name, command


_HOOKS = (  # (hook, what it registers, its owner table in Registry, check), called in this order
    ("register_domains", "domains", None, _check_domain),
    ("register_live_domains", "live_domains", None, _check_live_domain),
    ("register_effects", "effects", "owner", _class_check("effect", Effect)),
    ("register_presets", "presets", None, _check_preset),
    ("register_slicers", "slicers", "slicer_owner", _class_check("slicer", Slicer)),
)


# -- building the registry --------------------------------------------------------------------------------


def _round(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> tuple[Registry, dict, dict[str, str]]:
    """Call every hook on the plugins that have not failed, then merge what each registered, all or nothing.

    Returns the registry, what each plugin staged, and the plugins that failed in this round with why.
    """
    skip = {name for name, info in infos.items() if info.error}
    staged: dict[str, dict[str, dict[str, Any]]] = {}
    for hook, kind, _, check in _HOOKS:
        failures = _call(pm, hook, skip, register=_Register(hook, kind, check, staged))
        if failures:  # pluggy stopped this call at the failure; the next round goes without the plugins that failed
            return Registry(), staged, failures
    reg = Registry(plugins=infos)
    taken: dict[tuple[str, str], PluginInfo] = {}
    failures = {}
    for info in _by_priority(infos):
        if info.error:
            continue
        mine = staged.get(info.name, {})
        clash = next(((hook, kind, name) for hook, kind, _, _ in _HOOKS
                      for name in mine.get(kind, {}) if (kind, name) in taken), None)
        if clash is not None:
            hook, kind, name = clash
            failures[info.name] = f'{hook}: {kind[:-1]} "{name}" is already registered by {taken[kind, name].label}'
            continue
        for _, kind, owners, _ in _HOOKS:
            for name, value in mine.get(kind, {}).items():
                getattr(reg, kind)[name] = value
                getattr(info, kind).append(name)
                taken[kind, name] = info
                if owners:
                    getattr(reg, owners)[name] = info
    return reg, staged, failures


def _hooks_of(pm: pluggy.PluginManager, name: str) -> list[str]:
    plugin = pm.get_plugin(name)
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or []) if plugin is not None else []


def _build() -> Registry:
    global _building
    pm = _plugin_manager()
    infos = {
        name: replace(info, effects=[], domains=[], live_domains=[], presets=[], slicers=[], hooks=_hooks_of(pm, name),
                      error=_late_failures.get(name, info.error))
        for name, info in _entry_infos.items()
    }
    _building = True
    try:
        while True:  # each round that fails marks at least one more plugin failed, so this ends
            reg, staged, failures = _round(pm, infos)
            if not failures:
                return reg
            for name, error in failures.items():
                _fail(infos[name], error, dropped=_listing(staged.get(name, {})))
    finally:
        _building = False


# -- subcommands ------------------------------------------------------------------------------------------

_commands_added: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # click group -> (generation, names)


def _command_stage(group: Any, register: _Register) -> Any:
    """What ``register_commands(cli)`` receives: a group of ``group``'s class that lists its commands and
    stages each command added to it (``@cli.command()``, ``@cli.group()``, ``cli.add_command``) for the plugin
    adding it."""
    stage = type(group)(name=group.name, help=group.help)
    stage.commands = dict(group.commands)

    def add_command(command: Any, name: str | None = None) -> None:
        name = name or getattr(command, "name", None)
        register(name, command)
        stage.commands[name] = command

    stage.add_command = add_command  # an instance attribute, so click's decorators call it
    return stage


def _plan_commands(group: Any, infos: dict[str, PluginInfo], staged: dict) -> tuple[list, dict[str, str]]:
    """Which staged commands to add to ``group``, and the plugins whose command names are taken."""
    taken = {name: "a vcfx command" for name in group.commands}
    plan, failures = [], {}
    for info in _by_priority(infos):
        if info.error:
            continue
        mine = staged.get(info.name, {}).get("commands", {})
        clash = next((name for name in mine if name in taken), None)
        if clash is not None:
            failures[info.name] = f'register_commands: command "{clash}" is already {taken[clash]}'
            continue
        for name, command in mine.items():
            plan.append((name, command))
            taken[name] = f"added by {info.label}"
    return plan, failures


def add_commands(group: Any) -> list[str]:
    """Let every loaded plugin add subcommands to ``group`` (the ``register_commands`` hook).

    The ``vcfx`` command calls this before it parses its arguments. Each plugin's
    ``register_commands(cli)`` adds to a staging group; its commands reach ``group`` only if
    the hook succeeded and none of their names is taken (vcfx's own commands, then vcfx's own
    plugins, win). A plugin that fails here fails as a whole: its effects, domains, presets and
    slicers are dropped too, and a PluginLoadWarning says so. Calling this again after plugins
    changed replaces the commands it added before; otherwise it does nothing.

    Parameters
    ----------
    group : click.Group
        The group to add to, normally ``vcfx.cli.cli``.

    Returns
    -------
    list of str
        The names of the commands the plugins added, in the order they were added.
    """
    with _lock:
        reg = registry()
        generation, added = _commands_added.get(group, (None, []))
        if generation == _generation:
            return list(added)
        for name in added:
            group.commands.pop(name, None)
        pm = _plugin_manager()
        infos = {name: replace(info) for name, info in reg.plugins.items()}
        failed_here = False
        while True:  # as in _build: each failing round marks at least one more plugin failed
            staged: dict[str, dict[str, dict[str, Any]]] = {}
            register = _Register("register_commands", "commands", _check_command, staged)
            skip = {name for name, info in infos.items() if info.error}
            failures = _call(pm, "register_commands", skip, cli=_command_stage(group, register))
            plan: list = []
            if not failures:
                plan, failures = _plan_commands(group, infos, staged)
            if not failures:
                break
            failed_here = True
            for name, error in failures.items():
                info = infos[name]
                _late_failures[name] = error
                had = {kind: getattr(info, kind) for kind in ("effects", "domains", "live_domains", "presets", "slicers")}
                _fail(info, error, dropped=_listing({**had, **staged.get(name, {})}))
        for name, command in plan:
            group.add_command(command, name)
        if failed_here:
            _invalidate()  # the registry is built again without the plugins that failed here
        names = [name for name, _ in plan]
        _commands_added[group] = (_generation, names)
        return names


def registry() -> Registry:
    """The current registry, loading entry points on first use."""
    global _registry
    with _lock:
        if _registry is None:
            if _building:
                raise PluginError("the plugin registry was asked for from inside a plugin hook; hooks only register")
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
        raise PluginError(unknown_name_message(str(name), reg.effects, "effect") + _failed_hint(reg)) from None


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
        raise PluginError(unknown_name_message(name, reg.domains, "domain")) from None


def presets() -> dict[str, str]:
    """Names of the registered presets with their one-line summaries."""
    return {name: p.summary for name, p in sorted(registry().presets.items())}


def preset(name: str, **options: Any):
    """Build the registered preset ``name`` as a :class:`vcfx.Chain`."""
    reg = registry()
    try:
        p = reg.presets[name]
    except KeyError:
        raise PluginError(unknown_name_message(name, reg.presets, "preset")) from None
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
            unknown_name_message(str(name), reg.slicers, "slicer")
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


def describe_effects() -> list[dict[str, Any]]:
    """Every registered effect as data: name, summary, domains, plugin and each parameter's declaration.

    What ``vcfx effects --json`` prints under ``"effects"``.
    """
    reg = registry()
    return [{"effect": name, "summary": cls.summary, "domains": list(cls.domains), "plugin": reg.owner[name].name,
             "params": [p.describe() for p in cls.params]}
            for name, cls in sorted(reg.effects.items())]


def describe_slicers() -> list[dict[str, Any]]:
    """Every registered slicer as data, as ``vcfx effects --json`` prints it under ``"slicers"``."""
    return [{"slicer": name, "summary": cls.summary, "params": [p.describe() for p in cls.params]}
            for name, cls in sorted(registry().slicers.items())]

"""The chain runner: plans domains so consecutive effects share one analysis."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any

import numpy as np

from .audio import Audio
from .effect import WAVEFORM, Context, Effect
from .errors import AudioError, EffectError, ParameterError, SpecError, VcfxError
from .plugins import domain, owner, registry
from .spec import parse_spec

__all__ = ["Chain", "plan", "check_engine", "default_engine", "engines"]

_DRAW_KEY = 0x7FFFFFFF
"""Spawn key of the generator that draws random parameters (effects use keys 0, 1, ...)."""


def plan(effects: Iterable[Effect], options: dict | None = None,
         engine: str | None = None) -> list[tuple[str, list[Effect]]]:
    """Choose a domain for every effect and group consecutive ones.

    Costs: entering a non-waveform domain (one analysis and one synthesis)
    costs :data:`CONVERSION_COST` waveform passes; each effect run on the
    waveform costs one pass; an effect inside a domain run is nearly free.
    The cheapest plan wins; ties go to each effect's first-listed domain. So
    ``tempo`` alone runs on the waveform (Rubber Band), but next to WORLD
    effects it joins their run and stretches WORLD frames.

    Nested chains are planned through: their effects join their
    neighbours' runs, unless the nested chain's ``options`` make its
    effects run with other domain options than their neighbours (then they
    are planned on their own). ``effects`` may be a :class:`Chain` (its
    options and engine count) or a list; ``options`` and ``engine`` are
    the ones around it.

    An engine (a chain's ``engine``, or ``engine`` here where the chain
    sets none) makes every effect that offers that domain run in it; the
    others are planned by cost as usual. With no engine anywhere,
    :func:`default_engine` decides.
    Returns ``[(domain, [effects...]), ...]``, nested chains spliced in.
    """
    effects = [effects] if isinstance(effects, Chain) else list(effects)
    leaves = _with_default(_leaves(effects, dict(options or {}), check_engine(engine)))
    return [(dom, [leaves[i][0] for i in indices]) for dom, _, indices in _plan_leaves(leaves)]


def engines() -> list[str]:
    """The names a chain's ``engine`` can take: every registered domain but the waveform, sorted."""
    return sorted(name for name in registry().domains if name != WAVEFORM)


def check_engine(engine: Any) -> str | None:
    """``engine`` when it is None or a registered engine (see :func:`engines`).

    Raises
    ------
    ParameterError
        Naming the bad value and every registered engine.
    """
    if engine is None:
        return None
    known = engines()
    if not isinstance(engine, str) or engine not in known:
        close = difflib.get_close_matches(engine, known, n=1, cutoff=0.6) if isinstance(engine, str) else []
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        listing = ", ".join(known) if known else "(none)"
        raise ParameterError(f"engine={engine!r} is not a registered engine{hint}; known: {listing} "
                             "(or None, the default)")
    return engine


def default_engine(effects: list[Effect], configured: Iterable[str] = ()) -> str | None:
    """The engine ``effects`` run in when no chain around them chooses one.

    This is the one place where the default engine is decided: the engine
    that an effect prefers (:meth:`Effect.preferred_engine`) and no other
    effect contradicts, when it is registered, every effect that works
    outside the waveform can run in it, and the chain's options do not
    configure only other engines (``options={"world": {...}}`` asks for
    WORLD's analysis, so it keeps the chain out of PSOLA). Otherwise None: each effect runs in
    the domain the cost model of :func:`plan` picks (its first-listed
    domain on ties), WORLD for the built-in pitch effects. ``pitch_shift``
    prefers PSOLA from -11 semitones up and ``formant_shift`` from a ratio
    of 0.7 up, WORLD below, where each sounded the more natural
    (docs/measurements.md, "Choosing the default engine").

    Parameters
    ----------
    effects : list of Effect
        Every effect of the chain, nested chains spliced in, random
        parameters drawn.
    configured : iterable of str, optional
        Domains the chain's options (or its nested chains') give options to.

    Returns
    -------
    str or None
    """
    preferred = {eff.preferred_engine() for eff in effects} - {None}
    if len(preferred) != 1:
        return None
    engine = preferred.pop()
    if engine not in engines():
        return None
    configured = set(configured)
    if engine not in configured and configured & set(engines()) - {engine}:
        return None
    if any(engine not in eff.domains and tuple(eff.domains) != (WAVEFORM,) for eff in effects):
        return None
    return engine


CONVERSION_COST = 10


def _offered(eff: Effect, engine: str | None) -> tuple[str, ...]:
    """The domains ``eff`` may run in: only the engine when it offers it, else all it lists."""
    return (engine,) if engine is not None and engine in eff.domains else tuple(eff.domains)


def _plan_indices(effects: list[Effect], engines: list[str | None] | None = None) -> list[tuple[str, list[int]]]:
    if not effects:
        return []
    engines = [None] * len(effects) if engines is None else engines
    # best[d] = (cost, preference penalty, choices) for a prefix ending in domain d
    best: dict[str, tuple[int, int, list[str]]] = {WAVEFORM: (0, 0, [])}
    for eff, engine in zip(effects, engines):
        new: dict[str, tuple[int, int, list[str]]] = {}
        for rank, dom in enumerate(_offered(eff, engine)):
            def step(prev: str) -> int:
                if dom == WAVEFORM:
                    return 1
                return 0 if prev == dom else CONVERSION_COST

            options = [(c + step(prev), pen + rank, choice + [dom]) for prev, (c, pen, choice) in best.items()]
            new[dom] = min(options, key=lambda o: (o[0], o[1]))
        best = new
    _, _, choice = min(best.values(), key=lambda o: (o[0], o[1]))
    groups: list[tuple[str, list[int]]] = []
    for index, dom in enumerate(choice):
        if groups and groups[-1][0] == dom:
            groups[-1][1].append(index)
        else:
            groups.append((dom, [index]))
    return groups


def _merged(outer: dict[str, dict[str, Any]], inner: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The domain options a nested chain runs with: its own keys over the outer chain's, domain by domain."""
    merged = {dom: dict(opts) for dom, opts in outer.items()}
    for dom, opts in inner.items():
        merged[dom] = {**merged.get(dom, {}), **opts}
    return merged


Leaf = tuple[Effect, dict, "str | None"]
"""An effect with the domain options and the engine it runs with."""


def _leaves(effects: list[Effect], options: dict[str, dict[str, Any]], engine: str | None = None) -> list[Leaf]:
    """The effects in order with every nested chain spliced in, each with its domain options and engine.

    A nested chain's engine applies to its effects; where it sets none, the one around it does.
    """
    leaves: list[Leaf] = []
    for eff in effects:
        if isinstance(eff, Chain):
            leaves += _leaves(eff._effects, _merged(options, eff.options), eff.engine or engine)
        else:
            leaves.append((eff, options, engine))
    return leaves


def _with_default(leaves: list[Leaf]) -> list[Leaf]:
    """``leaves`` of a whole chain, with :func:`default_engine` for the effects no chain chose one for."""
    if any(eng is None for _, _, eng in leaves):
        configured = {domain for _, opts, _ in leaves for domain, given in opts.items() if given}
        default = default_engine([eff for eff, _, _ in leaves], configured)
        leaves = [(eff, opts, default if eng is None else eng) for eff, opts, eng in leaves]
    return leaves


def _plan_leaves(leaves: list[Leaf]) -> list[tuple[str, dict, list[int]]]:
    """``[(domain, options, [leaf indices])]``: effects with other domain options never share a run.

    Effects with other engines may share one: each is only held to its own engine's domain.
    """
    groups: list[tuple[str, dict, list[int]]] = []
    start = 0
    while start < len(leaves):
        options, end = leaves[start][1], start
        while end < len(leaves) and leaves[end][1] == options:
            end += 1
        run = leaves[start:end]
        for dom, indices in _plan_indices([eff for eff, _, _ in run], [eng for _, _, eng in run]):
            groups.append((dom, options, [start + i for i in indices]))
        start = end
    return groups


def _draws(ctx: Context) -> np.random.Generator:
    """The generator random parameters are drawn from: a stream of its own, apart from the effects' ones."""
    seq = ctx.seed_sequence
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _DRAW_KEY))
    ))


def _label(eff: Effect) -> str:
    """``effect "x"``, naming the plugin (and its distribution) when the effect comes from outside vcfx."""
    info = owner(eff.name)
    if info is None or info.distribution == "vcfx" or registry().effects.get(eff.name) is not type(eff):
        return f'effect "{eff.name}"'
    return f'effect "{eff.name}" ({info.label})'


def _length_ok(actual: int, expected: int | None) -> bool:
    return expected is None or abs(actual - expected) <= max(2, math.ceil(expected * 0.001))


class Chain(Effect, MutableSequence):
    """A list of effects applied in order; itself an effect.

    Consecutive effects that share a domain (for example the WORLD vocoder's
    features) are run on one analysis and one synthesis.

    Parameters
    ----------
    effects : iterable of Effect
    seed : int, optional
        Seed of the random generators handed to the effects: the same seed
        gives the same output. Without one, every run draws fresh entropy.
    options : dict, optional
        Per-domain options, e.g. ``{"world": {"f0_method": "harvest"}}``.
    engine : str, optional
        The engine (a registered domain other than the waveform, such as
        ``"world"``) every effect that offers it runs in; effects that do
        not offer it run where they would anyway, and a chain where no
        effect offers it runs as without it. None (the default) leaves the
        choice to :func:`default_engine`. See :func:`engines`.

    Notes
    -----
    A chain may hold chains. A nested chain is the same as its effects
    spliced in: it shares its neighbours' analysis, and the outermost
    chain's seed drives every generator and every draw, so ``Chain([a,
    Chain([b, c])], seed=s)`` gives exactly the bytes of ``Chain([a, b, c],
    seed=s)``. A nested chain's own ``seed`` is used only when it runs
    alone. Its ``options`` apply to its effects, over the outer chain's
    domain by domain; effects whose options then differ from their
    neighbours' get an analysis of their own. Its ``engine`` applies to its
    effects; where it sets none, the outer chain's does.

    Examples
    --------
    >>> chain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=4)], seed=0)
    >>> out = chain(vcfx.load("voice.wav"))
    >>> y = chain.process(y, 22050)          # NumPy in, NumPy out
    """

    name = "chain"
    summary = "Effects applied in order."

    def __init__(self, effects: Iterable[Effect] = (), seed: int | None = None, options=None,
                 engine: str | None = None):
        object.__setattr__(self, "_effects", [])
        for eff in effects:
            self.append(eff)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ParameterError(f"seed={seed!r} must be a non-negative integer")
        self.seed = None if seed is None else int(seed)
        options = {} if options is None else options
        if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
            raise ParameterError(
                f'options={options!r} must map domain names to dicts, e.g. {{"world": {{"f0_method": "harvest"}}}}'
            )
        self.options = dict(options)
        self.engine = engine

    @property
    def engine(self) -> str | None:
        """The engine the chain's effects run in where they offer it, or None (see :class:`Chain`)."""
        return self._engine

    @engine.setter
    def engine(self, value: str | None) -> None:
        object.__setattr__(self, "_engine", check_engine(value))

    # -- list behaviour ---------------------------------------------------
    def _check(self, eff: Any) -> Effect:
        if not isinstance(eff, Effect):
            raise ParameterError(f"a chain holds Effect objects, got {type(eff).__name__}: {eff!r}")
        if isinstance(eff, Chain) and eff._holds(self):
            raise ParameterError("a chain cannot hold itself, directly or through the chains inside it")
        return eff

    def _holds(self, chain: "Chain") -> bool:
        """Whether ``chain`` is this very chain or is nested somewhere inside it."""
        return self is chain or any(isinstance(e, Chain) and e._holds(chain) for e in self._effects)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Chain(self._effects[index], seed=self.seed, options=self.options, engine=self.engine)
        return self._effects[index]

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            self._effects[index] = [self._check(e) for e in value]
        else:
            self._effects[index] = self._check(value)

    def __delitem__(self, index):
        del self._effects[index]

    def __len__(self) -> int:
        return len(self._effects)

    def insert(self, index: int, value: Effect) -> None:
        self._effects.insert(index, self._check(value))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Chain):
            return NotImplemented
        return (self._effects == other._effects and self.seed == other.seed and self.options == other.options
                and self.engine == other.engine)

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self._effects))
        seed = f", seed={self.seed}" if self.seed is not None else ""
        options = f", options={self.options!r}" if self.options else ""
        engine = f", engine={self.engine!r}" if self.engine is not None else ""
        return f"Chain([{inner}]{seed}{options}{engine})"

    def is_random(self) -> bool:
        """Whether any effect, in nested chains too, has a random parameter."""
        return any(e.is_random() for e in self._effects)

    def drawn(self, rng: np.random.Generator) -> "Chain":
        """A copy with every random parameter, in nested chains too, drawn from ``rng`` in order."""
        if not self.is_random():
            return self
        return self._rebuilt(iter([e.drawn(rng) for e, _, _ in _leaves(self._effects, {})]), self.seed)

    def _rebuilt(self, effects: Iterator[Effect], seed: int | None) -> "Chain":
        """This chain's shape (nested chains, their seeds, options and engines) around the next ``effects``."""
        return Chain(
            [e._rebuilt(effects, e.seed) if isinstance(e, Chain) else next(effects) for e in self._effects],
            seed=seed, options=self.options, engine=self.engine,
        )

    # -- running ---------------------------------------------------------------
    def __call__(self, audio: Audio, *, seed=None) -> Audio:
        """Run the chain on ``audio``; ``seed`` overrides the chain's own seed."""
        if not isinstance(audio, Audio):
            raise AudioError(
                f"a chain takes vcfx.Audio, got {type(audio).__name__}; "
                "use chain.process(array, sample_rate) for NumPy arrays"
            )
        if seed is not None and not isinstance(seed, np.random.SeedSequence) and (
                isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ParameterError(f"seed={seed!r} must be a non-negative integer")
        ctx = Context.from_seed(self.seed if seed is None else seed, self.options)
        return self.process_waveform(audio, ctx)

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        for eff in self._effects:
            if frames is None:
                return None
            frames = eff.expected_frames(frames, sample_rate)
        return frames

    def min_frames(self, sample_rate: int) -> int:
        return max([1] + [e.min_frames(sample_rate) for e in self._effects])

    def context_frames(self, sample_rate: int) -> int:
        return sum(e.context_frames(sample_rate) for e in self._effects)

    def _run_plan(self, ctx: Context) -> tuple[list[Effect], list[Context], list[tuple[str, dict, list[int]]]]:
        """The effects as they run (nested chains spliced in, random parameters drawn), their contexts, the plan.

        Each effect's generator is spawned from ``ctx`` by its position in
        the spliced list, and the draws come from a stream of their own, so a
        chain resolved ahead of time (:meth:`resolve`) and run with the same
        seed gives the same output as the random chain run with that seed.
        """
        leaves = _leaves([self], ctx.options)
        draws = _draws(ctx)
        drawn = _with_default([(eff.drawn(draws), options, engine) for eff, options, engine in leaves])
        contexts = [Context.from_seed(seq, options)
                    for seq, (_, options, _) in zip(ctx.seed_sequence.spawn(len(leaves)), leaves)]
        return [eff for eff, _, _ in drawn], contexts, _plan_leaves(drawn)

    def resolve(self, seed: int | None = None) -> "Chain":
        """A copy with every random parameter drawn as a run with ``seed`` would draw it.

        Running the result with the same seed gives the same output as running
        this chain with that seed; its :meth:`to_dict` records the values
        drawn. The engine stays, and nested chains keep their place, seeds,
        options and engines.
        """
        seed = self.seed if seed is None else seed
        draws = _draws(Context.from_seed(seed))
        return self._rebuilt(iter([e.drawn(draws) for e, _, _ in _leaves(self._effects, {})]), seed)

    def process_waveform(self, audio: Audio, ctx: Context) -> Audio:
        effects, contexts, groups = self._run_plan(ctx)
        for dom_name, options, indices in groups:
            group = [effects[i] for i in indices]
            if dom_name == WAVEFORM:
                for i in indices:
                    audio = _run_waveform(effects[i], audio, contexts[i])
                continue
            # the run's domain options: a nested chain's own, or the chain's
            run_ctx = ctx if options == ctx.options else Context.from_seed(ctx.seed_sequence, options)
            dom = domain(dom_name)
            dom.check_options(run_ctx)
            expected = audio.frames
            for eff in group:
                _check_min_length(eff, audio)
                expected = None if expected is None else _expected_frames(eff, expected, audio.sample_rate)
            with _blame(f'domain "{dom_name}"'):
                need = int(dom.min_frames(audio.sample_rate))
            if audio.frames < need:
                names = ", ".join(f'"{e.name}"' for e in group)
                raise AudioError(
                    f"audio of {audio.frames} frames ({audio.duration_s * 1000:.1f} ms) is too short for the "
                    f"{dom_name} domain that effect {names} works in: it needs at least {need} frames "
                    f"({need / audio.sample_rate * 1000:.1f} ms) at {audio.sample_rate} Hz"
                )
            with _blame(f'domain "{dom_name}" analysis'):
                state = dom.analyze(audio, run_ctx)
            for i in indices:
                with _blame(effects[i]):
                    state = getattr(effects[i], f"process_{dom_name}")(state, contexts[i])
            with _blame(f'domain "{dom_name}" synthesis after {", ".join(_label(e) for e in group)}'):
                out = dom.synthesize(state, run_ctx)
            _check_output(f"{dom_name} run of {', '.join(e.name for e in group)}", audio, out, expected, group)
            audio = out
        return audio

    # -- description -------------------------------------------------------------
    def to_spec(self) -> str:
        """The chain as a spec string, e.g. ``pitch_shift=semitones=4,tempo=rate=0.8``.

        A spec string has no nesting: nested chains are written spliced in,
        which runs the same. A nested chain whose ``options`` or ``engine``
        make its effects run differently from the chain around it cannot be
        written so: that is a SpecError (write a preset file instead). Like
        the seed and the options, the chain's own engine is not part of the
        string.
        """
        leaves = _leaves(self._effects, self.options, self.engine)
        for eff in self._effects:
            if not isinstance(eff, Chain):
                continue
            inner = _leaves([eff], self.options, self.engine)
            what = ("options" if any(o != self.options for _, o, _ in inner)
                    else "engine" if any(g != self.engine for _, _, g in inner) else None)
            if what is not None:
                raise SpecError(
                    f"a spec string cannot hold the nested {eff!r}: its {what} "
                    f"{'change' if what == 'options' else 'changes'} how its effects run, "
                    f"and a spec string has no place for {what}; save the chain as a preset file "
                    "(write_preset, or --save-preset on the command line)"
                )
        return ",".join(e.to_spec() for e, _, _ in leaves)

    @classmethod
    def from_spec(cls, spec: str, seed: int | None = None) -> "Chain":
        """Parse ``name=key=value:key=value,name2=...`` (ffmpeg-style)."""
        return cls(parse_spec(spec), seed=seed)

    def to_dict(self) -> dict[str, Any]:
        """``{"effect": "chain", "seed": ..., "options": {...}, "engine": ..., "effects": [...]}``; nested chains nest.

        ``seed``, ``options`` and ``engine`` appear when set. A preset file holds the
        same without the ``"effect"`` key.
        """
        data: dict[str, Any] = {"effect": self.name}
        if self.seed is not None:
            data["seed"] = self.seed
        if self.options:
            data["options"] = self.options
        if self.engine is not None:
            data["engine"] = self.engine
        data["effects"] = [e.to_dict() for e in self._effects]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Chain":
        """Build a chain from :meth:`to_dict` output or a preset file's data.

        An entry of ``"effects"`` whose ``"effect"`` is ``"chain"`` is a
        nested chain, read the same way.
        """
        if not isinstance(data, dict) or not isinstance(data.get("effects"), list):
            got = f"keys {sorted(data)}" if isinstance(data, dict) else repr(data)
            raise SpecError(f'a chain preset (or nested chain entry) needs a list called "effects", got {got}')
        unknown = set(data) - {"effect", "seed", "effects", "options", "engine"}
        if unknown:
            raise SpecError(f"unknown preset keys {sorted(unknown)}; known: seed, effects, options, engine")
        if data.get("effect", cls.name) != cls.name:
            raise SpecError(f'a chain has "effect" = "{cls.name}" or no "effect" key, got {data["effect"]!r}')
        return cls(
            [cls.from_dict(e) if isinstance(e, dict) and e.get("effect") == cls.name else Effect.from_dict(e)
             for e in data["effects"]],
            seed=data.get("seed"),
            options=data.get("options"),
            engine=data.get("engine"),
        )


class _blame:
    """Turn any exception inside the block into an EffectError naming who failed."""

    def __init__(self, who: "str | Effect"):
        self.who = who  # an effect is named only when something fails

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # a plugin calling sys.exit() must not end the host; Ctrl-C still stops it
        if exc is None or getattr(exc, "names_culprit", False) or not isinstance(exc, (Exception, SystemExit)):
            return False
        kind = type(exc).__name__
        detail = str(exc) if isinstance(exc, VcfxError) else f"{kind}: {exc}"
        raise _named(f"{_who(self.who)} failed: {detail}") from exc


def _who(who: "str | Effect") -> str:
    return _label(who) if isinstance(who, Effect) else who


def _named(message: str) -> EffectError:
    """An EffectError whose message already names who failed (an enclosing _blame passes it on as is)."""
    exc = EffectError(message)
    exc.names_culprit = True
    return exc


def _expected_frames(eff: Effect, frames: int, sample_rate: int) -> int | None:
    """``eff.expected_frames(...)``, with a failure or a nonsense answer blamed on the effect."""
    with _blame(eff):
        expected = eff.expected_frames(frames, sample_rate)
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, (int, np.integer))
                                 or expected < 1):
        raise _named(f"{_label(eff)}: expected_frames returned {expected!r}, not a positive integer or None")
    return expected


def _check_min_length(eff: Effect, audio: Audio) -> None:
    with _blame(eff):
        need = int(eff.min_frames(audio.sample_rate))
    if audio.frames < need:
        raise AudioError(
            f"audio of {audio.frames} frames ({audio.duration_s * 1000:.1f} ms) is too short for "
            f'effect "{eff.name}": it needs at least {need} frames at {audio.sample_rate} Hz'
        )


def _run_waveform(eff: Effect, audio: Audio, ctx: Context) -> Audio:
    _check_min_length(eff, audio)
    with _blame(eff):
        out = eff.process_waveform(audio, ctx)
    _check_output(eff, audio, out, _expected_frames(eff, audio.frames, audio.sample_rate), [eff])
    return out


def _check_output(who: "str | Effect", before: Audio, out: Any, expected: int | None, group: list[Effect]) -> None:
    if not isinstance(out, Audio):
        raise _named(f"{_who(who)} returned {type(out).__name__}, expected vcfx.Audio")
    if out.sample_rate != before.sample_rate and not any(e.changes_sample_rate for e in group):
        raise _named(
            f"{_who(who)} changed the sample rate from {before.sample_rate} to {out.sample_rate} "
            "without declaring changes_sample_rate"
        )
    if out.channels != before.channels and not any(e.changes_channels for e in group):
        raise _named(
            f"{_who(who)} changed the channel count from {before.channels} to {out.channels} "
            "without declaring changes_channels"
        )
    if not _length_ok(out.frames, expected):
        raise _named(f"{_who(who)} returned {out.frames} frames, expected {expected}")

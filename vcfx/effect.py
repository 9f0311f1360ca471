"""The Effect base class: declared parameters, validation, serialisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .audio import Audio
from .errors import ParameterError, StreamError
from .params import Distribution, Param

__all__ = ["Effect", "Context", "Configurable", "LiveProcessor", "WAVEFORM"]

WAVEFORM = "waveform"
"""The built-in domain: effects that take and return :class:`Audio`."""


@dataclass
class Context:
    """What the chain hands an effect besides the data.

    Attributes
    ----------
    rng : numpy.random.Generator
        This effect's own generator, derived from the chain's seed. Use it
        for every random draw.
    seed_sequence : numpy.random.SeedSequence
        The sequence ``rng`` was built from, for effects that run sub-chains.
    options : dict
        Per-domain options given to the chain (``{"world": {...}}``).
    """

    seed_sequence: np.random.SeedSequence
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    _rng: np.random.Generator | None = field(default=None, repr=False, compare=False)

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:  # built on first use: most effects draw nothing
            self._rng = np.random.Generator(np.random.PCG64(self.seed_sequence))
        return self._rng

    @classmethod
    def from_seed(cls, seed=None, options=None) -> "Context":
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        return cls(seq, dict(options or {}))

    def spawn(self, n: int) -> list["Context"]:
        """Independent child contexts, one per sub-effect."""
        return [Context.from_seed(s, self.options) for s in self.seed_sequence.spawn(n)]


class LiveProcessor:
    """One effect, or one run of a domain's effects, working on a live stream block by block.

    :meth:`Effect.live` and :meth:`vcfx.Domain.live` build one for a
    :class:`vcfx.Stream`, which calls it from its own thread (often a sound
    card's callback). Blocks are float32 arrays shaped ``(channels, n)``,
    ``1 <= n <= block_frames``, already checked by the stream.

    The per-block path must not wait: no file or network I/O, no logging,
    no locks, and no allocation beyond the arrays NumPy makes. Parameters
    of the effects may be assigned from another thread between blocks;
    read each one once per block.

    Attributes
    ----------
    latency_frames : int
        The constant delay (frames) from input to output, known when the
        processor is built: output frame ``t`` answers input frame ``t -
        latency_frames``.
    """

    latency_frames: int = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """The next ``n`` output frames for the next ``n`` input frames, float32, shaped like ``block``."""
        raise NotImplementedError

    def flush(self) -> np.ndarray:
        """What the processor still owes after the last block, shape ``(channels, k)``, float32.

        At least ``latency_frames`` frames (the delayed end of the input),
        plus any tail (a reverb's decay). The processor is then reset.
        """
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every past block, as if just built."""
        raise NotImplementedError


class Configurable:
    """Declared keyword parameters, validated on construction and on every assignment.

    Each assignment to a declared parameter checks the value against its
    :class:`~vcfx.params.Param` and then the whole object with
    :meth:`validate`; a refused assignment is undone.

    The part of :class:`Effect` that other plugin-provided objects (such as
    :class:`vcfx.Slicer`) share: a subclass sets :attr:`name` and declares
    :attr:`params`; ``__init__``, assignment, ``repr``, equality and
    :meth:`to_dict` all read that one declaration.
    """

    name: ClassVar[str] = ""
    """Registered name, as used in chain specs."""
    summary: ClassVar[str] = ""
    """One line describing what it does."""
    params: ClassVar[tuple[Param, ...]] = ()
    """Declared parameters."""
    _noun: ClassVar[str] = "effect"
    """What the object is called in messages and :meth:`to_dict` (``"effect"``, ``"slicer"``)."""

    def __init__(self, **values: Any):
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ParameterError(
                f'{self._noun} "{self.name}" has no parameter {", ".join(map(repr, unknown))}. '
                f"Known: {', '.join(declared) or '(none)'}"
            )
        for p in self.params:  # each value checked alone, then all of them together, once
            object.__setattr__(self, p.name, p.validate(values.get(p.name, p.default)))
        self.validate()

    def __setattr__(self, key: str, value: Any) -> None:
        """Assign ``key``; a declared parameter is checked alone and then with the others.

        When :meth:`validate` refuses the new combination, the previous value
        is put back before the error is raised, so a refused assignment leaves
        the object exactly as it was.
        """
        param = next((p for p in type(self).params if p.name == key), None)
        if param is None:
            object.__setattr__(self, key, value)
            return
        value = param.validate(value)
        if any(p.name not in self.__dict__ for p in type(self).params):
            object.__setattr__(self, key, value)  # not built yet: __init__ validates the whole once it is
            return
        previous = self.__dict__[key]
        object.__setattr__(self, key, value)
        try:
            self.validate()
        except BaseException:
            object.__setattr__(self, key, previous)
            raise

    def validate(self) -> None:
        """Check combinations of parameters; raise ParameterError when they conflict.

        Runs after construction and after every assignment to a declared
        parameter (an assignment it refuses is undone), so ``process_*``
        methods can rely on the combination without checking it again.
        """

    def param_values(self) -> dict[str, Any]:
        """Current values of the declared parameters."""
        return {p.name: getattr(self, p.name) for p in self.params}

    def is_random(self) -> bool:
        """Whether any parameter is a :class:`~vcfx.params.Distribution`."""
        return any(isinstance(v, Distribution) for v in self.param_values().values())

    def drawn(self, rng: np.random.Generator):
        """A copy with every random parameter replaced by a value drawn from ``rng``."""
        if not self.is_random():
            return self
        values = {}
        for p in self.params:
            value = getattr(self, p.name)
            if isinstance(value, Distribution):
                value = value.draw(rng)
                if p.type is int and isinstance(value, float):
                    value = round(value)  # uniform(LOW,HIGH) of a whole-number parameter draws whole numbers
            values[p.name] = value
        return type(self)(**values)

    def to_dict(self) -> dict[str, Any]:
        """``{"effect": name, param: value, ...}`` (``"slicer"`` for a slicer)."""
        return {self._noun: self.name} | {
            p.name: p.to_json(getattr(self, p.name)) for p in self.params
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.param_values().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.param_values() == other.param_values()

    __hash__ = None


class Effect(Configurable):
    """Base class of every effect.

    A subclass sets :attr:`name`, declares :attr:`params` and implements
    ``process_<domain>`` for each domain it lists in :attr:`domains`: for the
    built-in ``"waveform"`` domain that is ``process_waveform(audio, ctx) ->
    Audio``; other domains (such as ``"world"``) come from plugins and say
    what their data look like.

    Parameters are keyword arguments, validated on construction and on
    every assignment::

        >>> import vcfx
        >>> shift = vcfx.effect("pitch_shift", semitones=4)
        >>> shift.semitones = 40
        Traceback (most recent call last):
        vcfx.errors.ParameterError: semitones=40 is outside [-24, 24]
    """

    domains: ClassVar[tuple[str, ...]] = (WAVEFORM,)
    """Domains this effect can work in, most preferred first."""
    changes_sample_rate: ClassVar[bool] = False
    changes_channels: ClassVar[bool] = False
    examples: ClassVar[tuple[dict[str, Any], ...]] = ()
    """Parameter sets worth hearing; used by ``vcfx demo`` and the docs."""

    # -- the contract -----------------------------------------------------
    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        """Output length for an input of ``frames``; ``None`` when it cannot be known."""
        return frames

    def min_frames(self, sample_rate: int) -> int:
        """Shortest input this effect handles; shorter input is an AudioError."""
        return 1

    def context_frames(self, sample_rate: int) -> int:
        """How far (in input frames) one output sample depends on its surroundings.

        Streaming splits long input into chunks with at least this much
        overlap, so joins are seamless. The default (0.25 s) covers
        frame-based analysis; effects with long memory (reverb) say more.
        """
        return int(0.25 * sample_rate)

    def preferred_engine(self) -> str | None:
        """The engine this effect, with these parameter values, is best run in; None for no preference.

        :func:`vcfx.chain.default_engine` runs a chain that chooses no
        engine in the one its effects prefer. An effect that overrides this
        says so from measurements, for the values it is given (a random
        parameter counts as the value drawn for the run).
        """
        return None

    def live(self, sample_rate: int, channels: int, block_frames: int, ctx: Context) -> LiveProcessor:
        """A :class:`LiveProcessor` running this (``"waveform"`` domain) effect on a live stream.

        An effect that can stream overrides this; the default refuses.
        ``ctx`` is the effect's context in the stream (its generator comes
        from the chain's seed). Raise :class:`vcfx.StreamError` saying why
        when these settings cannot stream (a length change, a sample rate);
        :class:`vcfx.Stream` names the effect. An effect that works in
        another domain streams through :meth:`vcfx.Domain.live` instead.
        """
        raise StreamError("it has no live processor (an effect streams by implementing Effect.live)")

    # -- calling ---------------------------------------------------------------
    def __call__(self, audio: Audio, *, seed=None) -> Audio:
        """Apply the effect to ``audio`` (with all of the chain's checks)."""
        from .chain import Chain  # convenience: an effect runs as a chain of one

        return Chain([self], seed=seed)(audio)

    def process(self, array, sample_rate: int, *, seed=None, layout="channels_first") -> np.ndarray:
        """Apply to a NumPy array and return an array laid out like the input.

        Parameters
        ----------
        array : np.ndarray [shape=(frames,) or (channels, frames) or (frames, channels)]
        sample_rate : int
        seed : int, optional
        layout : {"channels_first", "channels_last"}
            See :meth:`Audio.from_array`.
        """
        x = np.asarray(array)
        out = self(Audio.from_array(x, sample_rate, layout=layout), seed=seed).samples
        if x.ndim == 1:
            return out[0].copy()
        return out.T.copy() if layout == "channels_last" else out.copy()

    # -- description -----------------------------------------------------------
    @staticmethod
    def from_dict(data: dict[str, Any]) -> "Effect":
        """Build a registered effect from :meth:`to_dict` output."""
        from .plugins import effect  # convenience: the class comes from the registry

        if not isinstance(data, dict):
            raise ParameterError(f'an effect entry is a table such as {{"effect": "noise", "snr_db": 20}}, got {data!r}')
        data = dict(data)
        name = data.pop("effect", None)
        if not isinstance(name, str):
            raise ParameterError(f'an effect entry needs an "effect" name, got {data!r}')
        return effect(name, **data)

    def to_spec(self) -> str:
        """This effect as a chain spec item, e.g. ``pitch_shift=semitones=4``."""
        changed = [
            f"{p.name}={p.format(getattr(self, p.name))}"
            for p in self.params
            if getattr(self, p.name) != p.default
        ]
        return self.name + ("=" + ":".join(changed) if changed else "")

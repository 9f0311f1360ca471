"""Contract checks a plugin author runs against an effect class.

The host checks every effect's output at run time (finite samples, the
length :meth:`~vcfx.Effect.expected_frames` promised, the sample rate and
channel count kept). These helpers drive an effect class through the cases
where plugins usually break, so the break shows up in the plugin's own test
suite rather than in a user's chain::

    import vcfx.testing
    from vcfx_echo import Echo

    def test_echo_keeps_the_host_contracts():
        vcfx.testing.check_effect(Echo)

:func:`check_effect` runs every check below on the class's default
parameters (when they build an effect) and on each entry of its
``examples``. Each check raises :class:`ContractError` (an
``AssertionError``, so pytest shows it as a test failure) whose message names
the effect, its parameters and the input that broke it.

What is checked
---------------
:func:`check_params`
    Every declared :class:`~vcfx.Param` is well formed: an identifier name,
    a one-line doc, a supported type, a default that validates to itself and
    lies inside ``[low, high]`` or ``choices``; ``curve=True`` only on
    numbers; every ``examples`` entry builds; every listed domain has a
    ``process_<domain>`` method and (other than ``"waveform"``) is
    registered by some plugin. The defaults build an effect, or the class
    has ``examples`` to test instead.
:func:`check_round_trip`
    ``to_dict`` is JSON-safe and builds an equal effect; ``to_spec`` parses
    back to an equal effect.
:func:`check_output`
    Mono input at several sample rates: finite float32 output with the
    sample rate and channel count kept (unless declared otherwise) and the
    length :meth:`~vcfx.Effect.expected_frames` returns; running does not
    change the effect's parameters.
:func:`check_determinism`
    The same seed gives the same samples.
:func:`check_stereo`
    Two different channels in, two out, of the expected length; NumPy
    ``(frames, channels)`` input through ``effect.process(...,
    layout="channels_last")`` comes back in that layout.
:func:`check_silence`
    Digital silence in gives finite output of the expected length.
:func:`check_short_input`
    The shortest input the effect declares it handles (``min_frames``, or
    the domain's minimum) works, and a one-frame input either works or
    raises :class:`~vcfx.AudioError`, never anything else.

:func:`check_effect` runs the last five in every engine the effect lists.

For an effect that streams live (:meth:`~vcfx.Effect.live`, or a domain
that streams), :func:`check_live` drives a :class:`vcfx.Stream`: each
block comes back float32 shaped like the input; the output does not depend
on how the input is cut into blocks; :meth:`~vcfx.Stream.flush` holds at
least the latency; :meth:`~vcfx.Stream.reset` starts the same output
again; and a rejected block (NaN) changes nothing that follows.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable

import numpy as np

from .audio import DTYPE, Audio
from .chain import Chain, _length_ok, plan
from .effect import WAVEFORM, Configurable, Effect
from .errors import AudioError, ParameterError, StreamError, VcfxError
from .live import Stream
from .params import Param
from .plugins import registry
from .spec import parse_effect
from .synthetic import synthetic_voice

__all__ = [
    "SAMPLE_RATES",
    "ContractError",
    "effect_cases",
    "check_effect",
    "check_params",
    "check_round_trip",
    "check_output",
    "check_determinism",
    "check_stereo",
    "check_silence",
    "check_live",
    "check_short_input",
]

SAMPLE_RATES = (16000, 22050, 44100, 48000)
"""Sample rates :func:`check_output` runs at by default."""

DURATION_S = 0.4
"""Length of the test voices."""

_TYPES = (float, int, str, bool)


class ContractError(AssertionError):
    """An effect broke one of the host's contracts."""


def _label(effect: Configurable) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in effect.param_values().items())
    return f'{getattr(effect, "_noun", "effect")} "{effect.name}" ({args})'


def _voice(sample_rate: int, channels: int = 1, frames: int | None = None) -> Audio:
    """A vowel-like test voice; channel ``i`` has its own pitch, so channels differ."""

    voices = [
        synthetic_voice(DURATION_S, sample_rate, f0_hz=(140.0 + 40.0 * i, 220.0 - 30.0 * i)).audio.samples[0]
        for i in range(channels)
    ]
    x = np.stack(voices)
    if frames is not None:
        x = np.resize(x, (channels, frames)) if frames > x.shape[1] else x[:, :frames]
    return Audio(x, sample_rate)


def _run(effect: Effect, audio: Audio, seed: int | None, what: str, engine: str | None = None) -> Audio:
    before = effect.param_values()
    if engine is not None:
        what = f"{what}, in the {engine} engine"
    try:
        out = Chain([effect], seed=seed, engine=engine)(audio)
    except VcfxError as exc:
        raise ContractError(f"{_label(effect)} failed on {what}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a crash the host did not turn into a VcfxError
        raise ContractError(f"{_label(effect)} crashed on {what}: {type(exc).__name__}: {exc}") from exc
    after = effect.param_values()
    if after != before:
        raise ContractError(f"{_label(effect)} changed its own parameters while running on {what}: "
                            f"{before} became {after}")
    return out


def _check_audio(effect: Effect, audio: Audio, out: Any, what: str) -> None:
    who = _label(effect)
    if not isinstance(out, Audio):
        raise ContractError(f"{who} returned {type(out).__name__} for {what}, expected vcfx.Audio")
    if out.samples.dtype != DTYPE or not np.isfinite(out.samples).all():
        raise ContractError(f"{who} returned non-finite or non-{np.dtype(DTYPE).name} samples for {what}")
    if not effect.changes_sample_rate and out.sample_rate != audio.sample_rate:
        raise ContractError(f"{who} changed the sample rate from {audio.sample_rate} to {out.sample_rate} "
                            f"for {what} without declaring changes_sample_rate")
    if not effect.changes_channels and out.channels != audio.channels:
        raise ContractError(f"{who} changed {audio.channels} channels into {out.channels} for {what} "
                            "without declaring changes_channels")
    expected = effect.expected_frames(audio.frames, audio.sample_rate)
    if expected is not None and not _length_ok(out.frames, expected):
        raise ContractError(f"{who} returned {out.frames} frames for {what}; expected_frames promised {expected}")


# -- parameters --------------------------------------------------------------------

def check_params(cls: type[Configurable]) -> None:
    """Check the class's declarations: name, summary, every Param, examples and domains.

    Parameters
    ----------
    cls : type
        An :class:`~vcfx.Effect` or :class:`~vcfx.Slicer` subclass.

    Raises
    ------
    ContractError
    """
    if not (isinstance(cls, type) and issubclass(cls, Configurable)):
        raise ContractError(f"{cls!r} is not a vcfx.Effect or vcfx.Slicer subclass")
    who = f"{cls.__name__} ({cls.name!r})"
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise ContractError(f"{who}: name must be an identifier, as used in chain specs")
    if not isinstance(cls.summary, str) or not cls.summary.strip() or "\n" in cls.summary:
        raise ContractError(f"{who}: summary must be one non-empty line (it heads `vcfx effects` and the docs)")
    if not isinstance(cls.params, tuple) or not all(isinstance(p, Param) for p in cls.params):
        raise ContractError(f"{who}: params must be a tuple of vcfx.Param")
    names = [p.name for p in cls.params]
    if len(set(names)) != len(names):
        raise ContractError(f"{who}: parameter names repeat: {names}")
    for p in cls.params:
        _check_param(who, cls, p)
    if issubclass(cls, Effect):
        _check_domains(who, cls)
        examples = cls.examples
        if not isinstance(examples, tuple) or not all(isinstance(e, dict) for e in examples):
            raise ContractError(f"{who}: examples must be a tuple of dicts of parameter values")
        for example in examples:
            try:
                cls(**example)
            except VcfxError as exc:
                raise ContractError(f"{who}: example {example!r} does not build: {exc}") from exc
    try:
        cls()
    except ParameterError as exc:
        if not getattr(cls, "examples", ()):
            raise ContractError(f"{who}: the defaults do not build ({exc}) and there are no examples to "
                                "test instead; declare examples") from exc


def _check_param(who: str, cls: type, p: Param) -> None:
    where = f"{who} parameter {p.name!r}"
    if not isinstance(p.name, str) or not p.name.isidentifier() or p.name.startswith("_"):
        raise ContractError(f"{where}: the name must be a public identifier")
    if hasattr(Effect, p.name) or hasattr(Configurable, p.name):
        raise ContractError(f"{where}: the name hides an attribute of the base class; rename it")
    if p.type not in _TYPES:
        raise ContractError(f"{where}: type {p.type!r} is not one of float, int, str, bool")
    if not isinstance(p.doc, str) or not p.doc.strip() or "\n" in p.doc:
        raise ContractError(f"{where}: doc must be one non-empty line")
    if p.low is not None and p.high is not None and p.low > p.high:
        raise ContractError(f"{where}: low={p.low} is above high={p.high}")
    if p.choices is not None and p.type is not str:
        raise ContractError(f"{where}: choices are for str parameters")
    if p.curve and p.type not in (float, int):
        raise ContractError(f"{where}: curve=True needs a number type")
    if p.default is None and not p.optional:
        raise ContractError(f"{where}: default None needs optional=True")
    try:
        checked = p.validate(p.default)
    except ParameterError as exc:
        raise ContractError(f"{where}: the default {p.default!r} is invalid: {exc}") from exc
    if checked != p.default:
        raise ContractError(f"{where}: the default {p.default!r} validates to {checked!r}; declare it as that")
    if isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
        if not math.isfinite(p.default):
            raise ContractError(f"{where}: the default must be finite")
    text = p.format(p.default)
    try:
        parsed = p.parse(text)
    except ParameterError as exc:
        raise ContractError(f"{where}: the default written as {text!r} does not parse back: {exc}") from exc
    if parsed != p.default:
        raise ContractError(f"{where}: the default written as {text!r} parses back as {parsed!r}")


def _check_domains(who: str, cls: type[Effect]) -> None:
    domains = cls.domains
    if not isinstance(domains, tuple) or not domains or not all(isinstance(d, str) for d in domains):
        raise ContractError(f"{who}: domains must be a non-empty tuple of names, e.g. ('waveform',)")
    known = registry().domains
    for dom in domains:
        if not callable(getattr(cls, f"process_{dom}", None)):
            raise ContractError(f"{who}: lists domain {dom!r} but has no process_{dom} method")
        if dom != WAVEFORM and dom not in known:
            raise ContractError(f"{who}: domain {dom!r} is not registered by any plugin; "
                                f"known: {', '.join([WAVEFORM, *sorted(known)])}")


def effect_cases(cls: type[Effect]) -> list[dict[str, Any]]:
    """Parameter sets to check: the defaults (when they build an effect), then every ``examples`` entry."""
    cases: list[dict[str, Any]] = []
    try:
        cls()
        cases.append({})
    except ParameterError:
        pass
    cases += [dict(e) for e in cls.examples if dict(e) not in cases]
    return cases


# -- serialisation -------------------------------------------------------------------

def check_round_trip(effect: Effect) -> None:
    """``to_dict`` (through JSON) and ``to_spec`` build an equal effect.

    Uses the registry's parser when the class is registered under its name,
    so the spec is read exactly as ``vcfx apply --chain`` would read it.
    """
    cls = type(effect)
    who = _label(effect)
    try:
        data = effect.to_dict()
        text = json.dumps(data)
    except (TypeError, ValueError, VcfxError) as exc:
        raise ContractError(f"{who}: to_dict() is not JSON-safe: {exc}") from exc
    data = json.loads(text)
    if data.get(effect._noun) != effect.name:
        raise ContractError(f'{who}: to_dict() must name the effect as {{"{effect._noun}": "{effect.name}"}}')
    registered = registry().effects.get(effect.name) is cls
    try:
        rebuilt = Effect.from_dict(data) if registered else cls(**{k: v for k, v in data.items() if k != effect._noun})
    except VcfxError as exc:
        raise ContractError(f"{who}: to_dict() {data} does not build again: {exc}") from exc
    if rebuilt != effect:
        raise ContractError(f"{who}: to_dict() {data} builds {rebuilt!r}, which is not equal")
    try:
        spec = effect.to_spec()
    except VcfxError as exc:
        raise ContractError(f"{who}: to_spec() failed: {exc}") from exc
    try:
        parsed = Chain.from_spec(spec)[0] if registered else parse_effect(spec, cls)
    except VcfxError as exc:
        raise ContractError(f"{who}: to_spec() gave {spec!r}, which does not parse: {exc}") from exc
    if parsed != effect:
        raise ContractError(f"{who}: to_spec() gave {spec!r}, which parses as {parsed!r}")


# -- running -----------------------------------------------------------------------

def check_output(effect: Effect, sample_rates: Iterable[int] = SAMPLE_RATES, seed: int = 0,
                 engine: str | None = None) -> None:
    """Mono voice in at each rate: finite output of the promised length, rate and channels kept."""
    for rate in sample_rates:
        audio = _voice(rate)
        what = f"a {DURATION_S} s mono voice at {rate} Hz"
        _check_audio(effect, audio, _run(effect, audio, seed, what, engine), what)


def check_determinism(effect: Effect, sample_rate: int = 22050, seed: int = 0,
                      engine: str | None = None) -> None:
    """Two runs with the same seed give the same samples."""
    audio = _voice(sample_rate)
    what = f"a mono voice at {sample_rate} Hz with seed={seed}"
    first, second = _run(effect, audio, seed, what, engine), _run(effect, audio, seed, what, engine)
    if first != second:
        raise ContractError(f"{_label(effect)} gave different output in two runs with seed={seed}; draw "
                            "every random number from ctx.rng and keep no state between runs")


def check_stereo(effect: Effect, sample_rate: int = 22050, seed: int = 0,
                 engine: str | None = None) -> None:
    """Two different channels in: two out, and ``process`` keeps a ``(frames, channels)`` layout."""
    audio = _voice(sample_rate, channels=2)
    what = f"a stereo voice at {sample_rate} Hz"
    out = _run(effect, audio, seed, what, engine)
    _check_audio(effect, audio, out, what)
    if effect.changes_channels or effect.changes_sample_rate or engine not in (None, plan([effect])[0][0]):
        return  # process() runs where a chain of the effect alone runs it
    try:
        array = effect.process(audio.samples.T, sample_rate, seed=seed, layout="channels_last")
    except VcfxError as exc:
        raise ContractError(f"{_label(effect)}.process(..., layout='channels_last') failed: {exc}") from exc
    if array.shape != out.samples.T.shape:
        raise ContractError(f"{_label(effect)}.process(..., layout='channels_last') returned shape {array.shape}, "
                            f"expected the chain's output laid out (frames, channels) {out.samples.T.shape}")
    if not np.array_equal(array, out.samples.T):
        raise ContractError(f"{_label(effect)}.process(..., layout='channels_last') returned other samples than "
                            f"the chain's output, laid out (frames, channels)")


def check_silence(effect: Effect, sample_rate: int = 22050, seed: int = 0,
                  engine: str | None = None) -> None:
    """Digital silence in (stereo): finite output of the promised length."""
    audio = Audio(np.zeros((2, int(DURATION_S * sample_rate)), dtype=DTYPE), sample_rate)
    what = f"{DURATION_S} s of stereo silence at {sample_rate} Hz"
    _check_audio(effect, audio, _run(effect, audio, seed, what, engine), what)


def _shortest(effect: Effect, sample_rate: int, engine: str | None = None) -> int:
    need = effect.min_frames(sample_rate)
    domains = registry().domains
    if engine in effect.domains and engine in domains:
        need = max(need, domains[engine].min_frames(sample_rate))
    elif WAVEFORM not in effect.domains:
        need = max(need, min(domains[d].min_frames(sample_rate) for d in effect.domains if d in domains))
    return max(1, need)


def check_short_input(effect: Effect, sample_rate: int = 22050, seed: int = 0,
                      engine: str | None = None) -> None:
    """The shortest input the effect declares it handles works; one frame works or is an AudioError."""
    n = _shortest(effect, sample_rate, engine)
    audio = _voice(sample_rate, channels=2, frames=n)
    what = f"the shortest input it declares ({n} frames, stereo, {sample_rate} Hz)"
    _check_audio(effect, audio, _run(effect, audio, seed, what, engine), what)
    if n > 1:
        one = Audio(np.full((2, 1), 0.25, dtype=DTYPE), sample_rate)
        try:
            out = Chain([effect], seed=seed, engine=engine)(one)
        except AudioError:
            return
        except Exception as exc:
            raise ContractError(f"{_label(effect)} on a one-frame input raised {type(exc).__name__}: {exc}; "
                                "input too short should be an AudioError (declare min_frames)") from exc
        _check_audio(effect, one, out, "a one-frame input")


# -- everything ----------------------------------------------------------------------

def check_effect(cls: type[Effect], cases: Iterable[dict[str, Any]] | None = None, *,
                 sample_rates: Iterable[int] = SAMPLE_RATES, seed: int = 0,
                 engines: Iterable[str] | None = None) -> int:
    """Run every check on ``cls``: its declarations, then each parameter set in each engine it offers.

    Parameters
    ----------
    cls : type
        The :class:`~vcfx.Effect` subclass to check. It need not be
        registered (installed) yet; when it is, specs and dicts are read
        through the registry as users' chains are.
    cases : iterable of dict, optional
        Parameter sets to run; :func:`effect_cases` (defaults and
        ``examples``) when omitted.
    sample_rates : iterable of int
        Rates for :func:`check_output`.
    seed : int
        Seed of every run.
    engines : iterable of str, optional
        Engines to run the checks in (``Chain(..., engine=...)``); by
        default every registered domain the class lists, other than
        ``"waveform"`` (an effect of the waveform alone runs once, with the
        default engine).

    Returns
    -------
    int
        How many parameter sets were checked.

    Raises
    ------
    ContractError
        The first broken contract, naming the effect, its parameters and the input.
    """
    check_params(cls)
    cases = effect_cases(cls) if cases is None else [dict(c) for c in cases]
    if not cases:
        raise ContractError(f"{cls.__name__}: no parameter sets to check")
    rates = tuple(sample_rates)
    if engines is None:
        engines = [d for d in cls.domains if d != WAVEFORM and d in registry().domains] or [None]
    for params in cases:
        try:
            effect = cls(**params)
        except VcfxError as exc:
            raise ContractError(f"{cls.__name__}({params}) does not build: {exc}") from exc
        check_round_trip(effect)
        for engine in engines:
            check_output(effect, rates, seed, engine)
            check_determinism(effect, seed=seed, engine=engine)
            check_stereo(effect, seed=seed, engine=engine)
            check_silence(effect, seed=seed, engine=engine)
            check_short_input(effect, seed=seed, engine=engine)
    return len(cases)


# -- live streams ----------------------------------------------------------------------

def _live_run(stream: Stream, x: np.ndarray, sizes: list[int], what: str, label: str,
              poison_at: int | None = None) -> np.ndarray:
    parts, start, k = [], 0, 0
    while start < x.shape[1]:
        n = min(sizes[k % len(sizes)], x.shape[1] - start)
        block = np.ascontiguousarray(x[:, start:start + n])
        if k == poison_at:
            bad = block.copy()
            bad[0, 0] = np.nan
            try:
                stream.process(bad)
            except StreamError:
                pass
            else:
                raise ContractError(f"{label}: a block holding NaN was accepted")
        out = stream.process(block)
        if not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == block.shape):
            raise ContractError(f"{label}: a block of shape {block.shape} came back as {out!r:.80} on {what}")
        parts.append(out)
        start += n
        k += 1
    tail = stream.flush()
    if tail.shape[0] != x.shape[0] or tail.shape[1] < stream.latency_frames:
        raise ContractError(f"{label}: flush() returned {tail.shape}, fewer than latency_frames="
                            f"{stream.latency_frames} frames, on {what}")
    return np.concatenate(parts + [tail], axis=1)


def check_live(effect: Effect, sample_rate: int = 48000, channels: int = 1, block_frames: int = 256,
               seed: int = 0, atol: float = 1e-6, any_blocks: bool = True) -> None:
    """Run ``effect`` as a :class:`vcfx.Stream` and check the live contract.

    The output of blocks of ``block_frames`` equals (within ``atol``) the
    output of irregular blocks (1 frame, a prime number of frames, a full
    block); after :meth:`~vcfx.Stream.reset` the same input gives the same
    output; a block holding NaN is refused with a StreamError and leaves
    what follows unchanged; ``flush()`` returns at least
    ``latency_frames`` frames. ``any_blocks=False`` skips the irregular
    blocks, for a wrapped processor whose output depends on its block size
    (a pedalboard plugin's modulation advances per block).

    Raises
    ------
    ContractError
        Naming the effect and what broke.
    """
    label = _label(effect)
    chain = Chain([effect], seed=seed)
    try:
        stream = Stream(chain, sample_rate=sample_rate, channels=channels, block_frames=block_frames)
    except VcfxError as exc:
        raise ContractError(f"{label} does not stream: {type(exc).__name__}: {exc}") from exc
    x = _voice(sample_rate, channels).samples.astype(np.float32)
    what = f"a {channels}-channel voice at {sample_rate} Hz"
    even = _live_run(stream, x, [block_frames], what, label)
    stream.reset()
    again = _live_run(stream, x, [block_frames], what + " after reset()", label)
    poisoned = _live_run(Stream(chain, sample_rate=sample_rate, channels=channels, block_frames=block_frames),
                         x, [block_frames], what + " with a rejected NaN block", label, poison_at=3)
    runs = [("after reset()", again), ("with a rejected NaN block", poisoned)]
    if any_blocks:
        fresh = Stream(chain, sample_rate=sample_rate, channels=channels, block_frames=block_frames)
        runs.append(("in ragged blocks", _live_run(fresh, x, [1, 37, block_frames, max(1, block_frames // 2 - 1)],
                                                   what + " in ragged blocks", label)))
    for name, other in runs:
        if other.shape != even.shape or not np.allclose(other, even, atol=atol, rtol=0):
            diff = np.abs(other - even).max() if other.shape == even.shape else f"shape {other.shape}"
            raise ContractError(f"{label}: the live output {name} differs from the output in blocks of "
                                f"{block_frames} (by {diff}) on {what}")

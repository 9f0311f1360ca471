"""Live streams: a chain working on blocks as they arrive, with a constant, declared latency."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .audio import _check_sample_rate
from .chain import Chain, _label, engines
from .effect import WAVEFORM, Context, Effect, LiveProcessor
from .errors import EffectError, ParameterError, StreamError, VcfxError
from .plugins import domain, registry

__all__ = ["Stream", "MAX_BLOCK_FRAMES"]

MAX_BLOCK_FRAMES = 65536
"""Largest ``block_frames`` a stream takes."""


class Stream:
    """A chain run live: blocks in, blocks out, the output a constant delay behind the input.

    Parameters
    ----------
    chain : Chain or Effect or str
        What to run; an effect is a chain of one, a string a chain spec.
        The stream uses these very effect objects: assigning a parameter
        (``chain[0].semitones = 7``) from any thread takes effect at the
        next block. Random parameters are drawn once, when the stream is
        built.
    sample_rate : int
        Rate of every block, Hz.
    channels : int
        Rows of every block.
    block_frames : int
        The largest block :meth:`process` takes (a sound card's buffer size).

    Raises
    ------
    StreamError
        When an effect of the chain cannot stream: it changes the length
        (``tempo``, ``speed``), it works in a domain that analyses the whole
        input at once (``world``), or it has no live processor. The message
        names the effect and says why. This is decided here, never at the
        first block.

    Notes
    -----
    Where the chain has no engine, the stream runs it in the first
    registered engine that streams and that lets every effect stream
    (``psola`` for ``pitch_shift``), else as the chain would run offline.

    :meth:`process` may be called from a sound card's callback thread; it
    does no I/O, logs nothing and takes no lock. Use one stream from one
    thread at a time.

    Examples
    --------
    >>> chain = vcfx.Chain.from_spec("pitch_shift=semitones=4,formant_shift=ratio=1.1")
    >>> stream = vcfx.Stream(chain, sample_rate=48000, block_frames=256)
    >>> stream.latency_frames
    2152
    >>> out = stream.process(np.zeros((1, 256), np.float32))
    """

    def __init__(self, chain: "Chain | Effect | str", sample_rate: int = 48000, channels: int = 1,
                 block_frames: int = 256):
        if isinstance(chain, str):
            chain = Chain.from_spec(chain)
        elif isinstance(chain, Effect) and not isinstance(chain, Chain):
            chain = Chain([chain])
        elif not isinstance(chain, Chain):
            raise ParameterError(f"a stream runs a vcfx.Chain, an Effect or a spec string, got {type(chain).__name__}")
        self.chain = chain
        self.sample_rate = _check_sample_rate(sample_rate)
        self.channels = _whole("channels", channels, 1, 64)
        self.block_frames = _whole("block_frames", block_frames, 1, MAX_BLOCK_FRAMES)
        errors = []
        for plan in _stream_plans(chain):
            try:
                self._processors = self._build(*plan[1:])
            except StreamError as exc:
                errors.append(exc)
                continue
            self.engine = plan[0]
            break
        else:  # the refusal of the plan nearest to the offline one that is about the effects, not a domain
            raise next((e for e in reversed(errors) if not getattr(e, "no_live_domain", False)), errors[-1])
        self.latency_frames = sum(p.latency_frames for _, p in self._processors)
        """Frames from input to output, constant: output frame ``t`` answers input frame ``t - latency_frames``."""

    def _build(self, effects, contexts, groups, seq) -> list[tuple[str, LiveProcessor]]:
        processors = []
        for dom_name, options, indices in groups:
            group = [effects[i] for i in indices]
            if dom_name == WAVEFORM:
                for i in indices:
                    who = _label(effects[i])
                    proc = _built(who, lambda: effects[i].live(self.sample_rate, self.channels,
                                                               self.block_frames, contexts[i]))
                    processors.append((who, proc))
                continue
            dom = domain(dom_name)
            run_ctx = Context.from_seed(seq, options)
            dom.check_options(run_ctx)
            names = ", ".join(_label(e) for e in group)
            who = f'{names} in the "{dom_name}" domain'
            factory = registry().live_domains.get(dom_name, dom.live)
            try:
                proc = _built(who, lambda: factory(group, [contexts[i] for i in indices], self.sample_rate,
                                                   self.channels, self.block_frames, run_ctx),
                              hint=_engine_hint(group, dom_name))
            except StreamError as exc:
                exc.no_live_domain = not _streams(dom_name)
                raise
            processors.append((who, proc))
        return processors

    @property
    def latency_ms(self) -> float:
        """:attr:`latency_frames` in milliseconds."""
        return 1000.0 * self.latency_frames / self.sample_rate

    def __repr__(self) -> str:
        return (f"Stream({self.chain!r}, sample_rate={self.sample_rate}, channels={self.channels}, "
                f"block_frames={self.block_frames}, latency_frames={self.latency_frames})")

    def process(self, block: np.ndarray) -> np.ndarray:
        """The next output block for the next input block.

        Parameters
        ----------
        block : np.ndarray [shape=(channels, n), dtype=float32]
            ``1 <= n <= block_frames`` frames, finite.

        Returns
        -------
        np.ndarray [shape=(channels, n), dtype=float32]

        Raises
        ------
        StreamError
            A block of another type, dtype or shape, or holding NaN or
            infinity. The stream is left as it was, so the next good block
            carries on.
        """
        self._check(block)
        y = block
        for who, proc in self._processors:
            try:
                y = proc.process(y)
            except VcfxError as exc:
                raise EffectError(f"{who} failed on a live block: {exc}") from exc
            except Exception as exc:
                raise EffectError(f"{who} failed on a live block: {type(exc).__name__}: {exc}") from exc
            if not (type(y) is np.ndarray and y.dtype == np.float32 and y.shape == block.shape):
                raise EffectError(f"{who} returned {_describe(y)} for a live block of shape {block.shape}; "
                                  "a live processor returns float32 shaped like its input")
        if not math.isfinite(float(y.sum())):
            raise EffectError(f"the live chain returned NaN or infinity (input was finite): {self.chain!r}")
        return y

    def flush(self) -> np.ndarray:
        """The rest of the output after the last block, float32 ``(channels, k)``; the stream then starts afresh.

        ``k`` is at least :attr:`latency_frames` (the input's delayed end)
        plus every effect's tail (a reverb's decay), so the blocks and the
        flush together hold all the output the input makes.
        """
        tail = None
        for who, proc in self._processors:
            parts = []
            try:
                if tail is not None:
                    for start in range(0, tail.shape[1], self.block_frames):
                        parts.append(proc.process(np.ascontiguousarray(tail[:, start:start + self.block_frames])))
                parts.append(proc.flush())
            except VcfxError as exc:
                raise EffectError(f"{who} failed while flushing the stream: {exc}") from exc
            tail = np.concatenate(parts, axis=1).astype(np.float32, copy=False) if parts else None
        if tail is None:
            return np.zeros((self.channels, 0), np.float32)
        return tail

    def reset(self) -> None:
        """Forget every block so far: the next block is processed as the first one."""
        for _, proc in self._processors:
            proc.reset()

    def _check(self, block: Any) -> None:
        if type(block) is not np.ndarray:
            raise StreamError(f"a live block is a NumPy array shaped ({self.channels}, n), got {type(block).__name__}")
        if block.dtype != np.float32:
            raise StreamError(f"a live block has dtype float32, got {block.dtype}; convert with "
                              "block.astype(np.float32)")
        if block.ndim != 2 or block.shape[0] != self.channels or not 1 <= block.shape[1] <= self.block_frames:
            raise StreamError(f"a live block is shaped ({self.channels}, n) with 1 <= n <= {self.block_frames}, "
                              f"got {block.shape}")
        if not math.isfinite(float(block.sum())):
            raise StreamError("a live block holds NaN or infinity; it was not processed, and the stream carries "
                              "on with the next block")


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ParameterError(f"{name}={value!r} must be a whole number in [{low}, {high}]")
    return int(value)


def _describe(y: Any) -> str:
    if isinstance(y, np.ndarray):
        return f"an array of {y.dtype} shaped {y.shape}"
    return type(y).__name__


def _stream_plans(chain: Chain):
    """Each way the stream may run the chain, in order: ``(engine, effects, contexts, plan, seed sequence)``.

    With no engine on the chain, every registered engine that streams comes
    first, then the chain as it runs offline.
    """
    seq = np.random.SeedSequence(chain.seed)
    streaming = [] if chain.engine is not None else [e for e in engines() if _streams(e)]
    for engine in streaming + [None]:
        wrapped = chain if engine is None else Chain([chain], seed=chain.seed, options=chain.options, engine=engine)
        effects, contexts, groups = wrapped._run_plan(Context.from_seed(seq, chain.options))
        yield engine or chain.engine, effects, contexts, groups, seq


def _streams(name: str) -> bool:
    """Whether the domain ``name`` can stream: a factory registered for it, or its own :meth:`Domain.live`."""
    return name in registry().live_domains or domain(name).can_stream()


def _engine_hint(group: list[Effect], current: str) -> str:
    ok = sorted(d for d in registry().domains
                if d != current and _streams(d) and all(d in e.domains for e in group))
    if ok:
        return f'; build the chain with engine="{ok[0]}" to stream it'
    return ""


def _built(who: str, build, hint: str = "") -> LiveProcessor:
    try:
        proc = build()
    except StreamError as exc:
        raise StreamError(f"{who} cannot stream live: {exc}{hint}") from None
    except VcfxError as exc:
        raise type(exc)(f"{who}: {exc}") from None
    except Exception as exc:
        raise EffectError(f"{who} failed to start a live stream: {type(exc).__name__}: {exc}") from exc
    latency = getattr(proc, "latency_frames", None)
    if not isinstance(proc, LiveProcessor) or isinstance(latency, bool) or not isinstance(latency, (int, np.integer)) \
            or latency < 0:
        raise EffectError(f"{who}: live() returned {proc!r}, not a LiveProcessor with a whole latency_frames >= 0")
    return proc

"""Long recordings in bounded memory: chunks cut at quiet points, processed in parallel, joined by crossfades.

The chain runs on chunks of about ``chunk_s`` seconds. Each chunk is cut at
the quietest moment near its nominal boundary and extended on both sides by
the chain's :meth:`~vcfx.Effect.context_frames` plus half a crossfade, so
every output sample inside a chunk's share was computed with all the context
it depends on. Neighbouring chunks overlap by a short crossfade centred on
the cut. At most ``workers + 1`` chunks are in memory at a time.

Before the first chunk runs, :func:`plan_chunks` works out which output
frames each chunk gives, from the chain's ``expected_frames`` of the whole,
and checks that they add up to the whole's length; a chain whose lengths
cannot be split is refused there, not after the last chunk.

Effects that use statistics of the whole signal (the SNR reference of
``noise``, the mean pitch of ``pitch_variance``, the peak guard of
``reverb``) measure them per chunk when streaming.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf

from .audio import Audio
from .chain import Chain
from .effect import Effect
from .errors import AudioError, EffectError, ParameterError, VcfxError
from .files import (atomic_path, check_clipping, check_folder, check_free_space, check_output_path, open_audio,
                    open_for_writing, output_format, read_block, subtype_for)
from .parallel import single_threaded, threads

__all__ = ["stream_file", "stream_audio", "chunk_bounds", "plan_chunks", "ChunkPlan", "DEFAULT_CHUNK_S"]

DEFAULT_CHUNK_S = 15.0
CROSSFADE_S = 0.05
HOP_S = 0.01


def _quietest_cuts(energy: np.ndarray, hop: int, frames: int, chunk: int) -> list[int]:
    """Cut points near multiples of ``chunk`` at the lowest energy within a quarter chunk."""
    cuts = [0]
    target = chunk
    while target < frames - chunk // 2:
        lo = max(cuts[-1] + chunk // 2, target - chunk // 4) // hop
        hi = min(frames - chunk // 4, target + chunk // 4) // hop
        if hi <= lo:
            break
        best = lo + int(np.argmin(energy[lo:hi]))
        cuts.append(best * hop + hop // 2)
        target = cuts[-1] + chunk
    cuts.append(frames)
    return cuts


def _fade_frames(sample_rate: int) -> int:
    return max(2, int(CROSSFADE_S * sample_rate))


def _chunk_frames(sample_rate: int, chunk_s: float) -> tuple[int, int]:
    """The energy hop and the nominal chunk, in frames (never shorter than four crossfades and hops)."""
    hop = max(1, int(HOP_S * sample_rate))
    return hop, max(int(chunk_s * sample_rate), 4 * (hop + _fade_frames(sample_rate)))


def chunk_bounds(read: Callable[[int, int], np.ndarray], frames: int, sample_rate: int,
                 chunk_s: float = DEFAULT_CHUNK_S) -> list[int]:
    """Cut points (frames, first 0, last ``frames``) at quiet moments about ``chunk_s`` apart.

    Chunks are never shorter than four crossfades, so that neighbouring
    joins never overlap.
    """
    hop, chunk = _chunk_frames(sample_rate, chunk_s)
    block = hop * 1000
    energy = []
    for start in range(0, frames, block):
        x = read(start, min(frames, start + block)).astype(np.float64).mean(axis=0)
        n = len(x) // hop * hop
        if n:
            energy.append(np.sqrt(np.mean(x[:n].reshape(-1, hop) ** 2, axis=1)))
    energy = np.concatenate(energy) if energy else np.zeros(1)
    return _quietest_cuts(energy, hop, frames, chunk)


class ChunkPlan:
    """One chunk of a stream: the input it reads and the output frames it gives.

    Attributes
    ----------
    read : tuple of int
        Input frames ``[start, stop)`` the chain runs on: the chunk's share
        plus the overlap margin on each side.
    frames_out : int
        Frames the chain returns for them (its ``expected_frames``).
    origin : int
        Where the chunk's first output frame lies in the whole output.
    span : tuple of int
        Output frames ``[start, stop)`` this chunk contributes; the spans of
        consecutive chunks meet, and together cover the whole output.
    fade_in : int
        The first ``fade_in`` frames of the span are crossfaded with the
        previous chunk's output over the same frames.
    fade_out : int
        Frames of this chunk's output just after its span that go into the
        next chunk's crossfade.
    """

    __slots__ = ("read", "frames_out", "origin", "span", "fade_in", "fade_out")

    def __init__(self, read: tuple[int, int], frames_out: int, origin: int, span: tuple[int, int],
                 fade_in: int, fade_out: int):
        self.read, self.frames_out, self.origin = read, frames_out, origin
        self.span, self.fade_in, self.fade_out = span, fade_in, fade_out

    def __repr__(self) -> str:
        return "ChunkPlan(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    def take(self) -> slice:
        """The span, as a slice of the chunk's own output."""
        return slice(self.span[0] - self.origin, self.span[1] - self.origin)

    def handed_on(self) -> slice:
        """The frames after the span that the next chunk crossfades with, as a slice of this chunk's output."""
        return slice(self.span[1] - self.origin, self.span[1] - self.origin + self.fade_out)


def _described(chain) -> str:
    """The chain as a spec string for messages, or its repr where no spec string can hold it."""
    try:
        return chain.to_spec()
    except VcfxError:
        return repr(chain)


def plan_chunks(chain, cuts: list[int], sample_rate: int) -> list[ChunkPlan]:
    """Where each chunk reads and which output frames it writes, checked before any chunk runs.

    Output positions come from one monotone map derived from the whole: input
    frame ``x`` lands at ``E(N) - E(N - x)``, where ``E`` is the chain's
    :meth:`~vcfx.Effect.expected_frames` and ``N`` the input length; that
    is, the input from ``x`` to the end gives the last ``E(N - x)`` frames
    of the output. Each chunk's output is placed at the map's position of
    its first input frame, so the last chunk ends exactly at ``E(N)``, and
    the spans, cut at the mapped join points, add up to ``E(N)`` for any
    rounding. Streaming assumes what every built-in effect does: the output
    starts where the input starts, and added frames (tails, padding) come
    at the end.

    Parameters
    ----------
    chain : Effect
        With no random parameters left (see :meth:`vcfx.Chain.resolve`).
    cuts : list of int
        Increasing cut points, first 0 and last the input length, as
        :func:`chunk_bounds` returns them.
    sample_rate : int

    Returns
    -------
    list of ChunkPlan

    Raises
    ------
    EffectError
        When the chain's output length is not known in advance, or its
        ``expected_frames`` cannot be split over these chunks (a chunk would
        have to give frames it does not have).
    ParameterError
        When ``cuts`` are not increasing from 0, or closer than a crossfade.
    """
    frames = cuts[-1] if cuts else 0
    fade = _fade_frames(sample_rate)
    gaps = [b - a for a, b in zip(cuts, cuts[1:])]
    if len(cuts) < 2 or cuts[0] != 0 or min(gaps) < 1 or (len(gaps) > 1 and min(gaps) < fade):
        raise ParameterError(f"cuts={_short(cuts)} must rise from 0 to the input length in steps of at "
                             f"least a crossfade ({fade} frames at {sample_rate} Hz)")
    spec = _described(chain)

    def expected(n: int) -> int:
        e = chain.expected_frames(n, sample_rate)
        if e is None:
            raise EffectError(f"cannot stream {spec}: its output length is not known in advance")
        if isinstance(e, bool) or not isinstance(e, (int, np.integer)) or e < 1:
            raise EffectError(f"cannot stream {spec}: expected_frames({n}) returned {e!r}, "
                              "not a positive integer")
        return int(e)

    total = expected(frames)

    def out_pos(x: int) -> int:  # where input frame x lands: the rest of the input gives the rest of the output
        return total if x >= frames else total - expected(frames - x)

    margin = chain.context_frames(sample_rate) + fade
    joins = [(out_pos(c - fade // 2), out_pos(c + fade - fade // 2)) for c in cuts[1:-1]]
    starts = [(0, 0)] + joins  # (output frame where the span starts, where its crossfade ends)
    ends = joins + [(total, total)]
    plan = []
    for i, (cut, nxt) in enumerate(zip(cuts, cuts[1:])):
        a, b = max(0, cut - margin), min(frames, nxt + margin)
        p = ChunkPlan(read=(a, b), frames_out=expected(b - a), origin=out_pos(a),
                      span=(starts[i][0], ends[i][0]), fade_in=starts[i][1] - starts[i][0],
                      fade_out=ends[i][1] - ends[i][0])
        # what is taken must come from the chunk's own input, not from the margins' edges or a tail
        fits = p.origin <= p.span[0] and p.span[1] + p.fade_out <= min(out_pos(b), p.origin + p.frames_out)
        if not (fits and 0 <= p.fade_in <= p.span[1] - p.span[0] and p.span[1] > p.span[0] and p.fade_out >= 0):
            raise EffectError(
                f"cannot stream {spec}: its lengths do not add up over chunks: chunk {i} (input frames "
                f"{a} to {b}) gives {p.frames_out} frames placed at {p.origin}, but must cover output "
                f"frames {p.span[0]} to {p.span[1] + p.fade_out} (expected_frames is not additive)")
        plan.append(p)
    return plan


def _short(cuts) -> str:
    cuts = list(cuts)
    return repr(cuts) if len(cuts) <= 6 else f"[{cuts[0]}, {cuts[1]}, ..., {cuts[-1]}]"


def _run_chunks(chain, read, plan: list[ChunkPlan], sample_rate: int, workers: int) -> Iterator[np.ndarray]:
    """Yield consecutive pieces of the output, in order (``chain`` resolved, ``plan`` from plan_chunks)."""
    seeds = np.random.SeedSequence(chain.seed).spawn(len(plan))

    def job(i: int) -> np.ndarray:
        p = plan[i]
        piece = Audio(read(*p.read), sample_rate)
        with single_threaded():  # the chunks are the parallelism
            y = chain(piece, seed=seeds[i]).samples
        if y.shape[1] != p.frames_out:
            raise EffectError(f"chunk {i} of the stream produced {y.shape[1]} frames, expected {p.frames_out}")
        return y

    pending: np.ndarray | None = None  # the previous chunk's output over the next crossfade
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = deque()
        todo = iter(range(len(plan)))
        for i in todo:
            queue.append(pool.submit(job, i))
            if len(queue) > workers:
                break
        for p in plan:
            y = queue.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                queue.append(pool.submit(job, nxt))
            piece = y[:, p.take()]
            if p.fade_in:
                ramp = np.linspace(0.0, 1.0, p.fade_in + 2)[1:-1]
                piece = piece.copy()
                piece[:, :p.fade_in] = pending * (1 - ramp) + piece[:, :p.fade_in] * ramp
            yield piece
            pending = y[:, p.handed_on()].copy()  # not a view: the chunk's output can go


def _resolved(chain, frames: int, sample_rate: int):
    """The chain with its random parameters drawn, and its output length (which must be known)."""
    concrete = chain.resolve(chain.seed)
    total = concrete.expected_frames(frames, sample_rate)
    if total is None:
        raise EffectError(f"cannot stream {_described(concrete)}: its output length is not known in advance")
    return concrete, total


_SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "ULAW": 1, "ALAW": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
                 "FLOAT": 4, "DOUBLE": 8}
_COMPRESSED = {"FLAC", "OGG", "MP3"}


def _output_bytes(frames: int, channels: int, fmt: str, subtype: str) -> int | None:
    """Size of an uncompressed output file (header allowance included); ``None`` when it cannot be told."""
    width = _SAMPLE_BYTES.get(subtype.upper())
    if width is None or fmt in _COMPRESSED:
        return None
    return frames * channels * width + 65536


def _checked(chain, chunk_s, workers):
    """The chain as a Chain, or a ParameterError for arguments the stream cannot use."""
    if not isinstance(chain, Effect):
        raise ParameterError(f"chain={chain!r} is not a vcfx.Chain or vcfx.Effect")
    if isinstance(chunk_s, bool) or not isinstance(chunk_s, (int, float)) or not chunk_s > 0 or chunk_s == float("inf"):
        raise ParameterError(f"chunk_s={chunk_s!r} must be a positive number of seconds")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ParameterError(f"workers={workers!r} must be a whole number of threads")
    return chain if isinstance(chain, Chain) else Chain([chain])


def stream_audio(chain, audio: Audio, chunk_s: float = DEFAULT_CHUNK_S, workers: int | None = None) -> Audio:
    """Run ``chain`` on ``audio`` chunk by chunk (as :func:`stream_file` does), in memory."""
    chain = _checked(chain, chunk_s, workers)
    if not isinstance(audio, Audio):
        raise AudioError(f"streaming takes vcfx.Audio, got {type(audio).__name__}; use stream_file for files")

    def read(a: int, b: int) -> np.ndarray:
        return audio.samples[:, a:b]

    concrete, _ = _resolved(chain, audio.frames, audio.sample_rate)
    plan = plan_chunks(concrete, chunk_bounds(read, audio.frames, audio.sample_rate, chunk_s), audio.sample_rate)
    pieces = list(_run_chunks(concrete, read, plan, audio.sample_rate, workers or threads()))
    return Audio(np.concatenate(pieces, axis=1), audio.sample_rate)


def stream_file(chain, in_path: str | os.PathLike, out_path: str | os.PathLike, *, chunk_s: float = DEFAULT_CHUNK_S,
                workers: int | None = None, subtype: str | None = None, progress=None) -> Path:
    """Run ``chain`` from one audio file to another without holding either in memory.

    Parameters
    ----------
    chain : Chain
    in_path, out_path : path
        ``out_path`` is written atomically and never over ``in_path``.
    chunk_s : float
        Nominal chunk length in seconds.
    workers : int, optional
        Chunks processed at once (threads; WORLD, Rubber Band and FFTs run
        outside the GIL). All cores by default.
    subtype : str, optional
        Output subtype; 32-bit float where the format allows it when omitted,
        since the peak of the whole output is only known at the end.
    progress : callable, optional
        Called with the number of output frames written so far and the total.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    AudioError, EffectError
        Everything that can be checked before the first chunk is: the
        input, the output's format, that the chain's output length is known
        and splits over the chunks, and that the output's folder has room
        for it (uncompressed formats).
    """
    chain = _checked(chain, chunk_s, workers)
    in_path, out_path = Path(in_path), Path(out_path)
    check_output_path(out_path, [in_path])
    subtype, _ = subtype_for(out_path, subtype, peak=None)  # the peak is known only at the end
    fmt, subtype = output_format(out_path, subtype)
    check_folder(out_path)
    source = open_audio(in_path)
    frames, rate, channels = source.frames, source.samplerate, source.channels
    lock = threading.Lock()

    def read(a: int, b: int) -> np.ndarray:
        with lock:  # chunks are read from worker threads
            return read_block(source, a, b)

    try:
        with source:
            concrete, total = _resolved(chain, frames, rate)
            nbytes = _output_bytes(total, channels, fmt, subtype)
            if nbytes is not None:
                check_free_space(out_path, nbytes)
            with atomic_path(out_path) as tmp:
                done = 0
                with open_for_writing(tmp, rate, channels, subtype, fmt) as out:
                    plan = plan_chunks(concrete, chunk_bounds(read, frames, rate, chunk_s), rate)
                    for piece in _run_chunks(concrete, read, plan, rate, workers or threads()):
                        check_clipping(piece, subtype, fmt)
                        out.write(piece.T)
                        done += piece.shape[1]
                        if progress is not None:
                            progress(done, total)
    except sf.LibsndfileError as exc:
        raise AudioError(f"cannot write {out_path}: {exc}") from None
    return out_path

"""Long recordings in bounded memory: chunks cut at quiet points, processed in parallel, joined by crossfades.

The chain runs on chunks of about ``chunk_s`` seconds. Each chunk is cut at
the quietest moment near its nominal boundary and extended on both sides by
the chain's :meth:`~vcfx.Effect.context_frames` plus half a crossfade, so
every output sample inside a chunk's share was computed with all the context
it depends on. Neighbouring chunks overlap by a short crossfade centred on
the cut. At most ``workers + 1`` chunks are in memory at a time.

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
from .errors import AudioError, EffectError, ParameterError
from .files import (atomic_path, check_clipping, check_folder, check_output_path, open_audio, open_for_writing,
                    output_format, read_block, subtype_for)
from .parallel import single_threaded, threads

__all__ = ["stream_file", "stream_audio", "chunk_bounds", "DEFAULT_CHUNK_S"]

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


def chunk_bounds(read: Callable[[int, int], np.ndarray], frames: int, sample_rate: int,
                 chunk_s: float = DEFAULT_CHUNK_S) -> list[int]:
    """Cut points (frames, first 0, last ``frames``) at quiet moments about ``chunk_s`` apart."""
    hop = max(1, int(HOP_S * sample_rate))
    chunk = max(int(chunk_s * sample_rate), 4 * hop)
    block = hop * 1000
    energy = []
    for start in range(0, frames, block):
        x = read(start, min(frames, start + block)).astype(np.float64).mean(axis=0)
        n = len(x) // hop * hop
        if n:
            energy.append(np.sqrt(np.mean(x[:n].reshape(-1, hop) ** 2, axis=1)))
    energy = np.concatenate(energy) if energy else np.zeros(1)
    return _quietest_cuts(energy, hop, frames, chunk)


def _run_chunks(chain, read, frames: int, sample_rate: int, chunk_s: float, workers: int) -> Iterator[np.ndarray]:
    """Yield consecutive pieces of the output, in order."""
    seed = chain.seed
    concrete = chain.resolve(seed)
    expected = concrete.expected_frames(frames, sample_rate)
    if expected is None:
        raise EffectError(f"cannot stream {concrete.to_spec()}: its output length is not known in advance")

    def out_pos(x: int) -> int:  # where input frame x lands in the output
        return concrete.expected_frames(x + frames, sample_rate) - expected

    cuts = chunk_bounds(read, frames, sample_rate, chunk_s)
    fade = max(2, int(CROSSFADE_S * sample_rate))
    margin = concrete.context_frames(sample_rate) + fade
    seeds = np.random.SeedSequence(seed).spawn(len(cuts) - 1)

    def job(i: int) -> tuple[int, np.ndarray]:
        a, b = max(0, cuts[i] - margin), min(frames, cuts[i + 1] + margin)
        piece = Audio(read(a, b), sample_rate)
        with single_threaded():  # the chunks are the parallelism
            return out_pos(a), concrete(piece, seed=seeds[i]).samples

    written = 0
    pending: np.ndarray | None = None  # the previous chunk's output over the next crossfade
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = deque()
        todo = iter(range(len(cuts) - 1))
        for i in todo:
            queue.append(pool.submit(job, i))
            if len(queue) > workers:
                break
        for i in range(len(cuts) - 1):
            origin, y = queue.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                queue.append(pool.submit(job, nxt))
            last = i == len(cuts) - 2
            end = expected if last else out_pos(cuts[i + 1] - fade // 2)
            start = written
            piece = y[:, start - origin:end - origin]
            if pending is not None:
                n = pending.shape[1]
                ramp = np.linspace(0.0, 1.0, n + 2)[1:-1]
                piece = piece.copy()
                piece[:, :n] = pending * (1 - ramp) + piece[:, :n] * ramp
            if piece.shape[1] != end - start:
                raise EffectError(f"chunk {i} of the stream produced {piece.shape[1]} frames, expected {end - start}")
            yield piece
            written = end
            if not last:
                fade_end = out_pos(cuts[i + 1] + fade - fade // 2)
                pending = y[:, end - origin:fade_end - origin]
                if pending.shape[1] != fade_end - end:
                    raise EffectError(f"chunk {i} of the stream is shorter than its crossfade")


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
    pieces = list(_run_chunks(chain, lambda a, b: audio.samples[:, a:b], audio.frames, audio.sample_rate,
                              chunk_s, workers or threads()))
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
        with atomic_path(out_path) as tmp, source:
            total = chain.resolve(chain.seed).expected_frames(frames, rate)
            done = 0
            with open_for_writing(tmp, rate, channels, subtype, fmt) as out:
                for piece in _run_chunks(chain, read, frames, rate, chunk_s, workers or threads()):
                    check_clipping(piece, subtype, fmt)
                    out.write(piece.T)
                    done += piece.shape[1]
                    if progress is not None:
                        progress(done, total)
    except sf.LibsndfileError as exc:
        raise AudioError(f"cannot write {out_path}: {exc}") from None
    return out_path

"""Threads or processes for WORLD work on several cores: the same chunks through the same chain, each way.

Run:  python benchmarks/parallelism.py [--chunks 8] [--seconds 10] [--workers 2]

Cuts ``--chunks`` pieces of ``--seconds`` each from ../shared/audio/speech.wav
(repeated; the built-in example voice when the shared folder is absent) at
44.1 kHz mono and runs ``pitch_shift+tempo`` on all of them:

- one chunk at a time on one thread (the baseline);
- one chunk at a time, the WORLD domain spreading each over its threads
  (what a single ``chain(audio)`` call does);
- ``--workers`` chunks at once on threads, one thread each (what
  ``stream_file`` does);
- ``--workers`` chunks at once in worker processes (what ``vcfx batch`` does).

pyworld releases the GIL, so threads can use every core without copying
audio between processes; the table shows how close each way comes to the
ideal ``1 / workers`` of the baseline time.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import librosa
import numpy as np

import vcfx
from vcfx.parallel import single_threaded

SHARED = Path(__file__).resolve().parents[2] / "shared" / "audio" / "speech.wav"
RATE = 44100
CHAIN = "pitch_shift=semitones=2,tempo=rate=0.9"


def world_chain() -> vcfx.Chain:
    """:data:`CHAIN`, run in WORLD (a chain without an engine would run this shift in PSOLA)."""
    chain = vcfx.Chain.from_spec(CHAIN, seed=0)
    chain.engine = "world"
    return chain


def one_chunk(samples: np.ndarray) -> int:
    """Run the chain on one chunk on one thread; the output's length."""
    with single_threaded():
        return world_chain()(vcfx.Audio(samples[np.newaxis], RATE)).frames


def chunks_of(voice: vcfx.Audio, count: int, seconds: float) -> list[np.ndarray]:
    length = int(seconds * RATE)
    repeated = np.tile(voice.samples[0], -(-(count * length) // voice.frames) + 1)
    return [np.ascontiguousarray(repeated[i * length:(i + 1) * length]) for i in range(count)]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    if SHARED.is_file():
        voice = vcfx.load(SHARED, sample_rate=RATE, mono=True)
    else:
        example = vcfx.example_voice()
        voice = vcfx.Audio(librosa.resample(example.samples, orig_sr=example.sample_rate, target_sr=RATE), RATE)
    chunks = chunks_of(voice, args.chunks, args.seconds)
    chain = world_chain()
    one_chunk(chunks[0])  # warm up imports and caches

    rows = [("one chunk at a time, one thread", timed(lambda: [one_chunk(c) for c in chunks]))]
    rows.append(("one chunk at a time, WORLD on all threads",
                 timed(lambda: [chain(vcfx.Audio(c[np.newaxis], RATE)) for c in chunks])))
    with ThreadPoolExecutor(args.workers) as pool:
        rows.append((f"{args.workers} chunks at once on threads", timed(lambda: list(pool.map(one_chunk, chunks)))))
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(one_chunk, chunks[: args.workers]))  # start the workers before timing
        rows.append((f"{args.workers} chunks at once in processes", timed(lambda: list(pool.map(one_chunk, chunks)))))

    base = rows[0][1]
    print(f"{args.chunks} chunks of {args.seconds:g} s at {RATE} Hz, chain {CHAIN}, {args.workers} workers\n")
    print(f"{'how':<44} {'seconds':>8} {'vs one thread':>14}")
    for how, seconds in rows:
        print(f"{how:<44} {seconds:8.2f} {seconds / base:13.2f}x")


if __name__ == "__main__":
    main()

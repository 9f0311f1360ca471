"""Long recordings: peak memory and parallel speed-up of streamed processing.

Run:  python benchmarks/long.py [--minutes 60] [--chain SPEC] [--workers 1 2]

Builds a recording of the requested length at 44.1 kHz by repeating
../shared/audio/speech.wav (mono mix; the built-in example voice when the
shared folder is absent), written block by block so the benchmark itself
never holds it. Then, for each worker count, runs ``stream_file`` in a fresh
subprocess and reports wall time, real-time factor, the child's peak resident
memory (getrusage) and the output length against the expected length.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf

import vcfx

SHARED = Path(__file__).resolve().parents[2] / "shared" / "audio" / "speech.wav"
RATE = 44100

CHILD = """
import json, sys, time, resource
import vcfx
from vcfx.streaming import stream_file
chain = vcfx.Chain.from_spec(sys.argv[3], seed=0)
start = time.perf_counter()
stream_file(chain, sys.argv[1], sys.argv[2], workers=int(sys.argv[4]))
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def build_input(path: Path, minutes: float) -> int:
    voice = vcfx.load(SHARED, sample_rate=RATE, mono=True) if SHARED.is_file() else vcfx.example_voice().resample(RATE)
    block = voice.samples[0]
    total = int(minutes * 60 * RATE)
    with sf.SoundFile(str(path), "w", RATE, 1, "PCM_16") as f:
        written = 0
        while written < total:
            piece = block[: total - written]
            f.write(piece)
            written += len(piece)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--chain", default="pitch_shift=semitones=2,tempo=rate=0.9")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "long.wav"
        frames = build_input(src, args.minutes)
        expected = vcfx.Chain.from_spec(args.chain).expected_frames(frames, RATE)
        print(f"input: {args.minutes:g} min at {RATE} Hz mono ({frames} frames); chain: {args.chain}\n")
        print(f"{'workers':>7} {'seconds':>9} {'RTF':>7} {'peak RSS MB':>12} {'length ok':>10} {'vs 1 worker':>12}")
        base = None
        for workers in args.workers:
            out = Path(tmp) / f"out{workers}.wav"
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(out), args.chain, str(workers)],
                                  capture_output=True, text=True, check=True)
            peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            seconds = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
            base = base or seconds
            length_ok = sf.info(str(out)).frames == expected
            out.unlink()
            print(f"{workers:>7} {seconds:9.1f} {seconds / (frames / RATE):7.3f} {peak_mb:12.0f} "
                  f"{str(length_ok):>10} {seconds / base:11.2f}x")
    print("\npeak RSS: the largest child so far (ru_maxrss of RUSAGE_CHILDREN), so read it per row in order.")


if __name__ == "__main__":
    main()

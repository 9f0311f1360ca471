"""Batch throughput with 1 and 2 local workers (and Dask), on 40 files.

Run:  python benchmarks/batch.py [--files 40] [--seconds 2.0]

Builds 40 synthetic voices in a temporary folder, runs the same augmentation
chain with 1 and 2 local worker processes and with a 2-worker Dask
LocalCluster, and prints files per second and the speed-up over 1 worker.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import vcfx
from vcfx.batching import batch

CHAIN = "pitch_shift=semitones=uniform(-2,2),pitch_variance=factor=uniform(0.5,1.5)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        for i in range(args.files):
            voice = vcfx.synthetic_voice(args.seconds, 22050, f0_hz=(110 + 3 * i, 160 + 2 * i))
            voice.audio.save(tmp / "in" / f"clip{i:03d}.wav")
        rows = []
        for label, executor, jobs in (("local, 1 worker", "local", 1), ("local, 2 workers", "local", 2),
                                      ("dask LocalCluster, 2 workers", "dask", 2)):
            out = tmp / f"out-{executor}-{jobs}"
            start = time.perf_counter()
            result = batch(tmp / "in", out, CHAIN, seed=0, jobs=jobs, executor=executor, quiet=True)
            elapsed = time.perf_counter() - start
            assert result.done == args.files and not result.failed
            rows.append((label, args.files / elapsed))
    base = rows[0][1]
    print(f"{args.files} files of {args.seconds:.1f} s at 22050 Hz, chain: {CHAIN}\n")
    print(f"{'executor':<30} {'files/s':>8} {'vs 1 worker':>12}")
    for label, rate in rows:
        print(f"{label:<30} {rate:8.2f} {rate / base:11.2f}x")


if __name__ == "__main__":
    main()

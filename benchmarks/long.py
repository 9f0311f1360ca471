"""Long recordings: exit status, exact length, wall time and peak memory of streamed processing.

Run:  python benchmarks/long.py [--minutes 20] [--chain SPEC] [--workers 1 2]

Builds a recording of the requested length at 44.1 kHz by repeating
../shared/audio/speech.wav (mono mix; the built-in example voice when the
shared folder is absent), written block by block so the benchmark itself
never holds it. Then runs ``vcfx apply IN OUT --chain SPEC`` (which streams
inputs this long) in a fresh process, and, for each ``--workers`` count,
``stream_file`` in a fresh process. Each row gives the exit status, wall
time, real-time factor, the process's own peak resident memory (wait4), and
the output length against ``round(frames / rate)``, where ``rate`` is the
product of the chain's ``rate`` parameters (speed, tempo); a row passes
when the run exits 0, the length is within one frame and the peak is under
1 GB.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

import vcfx

SHARED = Path(__file__).resolve().parents[2] / "shared" / "audio" / "speech.wav"
RATE = 44100
RSS_LIMIT_MB = 1024

STREAM_FILE = """
import sys
import vcfx
from vcfx.streaming import stream_file
stream_file(vcfx.Chain.from_spec(sys.argv[3], seed=0), sys.argv[1], sys.argv[2], workers=int(sys.argv[4]))
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


def run(command: list[str]) -> tuple[int, float, float, str]:
    """Exit status, wall seconds, peak RSS in MB and the end of stderr of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        tail = err.read()[-400:]
    return child.returncode, seconds, usage.ru_maxrss / 1024, tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--chain", default="pitch_shift=semitones=2,tempo=rate=1.1")
    parser.add_argument("--workers", type=int, nargs="*", default=[],
                        help="also run stream_file with these worker counts")
    args = parser.parse_args(argv)
    chain = vcfx.Chain.from_spec(args.chain)
    rate = math.prod(float(getattr(e, "rate", 1.0)) for e in chain)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "long.wav"
        frames = build_input(src, args.minutes)
        target = round(frames / rate)
        print(f"input: {args.minutes:g} min at {RATE} Hz mono ({frames} frames); chain: {args.chain}")
        print(f"expected output: round({frames} / {rate:g}) = {target} frames "
              f"(expected_frames: {chain.expected_frames(frames, RATE)})\n")
        print(f"{'run':>14} {'exit':>4} {'seconds':>8} {'RTF':>6} {'peak RSS MB':>11} {'out frames':>10} "
              f"{'- target':>8} {'ok':>5}")
        runs = [("vcfx apply", [sys.executable, "-m", "vcfx.cli", "apply", str(src), "{out}", "--chain", args.chain,
                                "--seed", "0"])]
        runs += [(f"{w} workers", [sys.executable, "-c", STREAM_FILE, str(src), "{out}", args.chain, str(w)])
                 for w in args.workers]
        failed = False
        for label, command in runs:
            out = Path(tmp) / "out.wav"
            status, seconds, peak_mb, tail = run([str(out) if part == "{out}" else part for part in command])
            got = sf.info(str(out)).frames if status == 0 and out.is_file() else None
            ok = status == 0 and got is not None and abs(got - target) <= 1 and peak_mb < RSS_LIMIT_MB
            failed |= not ok
            diff = "-" if got is None else f"{got - target:+d}"
            print(f"{label:>14} {status:>4} {seconds:8.1f} {seconds / (frames / RATE):6.3f} {peak_mb:11.0f} "
                  f"{got if got is not None else '-':>10} {diff:>8} {str(ok):>5}", flush=True)
            if status != 0:
                print(f"    stderr: {tail.strip()}")
            out.unlink(missing_ok=True)
    print(f"\npass: exit 0, output within 1 frame of round(frames / rate), peak RSS under {RSS_LIMIT_MB} MB.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

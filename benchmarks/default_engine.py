"""Which engine sounds more natural at which pitch shift: the measurement behind ``default_engine``.

Run:  python benchmarks/default_engine.py [--shifts -12,-4,4,12] [--voices DIR]

Every real voice of ``benchmarks/engines.py`` (the example voice and
``../shared/audio/speech.wav`` as mono 22.05 and 44.1 kHz and as stereo),
and every ``*.wav`` in ``--voices DIR`` (recordings of your own; each cut
to its first 10 s, Praat judging 75-600 Hz), is shifted by each amount
with ``pitch_shift`` in the WORLD engine and in the PSOLA engine. One line
per shift:

- **OVRL**: the mean DNSMOS P.835 overall score of each engine's outputs
  (``truth.dnsmos_ovrl``), and on how many voices PSOLA scored higher;
  **hp**: the same means with the outputs high-passed at 50 Hz, as
  ``benchmarks/engines.py``'s "OVRL hp" column;
- **kept** and **p90**: as in ``benchmarks/engines.py`` (mean share of
  Praat's voiced input frames voiced in the output; median over the voices
  of the 90th percentile of the pitch error in cents);
- **default**: the engine a chain of that ``pitch_shift`` alone runs in
  when it chooses none (``engines.default_domain``), so the table shows
  the rule beside the measurement it follows.

Needs the ``bench`` extra (``speechmos``, ``onnxruntime``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import vcfx

from engines import _excerpt, default_domain, judge, naturalness, vcfx_psola, vcfx_world, voices

SHIFTS = (-12.0, -7.0, -4.0, 4.0, 5.0, 6.0, 7.0, 9.0, 12.0)
OTHER_VOICE_PRAAT = {"floor": 75.0, "ceiling": 600.0}
ENGINES = {"WORLD": vcfx_world, "PSOLA": vcfx_psola}


def all_voices(folder: Path | None) -> list[tuple[str, vcfx.Audio, dict]]:
    """The real voices of ``benchmarks/engines.py``, then every ``*.wav`` in ``folder`` (mono)."""
    found = [v for v in voices() if not v[0].startswith("synthetic")]
    for path in sorted(folder.glob("*.wav")) if folder else []:
        found.append((path.stem, _excerpt(vcfx.load(path, mono=True)), OTHER_VOICE_PRAAT))
    return found


def measure(found: list[tuple[str, vcfx.Audio, dict]], shifts) -> list[dict]:
    """One dict per (voice, shift): each engine's OVRL, kept and p90."""
    table = []
    for label, audio, praat in found:
        for semitones in shifts:
            row = {"voice": label, "shift": semitones}
            for name, shift in ENGINES.items():
                out = shift(audio, semitones)
                judged = judge(audio, out, semitones, praat)
                errors = np.abs(judged["cents"])
                row[name] = {**naturalness(out), "kept": judged["kept"],
                             "p90": float(np.percentile(errors, 90)) if errors.size else float("nan")}
            table.append(row)
    return table


def report(table: list[dict], shifts) -> str:
    header = (f"{'shift':>6} {'voices':>6} {'OVRL WORLD':>10} {'OVRL PSOLA':>10} {'PSOLA ahead':>11} "
              f"{'hp WORLD':>8} {'hp PSOLA':>8} {'kept WORLD':>10} {'kept PSOLA':>10} {'p90 WORLD':>9} "
              f"{'p90 PSOLA':>9}  default")
    lines = [header, "-" * len(header)]
    for semitones in shifts:
        rows = [r for r in table if r["shift"] == semitones]
        if not rows:
            continue

        def values(engine, key):
            return np.array([r[engine][key] for r in rows])

        ahead = int(np.sum(values("PSOLA", "OVRL") > values("WORLD", "OVRL")))
        lines.append(
            f"{semitones:>+6g} {len(rows):>6} {values('WORLD', 'OVRL').mean():>10.3f} "
            f"{values('PSOLA', 'OVRL').mean():>10.3f} {ahead:>7} of {len(rows):<2} "
            f"{values('WORLD', 'OVRL hp').mean():>8.3f} {values('PSOLA', 'OVRL hp').mean():>8.3f}"
            f"{values('WORLD', 'kept').mean():>10.3f} {values('PSOLA', 'kept').mean():>10.3f} "
            f"{np.nanmedian(values('WORLD', 'p90')):>9.1f} {np.nanmedian(values('PSOLA', 'p90')):>9.1f}  "
            f"{default_domain(semitones)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", default=",".join(f"{s:g}" for s in SHIFTS),
                        help="comma-separated shifts in semitones")
    parser.add_argument("--voices", type=Path, default=None, help="a folder of .wav recordings to add")
    args = parser.parse_args(argv)
    shifts = [float(s) for s in args.shifts.split(",")]
    if args.voices is not None and not args.voices.is_dir():
        parser.error(f"--voices {args.voices}: not a folder")
    start = time.perf_counter()
    found = all_voices(args.voices)
    table = measure(found, shifts)
    print(f"{len(found)} voices: " + ", ".join(label for label, _, _ in found) + "\n")
    print(report(table, shifts))
    print(f"\nmeasured in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

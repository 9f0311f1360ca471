"""Which engine sounds more natural for which effect and value: the measurement behind ``default_engine``.

Run:  python benchmarks/default_engine.py [--effect pitch_shift] [--values -12,-4,4,12] [--voices DIR]

Every real voice of ``benchmarks/engines.py`` (the example voice and
``../shared/audio/speech.wav`` as mono 22.05 and 44.1 kHz and as stereo),
and every ``*.wav`` in ``--voices DIR`` (recordings of your own; each cut
to its first 10 s, Praat judging 75-600 Hz), goes through the effect
alone (``pitch_shift``, ``pitch_variance`` or ``formant_shift``) at each
value of its parameter, in the WORLD engine and in the PSOLA engine. One
line per value:

- **OVRL**: the mean DNSMOS P.835 overall score of each engine's outputs
  (``truth.dnsmos_ovrl``), and on how many voices PSOLA scored higher;
  **hp**: the same means with the outputs high-passed at 50 Hz, as
  ``benchmarks/engines.py``'s "OVRL hp" column;
- **accuracy**, by judges outside vcfx: for ``pitch_shift`` *kept* and
  *p90* as in ``benchmarks/engines.py`` (mean share of Praat's voiced
  input frames voiced in the output; median over the voices of the 90th
  percentile of the pitch error in cents); for ``pitch_variance`` the
  median over the voices of the spread's error (%, the spread of log f0
  out / in against the factor) and of the mean's move (cents), on frames
  where Praat and pYIN agree (``truth.agreed_log_f0_spread``); for
  ``formant_shift`` the median over the voices of the LPC envelope
  ratio's error (%, ``truth.envelope_ratio``) and on how many voices it
  is within 3 %;
- **default**: the engine a chain of that effect alone runs in when it
  chooses none (``vcfx.chain.plan``), so the table shows the rule beside
  the measurement it follows.

Needs the ``bench`` extra (``speechmos``, ``onnxruntime``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import vcfx
from vcfx.chain import plan

from engines import _excerpt, judge, naturalness, voices
from truth import agreed_log_f0_spread, envelope_ratio

OTHER_VOICE_PRAAT = {"floor": 75.0, "ceiling": 600.0}
ENGINES = {"WORLD": "world", "PSOLA": "psola"}
PITCH_VARIANCE_AFTER_FLOOR = 60.0
"""Praat's floor for ``pitch_variance``'s output, which can fall below the input's (as in quality_world.py)."""


def pitch_accuracy(audio: vcfx.Audio, out: vcfx.Audio, semitones: float, praat: dict) -> dict:
    judged = judge(audio, out, semitones, praat)
    errors = np.abs(judged["cents"])
    return {"kept": judged["kept"], "p90": float(np.percentile(errors, 90)) if errors.size else float("nan")}


def spread_accuracy(audio: vcfx.Audio, out: vcfx.Audio, factor: float, praat: dict) -> dict:
    m = agreed_log_f0_spread(audio, out, after_floor=PITCH_VARIANCE_AFTER_FLOOR, **praat)
    spread = 100.0 * abs(m["std_ratio"] / factor - 1.0) if factor else 100.0 * m["std_ratio"]
    return {"spread err %": spread, "mean move": abs(m["mean_cents"])}


def envelope_accuracy(audio: vcfx.Audio, out: vcfx.Audio, ratio: float, praat: dict) -> dict:
    found = envelope_ratio(audio, out, search=(0.7 * ratio, 1.5 * ratio), **praat)
    return {"envelope err %": 100.0 * abs(found / ratio - 1.0)}


EFFECTS = {
    "pitch_shift": ("semitones", (-12.0, -11.0, -10.0, -9.0, -7.0, -4.0, 4.0, 5.0, 6.0, 7.0, 9.0, 12.0), pitch_accuracy),
    "pitch_variance": ("factor", (0.0, 0.5, 1.5, 2.0, 3.0), spread_accuracy),
    "formant_shift": ("ratio", (0.5, 0.7, 0.8, 0.9, 1.1, 1.15, 1.2, 1.3, 1.5, 2.0), envelope_accuracy),
}
"""Effect -> (its parameter, the values measured by default, its accuracy judge)."""

SUMMARIES = {"kept": np.mean, "p90": np.nanmedian, "spread err %": np.nanmedian, "mean move": np.nanmedian,
             "envelope err %": np.nanmedian}
"""How each accuracy column is summed up over the voices."""


def all_voices(folder: Path | None) -> list[tuple[str, vcfx.Audio, dict]]:
    """The real voices of ``benchmarks/engines.py``, then every ``*.wav`` in ``folder`` (mono)."""
    found = [v for v in voices() if not v[0].startswith("synthetic")]
    for path in sorted(folder.glob("*.wav")) if folder else []:
        found.append((path.stem, _excerpt(vcfx.load(path, mono=True)), OTHER_VOICE_PRAAT))
    return found


def measure(found: list[tuple[str, vcfx.Audio, dict]], effect: str, values) -> list[dict]:
    """One dict per (voice, value): each engine's naturalness and accuracy."""
    param, _, accuracy = EFFECTS[effect]
    table = []
    for label, audio, praat in found:
        for value in values:
            row = {"voice": label, "value": value}
            for name, engine in ENGINES.items():
                out = vcfx.Chain([vcfx.effect(effect, **{param: value})], engine=engine)(audio)
                row[name] = {**naturalness(out), **accuracy(audio, out, value, praat)}
            table.append(row)
    return table


def default_domain(effect: str, param: str, value: float) -> str:
    """The domain ``effect`` at ``value`` runs in when its chain chooses no engine."""
    return plan([vcfx.effect(effect, **{param: value})])[0][0]


def report(table: list[dict], effect: str, values) -> str:
    param = EFFECTS[effect][0]
    judged = [k for k in table[0]["WORLD"] if k in SUMMARIES] if table else []
    header = (f"{param:>9} {'voices':>6} {'OVRL WORLD':>10} {'OVRL PSOLA':>10} {'PSOLA ahead':>11} "
              f"{'hp WORLD':>8} {'hp PSOLA':>8}" + "".join(f" {k + ' WORLD':>15} {k + ' PSOLA':>15}" for k in judged)
              + "  default")
    lines = [header, "-" * len(header)]
    for value in values:
        rows = [r for r in table if r["value"] == value]
        if not rows:
            continue

        def values_of(engine, key):
            return np.array([r[engine][key] for r in rows])

        ahead = int(np.sum(values_of("PSOLA", "OVRL") > values_of("WORLD", "OVRL")))
        cells = "".join(f" {SUMMARIES[k](values_of('WORLD', k)):>15.3g} {SUMMARIES[k](values_of('PSOLA', k)):>15.3g}"
                        for k in judged)
        if effect == "formant_shift":
            within = [int(np.sum(values_of(e, "envelope err %") <= 3.0)) for e in ENGINES]
            cells += f"  within 3 %: {within[0]} / {within[1]}"
        lines.append(
            f"{value:>{'+' if effect == 'pitch_shift' else ''}9g} {len(rows):>6} {values_of('WORLD', 'OVRL').mean():>10.3f} "
            f"{values_of('PSOLA', 'OVRL').mean():>10.3f} {ahead:>7} of {len(rows):<2} "
            f"{values_of('WORLD', 'OVRL hp').mean():>8.3f} {values_of('PSOLA', 'OVRL hp').mean():>8.3f}{cells}  "
            f"{default_domain(effect, param, value)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effect", choices=sorted(EFFECTS), default="pitch_shift", help="the effect measured")
    parser.add_argument("--values", "--shifts", default=None,
                        help="comma-separated values of the effect's parameter (default: its measured set)")
    parser.add_argument("--voices", type=Path, default=None, help="a folder of .wav recordings to add")
    args = parser.parse_args(argv)
    param, measured, _ = EFFECTS[args.effect]
    try:
        values = measured if args.values is None else [float(v) for v in args.values.split(",")]
    except ValueError:
        parser.error(f"--values {args.values!r}: not comma-separated numbers")
    if args.voices is not None and not args.voices.is_dir():
        parser.error(f"--voices {args.voices}: not a folder")
    start = time.perf_counter()
    found = all_voices(args.voices)
    table = measure(found, args.effect, values)
    print(f"{args.effect}, {len(found)} voices: " + ", ".join(label for label, _, _ in found) + "\n")
    print(report(table, args.effect, values))
    print(f"\nmeasured in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

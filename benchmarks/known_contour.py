"""The pitch engines and their peers on voices whose f0 is known: Praat judges only the output, against the truth.

Run:  python benchmarks/known_contour.py

``benchmarks/engines.py`` judges an output against Praat's reading of the
input. Praat's analysis window (three periods of its pitch floor: 50 ms at
60 Hz) smooths fast intonation, and so does "Change gender", which shifts
Praat's own contour: that judge partly agrees with itself. Here the input
is a synthetic voice (``vcfx.synthetic_voice``) whose f0 is known at every
sample, so each output is compared with the known contour times the
intended ratio. Two contours: ``slow`` (±2 semitones over 1.3 s) and
``fast`` (jumps of up to 11 semitones in 0.1 s, faster than most speech).
A first table shows how near each tracker reads the input itself: the f0
that the vcfx engines shift (``vcfx_world.f0``), Praat's and pYIN's.

Columns: median and 90th percentile of |error| in cents over the frames
Praat calls voiced in the output (the first and last 80 ms left out).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import vcfx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engines  # noqa: E402  (puts tests/ on the path)
from truth import praat_f0, pyin_f0_at  # noqa: E402

CONTOURS_ST = {"slow": (0, 2, -1, 2, 0), "fast": (0, 5, -3, 6, -4, 2, 7, -2, 0, 4, -5, 3, 0)}
"""Semitones from 250 Hz, spaced evenly over the voice and joined in log frequency."""

DURATION_S, RATE, EDGE_S = 1.3, 22050, 0.08
SHIFTS = (-12.0, -4.0, 4.0, 12.0)


def voice(contour: str):
    return vcfx.synthetic_voice(DURATION_S, RATE, f0_hz=tuple(250.0 * 2 ** (np.array(CONTOURS_ST[contour]) / 12)))


def errors(f0: np.ndarray, truth: np.ndarray, t: np.ndarray) -> np.ndarray:
    """|1200 log2(f0 / truth)| where ``f0`` is voiced, away from the ends."""
    keep = (f0 > 0) & (t > EDGE_S) & (t < DURATION_S - EDGE_S)
    return np.abs(1200.0 * np.log2(f0[keep] / truth[keep]))


def vcfx_track(audio: vcfx.Audio) -> tuple[np.ndarray, np.ndarray]:
    """The f0 the vcfx engines shift, and its frame times."""
    state = vcfx.domain("world").analyze(audio, vcfx.Context.from_seed(0))
    f0 = state.channels[0].f0
    return f0, np.arange(len(f0)) * state.frame_period_ms / 1000.0


def cell(e: np.ndarray) -> str:
    return f"{np.median(e):.1f} / {np.percentile(e, 90):.1f}"


def main() -> int:
    print("| contour | tracker | median / p90 abs. error (cents) |\n|---|---|---|")
    for contour in CONTOURS_ST:
        sv = voice(contour)
        t, praat = praat_f0(sv.audio)
        ours, ours_t = vcfx_track(sv.audio)
        read = {"vcfx (DIO, StoneMask, settled)": np.interp(t, ours_t, ours) * (np.interp(t, ours_t, ours > 0) == 1),
                "Praat": praat, "pYIN": pyin_f0_at(sv.audio, t)}
        for name, f0 in read.items():
            print(f"| {contour} | {name} | {cell(errors(f0, sv.f0_at(t), t))} |")
    found = engines.engines()
    print("\n| contour | shift | " + " | ".join(found) + " |\n|---|---|" + "---|" * len(found))
    for contour in CONTOURS_ST:
        sv = voice(contour)
        for semitones in SHIFTS:
            ratio = 2.0 ** (semitones / 12.0)
            cells = []
            for shift in found.values():
                t, f0 = praat_f0(shift(sv.audio, semitones), 60.0 * ratio, 900.0 * ratio)
                cells.append(cell(errors(f0, sv.f0_at(t) * ratio, t)))
            print(f"| {contour} | {semitones:+g} | " + " | ".join(cells) + " |")
    print("\nmedian / p90 |error| in cents against the known contour (times the ratio); Praat tracks the output.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

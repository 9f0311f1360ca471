"""Voicing of the WORLD engine, judged by Praat and pYIN: frames kept voiced, pitch error, f0 at voicing edges.

Run:  python benchmarks/voicing.py

For every voice (the synthetic voice, the example voice and, when present,
../shared/audio/speech.wav) and a pitch shift of +4 and -4 semitones:

- *kept*: of the input frames Praat calls voiced, the share whose
  time-aligned output frame Praat calls voiced too;
- *median* and *p90* pitch error: the output's f0 against the input's
  times the shift, in cents, frame by frame (``truth.aligned_cents``);
- *edge*: on the first and last frames of every voiced stretch of WORLD's
  own f0 track, |f0 - pYIN| in cents where pYIN calls the frame voiced
  (median and p90 over those frames).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import librosa
import numpy as np

import vcfx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the judges the tests use: tests/truth.py
from truth import aligned_cents, f0_at, praat_f0, text_table  # noqa: E402

SPEECH = Path(os.environ.get("VCFX_SHARED_AUDIO", ROOT.parent / "shared" / "audio")) / "speech.wav"
SHIFTS = (4.0, -4.0)
OUTPUT_FLOOR = 60.0
"""Praat's floor for the output, below the input's: a shift down puts low frames below 75 Hz."""


def voices() -> list[tuple[str, vcfx.Audio, dict]]:
    """(label, audio, Praat options) of every voice measured."""
    out = [("synthetic", vcfx.synthetic_voice(3.0, 22050, f0_hz=(140.0, 220.0, 160.0, 190.0),
                                              syllable_rate_hz=3.0).audio, {}),
           ("example", vcfx.example_voice(), {"floor": 75.0, "ceiling": 700.0})]
    if SPEECH.is_file():
        out.append(("speech", vcfx.load(SPEECH), {"floor": 75.0, "ceiling": 700.0}))
    return out


def kept(before: vcfx.Audio, after: vcfx.Audio, **praat) -> float:
    """Share of the frames Praat calls voiced in ``before`` that it calls voiced at the same time in ``after``."""
    t, f = praat_f0(before, **praat)
    voiced = f > 0
    return float(np.mean(f0_at(after, t[voiced], **{**praat, "floor": OUTPUT_FLOOR}) > 0))


def world_f0(audio: vcfx.Audio) -> tuple[np.ndarray, np.ndarray]:
    """WORLD's f0 track (Hz, 0 unvoiced) and frame times of the first channel, with the default options."""
    from vcfx_world.analysis import OPTION_PARAMS, analyze_channels

    opts = {p.name: p.default for p in OPTION_PARAMS}
    f0 = analyze_channels([audio.samples[0]], audio.sample_rate, opts)[0].f0
    return f0, np.arange(len(f0)) * opts["frame_period_ms"] / 1000.0


def edge_cents(audio: vcfx.Audio) -> np.ndarray:
    """|WORLD f0 - pYIN f0| in cents on the first and last frames of WORLD's voiced stretches where pYIN is voiced."""
    f0, t = world_f0(audio)
    x, sr = audio.samples[0].astype(np.float64), audio.sample_rate
    hop = 64
    p, _, _ = librosa.pyin(x, fmin=60.0, fmax=800.0, sr=sr, frame_length=2048, hop_length=hop)
    voiced = f0 > 0
    before = np.concatenate([[False], voiced[:-1]])
    after = np.concatenate([voiced[1:], [False]])
    edges = np.flatnonzero(voiced & ~(before & after))
    ref = p[np.clip(np.rint(t[edges] * sr / hop).astype(int), 0, len(p) - 1)]
    ok = np.isfinite(ref) & (ref > 0)
    return np.abs(1200.0 * np.log2(f0[edges][ok] / ref[ok]))


def rows() -> list[dict]:
    out = []
    for label, audio, praat in voices():
        edge = edge_cents(audio)
        for s in SHIFTS:
            shifted = vcfx.Chain([vcfx.effect("pitch_shift", semitones=s)], engine="world")(audio)
            err = aligned_cents(audio, shifted, 1.0, **{**praat, "floor": min(praat.get("floor", 60.0),
                                                                               OUTPUT_FLOOR)}) - 100 * s
            out.append({"voice": label, "shift": f"{s:+g}", "kept": round(kept(audio, shifted, **praat), 3),
                        "median cents": round(float(np.median(err)), 1),
                        "p90 |cents|": round(float(np.percentile(np.abs(err), 90)), 1),
                        "edge median": round(float(np.median(edge)), 1),
                        "edge p90": round(float(np.percentile(edge, 90)), 1), "edge frames": len(edge)})
    return out


def main() -> int:
    print(text_table(rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

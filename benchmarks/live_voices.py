"""The live PSOLA engine beside the offline one, voice by voice, on the recordings you give it.

Run:  python benchmarks/live_voices.py [--voices DIR] [--shifts 4 12 -4] [--block 256] [--no-dnsmos]

Each voice is made mono (its first channel) and kept at its own rate
(resampled to 22.05 kHz where it is lower); ``pitch_shift`` by each of
``--shifts`` semitones runs through a :class:`vcfx.Stream` in blocks of
``--block`` frames, laid against the input by its latency, and through the
offline chain with ``engine="psola"``. Praat judges both as
``benchmarks/engines.py`` does (``shift_error`` in ``tests/truth.py``), but
over its default range, 60-900 Hz, for every voice (engines.py takes
75-700 Hz for real voices): at -4 the output is tracked from 47.6 Hz, over
63 ms windows, and short words lose frames at their edges to it:

- **kept**: of the input frames Praat calls voiced, the share whose output
  frame it calls voiced too;
- **p90**: the 90th percentile of |pitch error| in cents on the frames
  voiced in both;
- **OVRL**: DNSMOS P.835's overall score of the output high-passed at
  50 Hz (the ``bench`` extra; ``--no-dnsmos`` leaves it out).

Voices: ``../shared/audio/speech.wav`` (when present), the example voice,
synthetic syllables gliding over 140-300 Hz, and every ``*.wav`` in
``--voices``. The last lines give, per shift, the mean and (in brackets)
the median over the voices, and on how many voices live is at least as
good as offline.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import vcfx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the judges the tests use: tests/truth.py
from truth import DNSMOS_HIGHPASS_HZ, dnsmos_ovrl, shift_error, text_table  # noqa: E402

SPEECH = Path(os.environ.get("VCFX_SHARED_AUDIO", ROOT.parent / "shared" / "audio")) / "speech.wav"
LOWEST_RATE = 22050


def voices(directory: Path | None) -> list[tuple[str, vcfx.Audio]]:
    found = [("synthetic syllables", vcfx.synthetic_voice(4.0, LOWEST_RATE, f0_hz=(180, 300, 150, 260, 170, 240, 140),
                                                          syllable_rate_hz=3.0).audio),
             ("example voice", vcfx.example_voice())]
    paths = ([SPEECH] if SPEECH.exists() else []) + (sorted(directory.glob("*.wav")) if directory else [])
    found += [(path.stem, vcfx.load(path)) for path in paths]
    out = []
    for name, audio in found:
        audio = vcfx.Audio(audio.samples[:1], audio.sample_rate)
        out.append((name, audio.resample(LOWEST_RATE) if audio.sample_rate < LOWEST_RATE else audio))
    return out


def live(audio: vcfx.Audio, spec: str, block: int) -> vcfx.Audio:
    stream = vcfx.Stream(spec, sample_rate=audio.sample_rate, block_frames=block)
    x = audio.samples.astype(np.float32)
    parts = [stream.process(np.ascontiguousarray(x[:, s:s + block])) for s in range(0, x.shape[1], block)]
    y = np.concatenate(parts + [stream.flush()], axis=1)
    return vcfx.Audio(y[:, stream.latency_frames:stream.latency_frames + x.shape[1]], audio.sample_rate)


def judged(before: vcfx.Audio, after: vcfx.Audio, semitones: float, dnsmos: bool) -> dict:
    error = shift_error(before, after, semitones)
    cents = np.abs(error["cents"])
    out = {"kept": error["kept"], "p90": float(np.percentile(cents, 90)) if len(cents) else float("nan")}
    if dnsmos:
        out["ovrl"] = dnsmos_ovrl(after, DNSMOS_HIGHPASS_HZ)
    return out


BETTER = {"kept": np.greater_equal, "p90": np.less_equal, "ovrl": np.greater_equal}
"""Which way each measure is better: live "as good" as offline when it compares so."""


def summary(rows: list[dict], shift: float, measures: list[str]) -> dict:
    line = {"voice": f"{len(rows)} voices", "shift": f"{shift:+g}"}
    for measure in measures:
        better = BETTER[measure]
        for engine in ("live", "offline"):
            values = np.array([r[f"{measure} {engine}"] for r in rows], dtype=float)
            line[f"{measure} {engine}"] = f"{np.nanmean(values):.3f} ({np.nanmedian(values):.3f})"
        live_, offline = (np.array([r[f"{measure} {e}"] for r in rows], dtype=float) for e in ("live", "offline"))
        line[f"{measure}: live as good"] = int(np.sum(better(live_, offline)))
    return line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", type=Path, help="a folder of .wav recordings to add")
    parser.add_argument("--shifts", type=float, nargs="+", default=[4.0, 12.0, -4.0])
    parser.add_argument("--block", type=int, default=256, help="frames per live block")
    parser.add_argument("--no-dnsmos", action="store_true", help="leave the naturalness column out")
    args = parser.parse_args(argv)
    if args.voices is not None and not args.voices.is_dir():
        parser.error(f"--voices {args.voices}: no such folder")
    dnsmos = not args.no_dnsmos
    rows = {shift: [] for shift in args.shifts}
    for name, audio in voices(args.voices):
        for shift in args.shifts:
            spec = f"pitch_shift=semitones={shift:g}"
            offline = vcfx.Chain(list(vcfx.Chain.from_spec(spec)), engine="psola")(audio)
            row = {"voice": name, "shift": f"{shift:+g}"}
            for engine, out in (("live", live(audio, spec, args.block)), ("offline", offline)):
                row.update({f"{k} {engine}": v for k, v in judged(audio, out, shift, dnsmos).items()})
            rows[shift].append(row)
            print(f"{name} {shift:+g}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                                                    if isinstance(v, float)), flush=True)
    measures = ["kept", "p90"] + (["ovrl"] if dnsmos else [])
    columns = ["voice", "shift"] + [f"{m} {e}" for m in measures for e in ("live", "offline")]
    print()
    print(text_table([{k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.items()}
                      for shift in args.shifts for r in rows[shift]], columns))
    print()
    print(text_table([summary(rows[shift], shift, measures) for shift in args.shifts]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Quality of the "onsets" slicer on real speech and on a synthetic voice with known syllables.

Run:  python benchmarks/quality_onsets.py

Prints one row per check: segment count, shortest segment, gaps and overlaps
between segments, and, on the synthetic voice, whether every cut falls in the
silence before a syllable. ``rows()`` returns the same as a list of dicts
(effect, check, measured, target, ok). Uses ../shared/audio/speech.wav when
present (``VCFX_SHARED_AUDIO`` points elsewhere) and skips its rows otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import vcfx

SHARED = Path(os.environ.get("VCFX_SHARED_AUDIO", Path(__file__).resolve().parents[2] / "shared" / "audio"))
MIN_SEGMENT_MS = 50.0


def _row(check: str, measured, target: str, ok: bool) -> dict:
    return {"effect": "onsets", "check": check, "measured": measured, "target": target, "ok": bool(ok)}


def _tiling(name: str, audio: vcfx.Audio, segments: list[vcfx.Segment]) -> list[dict]:
    """Rows for the coverage contract: from 0 to the end, no gaps or overlaps, each long enough."""
    rate = audio.sample_rate
    spans = [(round(s.start_s * rate), round(s.end_s * rate)) for s in segments]
    gaps = sum(b > a for (_, a), (b, _) in zip(spans, spans[1:]))
    overlaps = sum(b < a for (_, a), (b, _) in zip(spans, spans[1:]))
    ends = spans[0][0] == 0 and spans[-1][1] == audio.frames
    shortest = min(b - a for a, b in spans) / rate * 1000
    return [
        _row(f"{name}: gaps / overlaps", f"{gaps} / {overlaps}", "0 / 0", gaps == overlaps == 0),
        _row(f"{name}: first start, last end", f"{spans[0][0]}, {spans[-1][1]}", f"0, {audio.frames}", ends),
        _row(f"{name}: shortest segment (ms)", round(shortest, 1), f">= {MIN_SEGMENT_MS:g}",
             shortest >= MIN_SEGMENT_MS),
    ]


def _speech_rows() -> list[dict]:
    path = SHARED / "speech.wav"
    if not path.is_file():
        return [_row("speech.wav: skipped", "absent", str(path), True)]
    speech = vcfx.load(path)
    segments = vcfx.slice_onsets(speech, min_segment_ms=MIN_SEGMENT_MS)
    return [_row("speech.wav (~16 syllables): segments", len(segments), "16 +- 5", 11 <= len(segments) <= 21),
            *_tiling("speech.wav", speech, segments)]


def _synthetic_rows() -> list[dict]:
    rate = 22050
    audio = vcfx.synthetic_voice(3.0, rate, f0_hz=(140.0, 220.0, 160.0), syllable_rate_hz=4).audio
    loud = audio.samples[0] != 0  # the truth: syllables are the runs of non-zero samples
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    ends = np.flatnonzero(loud[:-1] & ~loud[1:]) + 1
    segments = vcfx.slice_onsets(audio, min_segment_ms=MIN_SEGMENT_MS)
    cuts = np.array([round(s.start_s * rate) for s in segments[1:]])
    # a cut before syllable k (k >= 1) belongs in the gap [end of k-1 - 5 ms, start of k]
    early = round(0.005 * rate)
    placed = [np.flatnonzero((cuts >= ends[k - 1] - early) & (cuts <= starts[k])) for k in range(1, len(starts))]
    in_gap = sum(len(p) == 1 for p in placed)
    leads = [(starts[k] - cuts[p[0]]) / rate * 1000 for k, p in enumerate(placed, 1) if len(p) == 1]
    return [
        _row(f"synthetic voice ({len(starts)} syllables): segments", len(segments), str(len(starts)),
             len(segments) == len(starts)),
        *_tiling("synthetic voice", audio, segments),
        _row("synthetic voice: syllables with one cut in the gap before", f"{in_gap}/{len(placed)}",
             f"{len(placed)}/{len(placed)}", in_gap == len(placed) == len(cuts)),
        _row("synthetic voice: cut before syllable start (ms, min-max)",
             f"{min(leads):.1f}-{max(leads):.1f}" if leads else "-", "0-79 (74 ms gap)",
             bool(leads) and min(leads) >= 0 and max(leads) <= 79),
    ]


def _example_rows() -> list[dict]:
    voice = vcfx.example_voice()
    segments = vcfx.slice_onsets(voice, min_segment_ms=MIN_SEGMENT_MS)
    return [_row("example voice (English, ~15 syllables): segments", len(segments), "15 +- 5",
                 10 <= len(segments) <= 20),
            *_tiling("example voice", voice, segments)]


def rows() -> list[dict]:
    """Every check as ``{"effect", "check", "measured", "target", "ok"}``."""
    return _speech_rows() + _synthetic_rows() + _example_rows()


def main() -> None:
    table = rows()
    width = max(len(r["check"]) for r in table)
    print(f"{'effect':8} {'check':{width}} {'measured':>12} {'target':>14}  ok")
    for r in table:
        print(f"{r['effect']:8} {r['check']:{width}} {str(r['measured']):>12} {r['target']:>14}  "
              f"{'yes' if r['ok'] else 'NO'}")


if __name__ == "__main__":
    main()

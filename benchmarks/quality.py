"""Measured quality of every built-in effect, in one table.

Run:  python benchmarks/quality.py

Pitch is judged by Praat (parselmouth), not by WORLD; envelopes by LPC on the
output audio; durations, SNR and peaks directly. Rows on
../shared/audio/speech.wav are skipped when that folder is absent. Exits 1
when any row misses its target.

The pitch engines against their peers (Rubber Band, Praat, librosa), with
naturalness, are compared in ``benchmarks/engines.py``, which has no targets;
here, Praat's own intonation scaling is measured beside ``pitch_variance``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_onsets  # noqa: E402
import quality_waveform  # noqa: E402
import quality_world  # noqa: E402
from truth import text_table  # noqa: E402  (quality_world put tests/ on the path)

COLUMNS = ("effect", "check", "measured", "target", "ok")


def rows() -> list[dict]:
    return quality_world.rows() + quality_waveform.rows() + quality_onsets.rows()


def main() -> int:
    table = rows()
    print(text_table(table, list(COLUMNS)))
    checks = [r for r in table if r["ok"] != quality_world.PEER]
    missed = [r for r in checks if not r["ok"]]
    print(f"\n{len(checks) - len(missed)} of {len(checks)} checks within target (rows marked {quality_world.PEER} "
          "measure a peer the same way)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

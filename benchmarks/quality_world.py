"""Quality of the WORLD effects, judged independently: Praat for pitch, LPC for the envelope.

Run ``python benchmarks/quality_world.py`` for a table; :func:`rows` returns
the same as dicts (effect, check, measured, target, ok). Rows for the real
recording appear when ``../shared/audio/speech.wav`` (or
``$VCFX_SHARED_AUDIO/speech.wav``) exists. The targets are the tests'
tolerances.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import numpy as np
import parselmouth
from parselmouth.praat import call

import vcfx
import vcfx.chain

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the judges the tests use: tests/truth.py
from truth import agreed_log_f0_spread, envelope_ratio, f0_change_cents, rms_ratio, text_table  # noqa: E402

SPEECH = Path(os.environ.get("VCFX_SHARED_AUDIO", ROOT.parent / "shared" / "audio")) / "speech.wav"
ENGINES = tuple(vcfx.chain.engines())
"""pitch_variance is measured in each engine; its spread and mean are judged on frames where Praat and pYIN agree."""

PEER = "peer"
"""The ``ok`` of a row that measures a peer the same way, for comparison: it has no target of its own."""


def praat_pitch_variance(audio: vcfx.Audio, factor: float, floor: float = 60.0, ceiling: float = 900.0
                         ) -> vcfx.Audio:
    """Praat's way to scale intonation, on the first channel: its pitch tier scaled around its mean log f0.

    A Manipulation (10 ms, ``floor`` .. ``ceiling``) whose PitchTier becomes
    ``exp(c + factor * (ln f - c))``, ``c`` the mean of ``ln f`` over the
    tier's points, resynthesised by overlap-add.
    """
    sound = parselmouth.Sound(audio.samples[0].astype(np.float64), audio.sample_rate)
    manipulation = call(sound, "To Manipulation", 0.01, floor, ceiling)
    tier = call(manipulation, "Extract pitch tier")
    call(tier, "Formula", "ln(self)")
    centre = call(tier, "Get mean (points)", 0, 0)
    call(tier, "Formula", f"exp({centre} + {factor} * (self - {centre}))")
    call([manipulation, tier], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)")
    return vcfx.Audio(out.values[:1].astype(np.float32), audio.sample_rate)


def _row(effect, check, measured, target, ok):
    return {"effect": effect, "check": check, "measured": round(float(measured), 4), "target": target,
            "ok": ok if ok == PEER else bool(ok)}


def _level_row(label: str, audio: vcfx.Audio) -> dict:
    r = rms_ratio(audio, vcfx.Chain([vcfx.effect("pitch_shift", semitones=0)], engine="world")(audio))
    return _row(f"world pass [{label}]", "RMS out / in", r, "1 ± 0.5 %", abs(r - 1) <= 0.005)


def _rows_for(label: str, audio: vcfx.Audio, praat: dict, mean_cents: float, after_floor: float | None = None
              ) -> list[dict]:
    rows = [_level_row(label, audio)]
    for engine, factor in itertools.product(ENGINES, (0.5, 2.0)):
        name = f"pitch_variance={factor:g} {engine} [{label}]"
        out = vcfx.Chain([vcfx.effect("pitch_variance", factor=factor)], engine=engine)(audio)
        m = agreed_log_f0_spread(audio, out, after_floor=after_floor, **praat)
        rows.append(_row(name, "std log f0 out / in (Praat+pYIN)", m["std_ratio"], f"{factor:g} ± 10 %",
                         abs(m["std_ratio"] / factor - 1) <= 0.10))
        rows.append(_row(name, "mean log f0 move, cents (Praat+pYIN)", m["mean_cents"], f"|x| < {mean_cents:g}",
                         abs(m["mean_cents"]) < mean_cents))
    for factor in (0.5, 2.0):
        name = f"pitch_variance={factor:g} Praat manipulation [{label}] (peer)"
        out = praat_pitch_variance(audio, factor, praat.get("floor", 60.0), praat.get("ceiling", 900.0))
        m = agreed_log_f0_spread(audio, out, after_floor=after_floor, **praat)
        rows.append(_row(name, "std log f0 out / in (Praat+pYIN)", m["std_ratio"], f"{factor:g} ± 10 %", PEER))
        rows.append(_row(name, "mean log f0 move, cents (Praat+pYIN)", m["mean_cents"], f"|x| < {mean_cents:g}",
                         PEER))
    effect = vcfx.effect("formant_shift", ratio=1.2)
    out = effect(audio)
    name = f"formant_shift=1.2 {vcfx.chain.plan([effect])[0][0]} (default) [{label}]"
    r = envelope_ratio(audio, out, **praat)
    rows.append(_row(name, "LPC envelope ratio", r, "1.2 ± 3 %", abs(r / 1.2 - 1) <= 0.03))
    c = f0_change_cents(audio, out, **praat)
    rows.append(_row(name, "f0 change, cents", c, "|x| < 5", abs(c) < 5))
    return rows


def rows() -> list[dict]:
    """Every measurement, on the synthetic voice and (when present) the real recording."""
    voice = vcfx.synthetic_voice(2.0, 22050, f0_hz=(140.0, 220.0, 160.0)).audio
    out = _rows_for("synthetic", voice, {}, mean_cents=10)
    out += _rows_for("example", vcfx.example_voice(), {"floor": 75.0, "ceiling": 700.0}, mean_cents=10,
                     after_floor=60.0)
    if SPEECH.is_file():
        # Praat's default floor for the recording, below WORLD's 71 Hz for the output (test_pitch_variance.py)
        out += _rows_for("speech", vcfx.load(SPEECH), {"floor": 75.0, "ceiling": 700.0}, mean_cents=10,
                         after_floor=60.0)
    return out


def main() -> int:
    table = rows()
    print(text_table(table))
    if not SPEECH.is_file():
        print(f"(no {SPEECH}: speech rows skipped)")
    return 0 if all(r["ok"] for r in table if r["ok"] != PEER) else 1


if __name__ == "__main__":
    sys.exit(main())

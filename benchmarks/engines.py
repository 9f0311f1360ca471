"""vcfx's pitch engines beside the formant-keeping pitch shifters a user would pick instead, one judge for all.

Run:  python benchmarks/engines.py [--repeat N] [--no-dnsmos]

Prints one table, measured in one run: every engine shifts every voice by
±4 and ±12 semitones, and Praat judges input and output the same way for
all of them (``shift_error`` in ``tests/truth.py``; the output is tracked in
the input's pitch range times the intended ratio):

- **bias**: median pitch error in cents (output minus intended shift), on
  the frames voiced in both input and output;
- **median / p90 |error|**: the same errors, absolute, frame by frame;
- **kept**: of the input frames Praat calls voiced, the share whose output
  frame Praat also calls voiced;
- **OVRL**: DNSMOS P.835 overall score (1-5, no reference; at 16 kHz), a
  predictor of how natural listeners would rate the speech. It needs the
  ``bench`` extra (``pip install "vcfx[bench]"``: ``speechmos``, whose wheel
  holds the models, and ``onnxruntime``); without it the DNSMOS columns are
  left out. An ``input`` line per voice scores the unchanged voice;
- **OVRL hp**: the same score of the audio high-passed at 50 Hz
  (``truth.DNSMOS_HIGHPASS_HZ``): DNSMOS also hears what lies below, which
  no listener does, so a score that holds only as it is does not count;
- **P.808 hp**: DNSMOS's other model (``truth.dnsmos_scores``, trained on
  P.808 ratings), of the high-passed audio: a second opinion;
- **RTF**: seconds of work per second of audio, best of ``--repeat`` rounds
  in which the engines take turns, after a warm-up call (lower is faster).

Engines: vcfx WORLD (``pitch_shift``); vcfx PSOLA when a ``psola`` domain is
registered; pedalboard's Rubber Band R3 with formants kept; Praat's "Change
gender" (PSOLA, formant ratio 1); ``librosa.effects.pitch_shift`` (which does
not keep formants). Voices: a synthetic voice with a known contour (10 s),
the example voice, and ``../shared/audio/speech.wav`` as mono at 22.05 and
44.1 kHz and as it is (stereo, 44.1 kHz; skipped when absent); each cut to
its first 10 s. A stereo line pools both channels: each is judged against
its own input, and OVRL is the mean of the channels'.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import parselmouth
import pedalboard
from parselmouth.praat import call

import vcfx
from vcfx.chain import plan

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the judges the tests use: tests/truth.py
from truth import DNSMOS_HIGHPASS_HZ, dnsmos_scores, shift_error  # noqa: E402

SPEECH = Path(os.environ.get("VCFX_SHARED_AUDIO", ROOT.parent / "shared" / "audio")) / "speech.wav"
SHIFTS = (-12.0, -4.0, 4.0, 12.0)
EXCERPT_S = 10.0
REAL_VOICE_PRAAT = {"floor": 75.0, "ceiling": 700.0}
"""Praat's range for the real voices (female, 150-330 Hz), as in the quality benchmarks."""


# -- the engines: each takes a vcfx.Audio (mono or stereo) and a shift in semitones, and returns a vcfx.Audio -
def vcfx_world(audio: vcfx.Audio, semitones: float) -> vcfx.Audio:
    return vcfx.Chain([vcfx.effect("pitch_shift", semitones=semitones)], engine="world")(audio)


def vcfx_psola(audio: vcfx.Audio, semitones: float) -> vcfx.Audio:
    return vcfx.Chain([vcfx.effect("pitch_shift", semitones=semitones)], engine="psola")(audio)


def rubberband_r3(audio: vcfx.Audio, semitones: float) -> vcfx.Audio:
    out = pedalboard.time_stretch(audio.samples, audio.sample_rate, stretch_factor=1.0,
                                  pitch_shift_in_semitones=semitones, high_quality=True, preserve_formants=True)
    return vcfx.Audio(out, audio.sample_rate)


def praat_change_gender(audio: vcfx.Audio, semitones: float) -> vcfx.Audio:
    # Praat's arguments: pitch floor, pitch ceiling (Hz), formant shift ratio, new pitch median (Hz),
    # pitch range factor, duration factor; the new median is the old one moved by the shift. Praat's
    # Change gender works on one channel: each is changed on its own.
    out = []
    for channel in audio.samples:
        sound = parselmouth.Sound(channel.astype(np.float64), audio.sample_rate)
        pitch = call(sound, "To Pitch", 0.0, 75.0, 600.0)
        median = call(pitch, "Get quantile", 0.0, 0.0, 0.5, "Hertz")
        changed = call(sound, "Change gender", 75.0, 600.0, 1.0, median * 2.0 ** (semitones / 12.0), 1.0, 1.0)
        out.append(changed.values[0, :audio.frames])
    return vcfx.Audio(np.stack(out).astype(np.float32), audio.sample_rate)


def librosa_shift(audio: vcfx.Audio, semitones: float) -> vcfx.Audio:
    out = librosa.effects.pitch_shift(audio.samples, sr=audio.sample_rate, n_steps=semitones)
    return vcfx.Audio(np.asarray(out, dtype=np.float32), audio.sample_rate)


def engines() -> dict:
    """Engine name -> function; vcfx PSOLA only when a ``psola`` domain is registered."""
    found = {"vcfx WORLD": vcfx_world}
    if "psola" in vcfx.plugins.registry().domains:
        found["vcfx PSOLA"] = vcfx_psola
    found["pedalboard R3 (formants kept)"] = rubberband_r3
    found["Praat Change gender"] = praat_change_gender
    found["librosa"] = librosa_shift
    return found


# -- the voices -------------------------------------------------------------------------------------------
def _excerpt(audio: vcfx.Audio) -> vcfx.Audio:
    return vcfx.Audio(audio.samples[:, : int(EXCERPT_S * audio.sample_rate)], audio.sample_rate)


def voices() -> list[tuple[str, vcfx.Audio, dict]]:
    """(label, audio, Praat's range for it) for every voice present."""
    synthetic = vcfx.synthetic_voice(EXCERPT_S, 22050, f0_hz=(140.0, 220.0, 160.0, 200.0, 130.0),
                                     syllable_rate_hz=3.0).audio
    found = [("synthetic 22k", synthetic, {}), ("example 22k", _excerpt(vcfx.example_voice()), REAL_VOICE_PRAAT)]
    if SPEECH.is_file():
        for rate in (22050, 44100):
            found.append((f"speech.wav {rate / 1000:g}k", _excerpt(vcfx.load(SPEECH, sample_rate=rate, mono=True)),
                          REAL_VOICE_PRAAT))
        stereo = vcfx.load(SPEECH)
        if stereo.channels > 1:
            found.append((f"speech.wav stereo {stereo.sample_rate / 1000:g}k", _excerpt(stereo), REAL_VOICE_PRAAT))
    return found


def _channel(audio: vcfx.Audio, c: int) -> vcfx.Audio:
    return vcfx.Audio(audio.samples[c:c + 1], audio.sample_rate)


def judge(before: vcfx.Audio, after: vcfx.Audio, semitones: float, praat: dict) -> dict:
    """``shift_error`` of every channel: the errors of all channels together, kept over all their frames."""
    judged = [shift_error(_channel(before, c), _channel(after, c), semitones, **praat) for c in range(before.channels)]
    frames = sum(j["frames"] for j in judged)
    return {"cents": np.concatenate([j["cents"] for j in judged]),
            "kept": sum(j["kept"] * j["frames"] for j in judged) / frames}


def scores(audio: vcfx.Audio, highpass_hz: float | None = None) -> dict[str, float]:
    """DNSMOS's scores (``truth.dnsmos_scores``), each the mean over channels."""
    per_channel = [dnsmos_scores(_channel(audio, c), highpass_hz) for c in range(audio.channels)]
    return {key: float(np.mean([s[key] for s in per_channel])) for key in per_channel[0]}


def naturalness(audio: vcfx.Audio) -> dict:
    """The naturalness columns: OVRL as it is and high-passed at ``DNSMOS_HIGHPASS_HZ``, P.808 high-passed."""
    passed = scores(audio, DNSMOS_HIGHPASS_HZ)
    return {"OVRL": scores(audio)["ovrl"], "OVRL hp": passed["ovrl"], "P.808 hp": passed["p808"]}


# -- measuring --------------------------------------------------------------------------------------------
def _run_all(found: dict, audio: vcfx.Audio, semitones: float, repeat: int) -> dict:
    """Engine name -> (output, RTF): best of ``repeat`` rounds, the engines taking turns within a round.

    Taking turns lets every engine meet the same machine (a busy second
    core, a warm cache) as often as the others.
    """
    best = dict.fromkeys(found, float("inf"))
    outputs = {}
    for _ in range(repeat):
        for name, fn in found.items():
            start = time.perf_counter()
            outputs[name] = fn(audio, semitones)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (outputs[name], best[name] / audio.duration_s) for name in found}


def rows(repeat: int = 1, scored: bool = True) -> list[dict]:
    """One dict per (voice, shift, engine), plus an ``input`` line per voice when ``scored`` (DNSMOS)."""
    table = []
    found = engines()
    warm = vcfx.synthetic_voice(0.5, 22050).audio
    for fn in found.values():
        fn(warm, 4.0)  # one-time costs (imports, JIT, plan caches) are not the engine's per-call speed
    for label, audio, praat in voices():
        if scored:
            table.append({"voice": label, "shift": "", "engine": "input", **naturalness(audio)})
        for semitones in SHIFTS:
            for name, (out, rtf) in _run_all(found, audio, semitones, repeat).items():
                judged = judge(audio, out, semitones, praat)
                error = np.abs(judged["cents"])
                row = {"voice": label, "shift": f"{semitones:+g}", "engine": name,
                       "bias": float(np.median(judged["cents"])), "median": float(np.median(error)),
                       "p90": float(np.percentile(error, 90)), "kept": judged["kept"], "RTF": rtf}
                if scored:
                    row.update(naturalness(out))
                table.append(row)
    return table


FORMATS = {"bias": "{:+.1f}", "median": "{:.1f}", "p90": "{:.1f}", "kept": "{:.3f}", "OVRL": "{:.2f}",
           "OVRL hp": "{:.2f}", "P.808 hp": "{:.2f}", "RTF": "{:.4f}"}
HEADERS = {"bias": "bias (cents)", "median": "median abs. error (cents)", "p90": "p90 abs. error (cents)",
           "kept": "voiced kept", "OVRL": "DNSMOS OVRL", "OVRL hp": f"OVRL, {DNSMOS_HIGHPASS_HZ:g} Hz high-passed",
           "P.808 hp": "P.808, high-passed", "RTF": "RTF"}


def markdown(table: list[dict]) -> str:
    """The table as Markdown (what ``docs/measurements.md`` shows)."""
    columns = ["voice", "shift", "engine"] + [c for c in FORMATS if any(c in r for r in table)]
    lines = ["| " + " | ".join(HEADERS.get(c, c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for r in table:
        cells = [FORMATS[c].format(r[c]) if c in FORMATS and c in r else str(r.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(table: list[dict]) -> str:
    """Per engine, the range of each column over the lines above (and the mean OVRL)."""
    out = []
    for name in dict.fromkeys(r["engine"] for r in table if r["engine"] != "input"):
        mine = [r for r in table if r["engine"] == name]
        small = [r for r in mine if abs(float(r["shift"])) == 4]
        large = [r for r in mine if abs(float(r["shift"])) == 12]

        def span(rs, key, fmt):
            vals = [r[key] for r in rs]
            if not vals:
                return "-"
            return f"{fmt.format(min(vals))} to {fmt.format(max(vals))}"

        text = (f"{name:30s} bias {span(mine, 'bias', '{:+.1f}')}  median {span(mine, 'median', '{:.1f}')}"
                f"  p90 ±4 {span(small, 'p90', '{:.0f}')}"
                f"  p90 ±12 {span(large, 'p90', '{:.0f}')}  kept ±4 {span(small, 'kept', '{:.2f}')}"
                f"  kept ±12 {span(large, 'kept', '{:.2f}')}  RTF {span(mine, 'RTF', '{:.3f}')}")
        if "OVRL" in mine[0]:
            text += "  " + _mean_scores(mine)
        out.append(text)
    default = _default_lines(table)
    if default and "OVRL" in default[0]:
        out.append(f"{'vcfx default engine':30s} {_mean_scores(default)}: each line's engine as a chain without "
                   "one picks it")
    inputs = [r for r in table if r["engine"] == "input"]
    if inputs:
        out.append(f"{'input (unchanged)':30s} {_mean_scores(inputs)}")
    return "\n".join(out)


def _mean_scores(rs: list[dict]) -> str:
    """Mean scores of these lines (OVRL as they are and high-passed, P.808), over all and over the real voices."""
    real = [r for r in rs if not r["voice"].startswith("synthetic")]

    def mean(key, lines):
        return np.mean([r[key] for r in lines])

    return (f"OVRL mean {mean('OVRL', rs):.2f} (real voices {mean('OVRL', real):.2f}), high-passed "
            f"{mean('OVRL hp', rs):.2f} ({mean('OVRL hp', real):.2f}); P.808 {mean('P.808 hp', rs):.2f} "
            f"({mean('P.808 hp', real):.2f})")


def default_domain(semitones: float) -> str:
    """The domain ``pitch_shift`` by ``semitones`` runs in when its chain chooses no engine."""
    return plan([vcfx.effect("pitch_shift", semitones=semitones)])[0][0]


def _default_lines(table: list[dict]) -> list[dict]:
    """Per voice and shift, the line of the engine :func:`default_domain` picks."""
    names = {"world": "vcfx WORLD", "psola": "vcfx PSOLA"}
    picked = []
    for r in table:
        if r["engine"] != "input" and r["engine"] == names.get(default_domain(float(r["shift"]))):
            picked.append(r)
    return picked


def _naturalness_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import speechmos  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds per line; each engine's best counts")
    parser.add_argument("--no-dnsmos", action="store_true", help="leave the naturalness columns out")
    args = parser.parse_args(argv)
    scored = not args.no_dnsmos and _naturalness_available()
    start = time.perf_counter()
    table = rows(repeat=args.repeat, scored=scored)
    print(markdown(table))
    print("\nRanges over the lines above:")
    print(summary(table))
    notes = []
    if not scored:
        notes.append('no DNSMOS columns: pip install "vcfx[bench]" for speechmos and onnxruntime'
                     if not args.no_dnsmos else "no DNSMOS columns (--no-dnsmos)")
    if "vcfx PSOLA" not in engines():
        notes.append('no vcfx PSOLA rows: no "psola" domain is registered')
    if not SPEECH.is_file():
        notes.append(f"no {SPEECH}: speech.wav lines skipped")
    for note in notes:
        print(f"({note})")
    print(f"\nmeasured in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

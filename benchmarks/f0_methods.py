"""The WORLD domain's f0 trackers, dio and harvest: speed against voicing and pitch accuracy.

Run:  python benchmarks/f0_methods.py

For each tracker: analysis time per second of audio, and agreement with Praat
(parselmouth, an independent tracker) on the synthetic voice (where the truth
is known) and on ../shared/audio/speech.wav: share of Praat-voiced frames the
tracker also calls voiced (recall), share of tracker-voiced frames Praat
agrees are voiced (precision), and median |f0 difference| in cents on frames
voiced in both.

Then DIO's decimation: DIO at the full rate (``speed=1``) against DIO at the
rate the WORLD domain uses (``dio_speed``), each refined by StoneMask, on the
same voices at 16, 22.05 and 44.1 kHz.
"""

from __future__ import annotations

import time
from pathlib import Path

import librosa
import numpy as np
import parselmouth
import pyworld

import vcfx
from vcfx_world.f0 import dio_speed

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "audio" / "speech.wav"


def praat(audio: vcfx.Audio, times: np.ndarray) -> np.ndarray:
    sound = parselmouth.Sound(audio.samples[0].astype(np.float64), audio.sample_rate)
    pitch = sound.to_pitch_ac(time_step=0.005, pitch_floor=71.0, pitch_ceiling=800.0)
    return np.array([pitch.get_value_at_time(t) or 0.0 for t in times])


def main():
    voices = [("synthetic voice", vcfx.synthetic_voice(4.0, 22050, f0_hz=(120, 240, 160), syllable_rate_hz=3).audio),
              ("example voice", vcfx.example_voice())]
    if SPEECH.is_file():
        voices.append(("speech.wav (mono, 22.05 kHz)", vcfx.load(SPEECH, sample_rate=22050, mono=True)))
    print(f"{'voice':<30} {'method':<8} {'s per s':>8} {'recall':>7} {'precision':>9} {'median cents':>12} "
          f"{'octave off':>10}")
    for label, audio in voices:
        for method in ("dio", "harvest"):
            ctx = vcfx.Context.from_seed(0, {"world": {"f0_method": method}})
            vcfx.domain("world").analyze(audio, ctx)  # warm up: threads, caches
            start = time.perf_counter()
            state = vcfx.domain("world").analyze(audio, ctx)
            seconds = (time.perf_counter() - start) / audio.duration_s
            f0 = state.channels[0].f0
            ref = np.nan_to_num(praat(audio, state.frame_times()))
            both = (f0 > 0) & (ref > 0)
            recall = both.sum() / max(1, (ref > 0).sum())
            precision = both.sum() / max(1, (f0 > 0).sum())
            diff = np.abs(1200 * np.log2(f0[both] / ref[both]))
            print(f"{label:<30} {method:<8} {seconds:8.3f} {recall:7.2f} {precision:9.2f} {np.median(diff):12.1f} "
                  f"{np.mean(diff > 600):10.3f}")
    print("\ns per s: seconds of WORLD analysis (f0, envelope, aperiodicity) per second of audio;"
          "\noctave off: share of frames voiced in both more than half an octave from Praat.\n")

    print(f"{'voice':<30} {'rate':>6} {'dio speed':>9} {'s per s':>8} {'recall':>7} {'precision':>9} "
          f"{'median cents':>12} {'within 50 c':>11}")
    for label, audio in voices:
        for rate in (16000, 22050, 44100):
            x = vcfx.Audio(librosa.resample(audio.samples, orig_sr=audio.sample_rate, target_sr=rate), rate)
            samples = x.samples[0].astype(np.float64)
            for speed in (1, dio_speed(rate)):
                best = np.inf
                for _ in range(5):
                    start = time.perf_counter()
                    raw, t = pyworld.dio(samples, rate, f0_floor=71.0, f0_ceil=800.0, speed=speed)
                    f0 = pyworld.stonemask(samples, raw, t, rate)
                    best = min(best, time.perf_counter() - start)
                ref = np.nan_to_num(praat(x, t))
                both = (f0 > 0) & (ref > 0)
                diff = np.abs(1200 * np.log2(f0[both] / ref[both]))
                print(f"{label:<30} {rate:>6} {speed:>9} {best / x.duration_s:8.4f} "
                      f"{both.sum() / max(1, (ref > 0).sum()):7.2f} {both.sum() / max(1, (f0 > 0).sum()):9.2f} "
                      f"{np.median(diff):12.1f} {np.mean(diff < 50):11.3f}")


if __name__ == "__main__":
    main()

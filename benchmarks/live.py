"""Live streams: latency, keeping up, the same voice as offline, no click on a parameter change.

Run:  python benchmarks/live.py [--minutes 10]

For ``pitch_shift=semitones=4,formant_shift=ratio=1.1`` at 48 kHz in blocks
of 256 frames (5.33 ms):

- *latency*: the declared ``latency_frames``, and the delay measured end to
  end: an impulse train through the same stream with its effects neutral,
  and sparse (unvoiced) clicks through ``pitch_shift=semitones=4``;
- *keeping up*: ``--minutes`` of speech (../shared/audio/speech.wav looped,
  or the example voice) pushed block by block on one thread: per-block
  processing time as a share of the block's duration (median, p99, max,
  blocks over 1; after ``gc.freeze()``, as ``vcfx live`` does), wall clock and the thread's CPU time (which leaves out
  the time the thread waited for a core), and the process's RSS at each
  minute;
- *same voice as offline*: the live output, laid against the input by
  ``latency_frames``, against the offline chain with ``engine="psola"`` on
  the same speech: Praat's f0 in cents on frames voiced in both (median,
  median of |cents|), and the share of voiced frames of each;
- *no click*: ``semitones`` set from another thread half-way, 4 to 7: the
  largest sample step of the live output against the largest of the
  offline outputs at 4 and at 7 semitones.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

import vcfx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the judges the tests use: tests/truth.py
from truth import praat_f0, text_table  # noqa: E402

SPEECH = Path(os.environ.get("VCFX_SHARED_AUDIO", ROOT.parent / "shared" / "audio")) / "speech.wav"
SPEC = "pitch_shift=semitones=4,formant_shift=ratio=1.1"
RATE, BLOCK = 48000, 256


def speech() -> tuple[str, vcfx.Audio]:
    if SPEECH.exists():
        audio = vcfx.load(SPEECH).resample(RATE)
        return "speech.wav", vcfx.Audio(audio.samples[:1], RATE)
    return "example voice", vcfx.example_voice().resample(RATE).to_mono()


def push(stream: vcfx.Stream, x: np.ndarray, change=None, raw: bool = False) -> np.ndarray:
    parts = []
    for k, start in enumerate(range(0, x.shape[1], BLOCK)):
        if change is not None and k == change[0]:
            setter = threading.Thread(target=change[1])
            setter.start()
            setter.join()
        parts.append(stream.process(np.ascontiguousarray(x[:, start:start + BLOCK])))
    y = np.concatenate(parts + [stream.flush()], axis=1)
    return y if raw else y[:, stream.latency_frames:stream.latency_frames + x.shape[1]]


def latency() -> list[dict]:
    chain = vcfx.Chain.from_spec(SPEC)
    stream = vcfx.Stream(chain, sample_rate=RATE, block_frames=BLOCK)
    rows = []
    x = np.zeros((1, 5 * RATE), np.float32)
    x[0, 1000::4800] = 0.5
    chain[0].semitones, chain[1].ratio = 0.0, 1.0
    full = push(stream, x, raw=True)
    peaks = np.flatnonzero(np.abs(full[0]) > 0.25)
    measured = sorted(set(peaks - np.flatnonzero(x[0])[:len(peaks)]))
    copy = full[:, stream.latency_frames:stream.latency_frames + x.shape[1]]
    rows.append({"stream": SPEC + " (set neutral)", "declared": stream.latency_frames,
                 "ms": f"{stream.latency_ms:.1f}", "measured": ",".join(map(str, measured)),
                 "exact copy": bool(np.array_equal(copy, x))})
    stream = vcfx.Stream("pitch_shift=semitones=4", sample_rate=RATE, block_frames=BLOCK)
    full = push(stream, x, raw=True)
    peaks = np.flatnonzero(np.abs(full[0]) > 0.25)
    measured = sorted(set(peaks - np.flatnonzero(x[0])[:len(peaks)]))
    rows.append({"stream": "pitch_shift=semitones=4 (sparse clicks)", "declared": stream.latency_frames,
                 "ms": f"{stream.latency_ms:.1f}", "measured": ",".join(map(str, measured)), "exact copy": "-"})
    return rows


def keeping_up(voice: vcfx.Audio, minutes: float) -> tuple[dict, list[float]]:
    stream = vcfx.Stream(SPEC, sample_rate=RATE, block_frames=BLOCK)
    gc.freeze()  # as vcfx live does: no collection of every object so far in the middle of a block
    x = voice.samples.astype(np.float32)
    total = int(minutes * 60 * RATE)
    process = psutil.Process()
    times = np.empty(total // BLOCK)
    cpu = np.empty(total // BLOCK)
    rss, next_minute = [process.memory_info().rss / 2**20], RATE * 60
    pos = 0
    for k in range(len(times)):
        start = (k * BLOCK) % (x.shape[1] - BLOCK)
        block = np.ascontiguousarray(x[:, start:start + BLOCK])
        began, began_cpu = time.perf_counter(), time.thread_time()
        stream.process(block)
        times[k], cpu[k] = time.perf_counter() - began, time.thread_time() - began_cpu
        pos += BLOCK
        if pos >= next_minute:
            rss.append(process.memory_info().rss / 2**20)
            next_minute += RATE * 60
    share, cpu_share = times / (BLOCK / RATE), cpu / (BLOCK / RATE)
    row = {"blocks": len(times), "median": f"{np.median(share):.3f}", "p99": f"{np.percentile(share, 99):.3f}",
           "max": f"{share.max():.3f}", "over 1": int((share > 1).sum()),
           "CPU p99": f"{np.percentile(cpu_share, 99):.3f}", "CPU max": f"{cpu_share.max():.3f}",
           "CPU over 1": int((cpu_share > 1).sum()),
           "RSS MB first/last": f"{rss[0]:.0f}/{rss[-1]:.0f}", "RSS spread MB": f"{max(rss) - min(rss):.1f}"}
    return row, rss


def same_voice(voice: vcfx.Audio) -> dict:
    chain = vcfx.Chain.from_spec(SPEC)
    offline = vcfx.Chain(list(chain), engine="psola")(voice)
    live = push(vcfx.Stream(chain, sample_rate=RATE, block_frames=BLOCK), voice.samples.astype(np.float32))
    _, f_live = praat_f0(vcfx.Audio(live, RATE))
    _, f_off = praat_f0(offline)
    n = min(len(f_live), len(f_off))
    f_live, f_off = f_live[:n], f_off[:n]
    both = (f_live > 0) & (f_off > 0)
    cents = 1200 * np.log2(f_live[both] / f_off[both])
    return {"frames both voiced": int(both.sum()), "median cents": f"{np.median(cents):+.2f}",
            "median |cents|": f"{np.median(np.abs(cents)):.2f}", "voiced live": f"{np.mean(f_live > 0):.3f}",
            "voiced offline": f"{np.mean(f_off > 0):.3f}",
            "voiced diff": f"{np.mean(f_live > 0) - np.mean(f_off > 0):+.3f}",
            "RMS live/offline": f"{np.sqrt(np.mean(live ** 2) / np.mean(offline.samples ** 2)):.3f}"}


def no_click(voice: vcfx.Audio) -> dict:
    chain = vcfx.Chain.from_spec("pitch_shift=semitones=4")
    x = voice.samples.astype(np.float32)
    half = (x.shape[1] // 2) // BLOCK
    y = push(vcfx.Stream(chain, sample_rate=RATE, block_frames=BLOCK), x,
             change=(half, lambda: setattr(chain[0], "semitones", 7.0)))
    steps = np.abs(np.diff(y[0]))
    around = steps[max(0, half * BLOCK - 4800):half * BLOCK + 4800 + 2400]
    offline = max(float(np.abs(np.diff(vcfx.Chain([vcfx.effect("pitch_shift", semitones=s)], engine="psola")(voice)
                                        .samples[0])).max()) for s in (4.0, 7.0))
    return {"largest step, 100 ms around the change": f"{around.max():.4f}",
            "largest step, live": f"{steps.max():.4f}", "largest step, offline 4 and 7 st": f"{offline:.4f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="Length of the keeping-up run.")
    args = parser.parse_args()
    name, voice = speech()
    print(f"# live: {SPEC}, {RATE} Hz, blocks of {BLOCK} ({1000 * BLOCK / RATE:.2f} ms); voice: {name}\n")
    print("## latency (frames)\n")
    print(text_table(latency()))
    print(f"\n## keeping up: {args.minutes:g} min of {name} looped, per-block time / block duration\n")
    row, rss = keeping_up(voice, args.minutes)
    print(text_table([row]))
    print("RSS by minute (MB): " + " ".join(f"{r:.0f}" for r in rss))
    print(f"\n## same voice as offline (engine=\"psola\"), Praat on {name}\n")
    print(text_table([same_voice(voice)]))
    print("\n## semitones 4 -> 7 half-way, set from another thread\n")
    print(text_table([no_click(voice)]))


if __name__ == "__main__":
    main()

"""Speed of vcfx against the study's pipeline and the libraries a user would pick instead.

Run:  python benchmarks/speed.py [--repeat N] [--audio PATH] [--stages | --world]

Prints one table from one run: seconds of work per second of audio (real-time
factor, RTF; lower is faster) for each task, and each vcfx row's speed-up
over its baseline measured in the same run. Then how accurately the study's
pipeline and vcfx's preset change the pitch, judged by Praat. Then the pitch
engines of ``benchmarks/engines.py`` shifting 30 s of the voice by +4
semitones at 22.05 and 44.1 kHz, taking turns, with vcfx PSOLA's speed-up
over Praat's Change gender and vcfx WORLD's over pedalboard R3 with the
formants kept. Uses ../shared/audio/speech.wav when present, else the
built-in example voice.

With ``--stages`` it prints instead where the WORLD domain's time goes:
CPU seconds per second of audio in each stage (pyworld's DIO and StoneMask, vcfx's CheapTrick and D4C, the
vocoder's synthesis, periodicity) and in vcfx's own work, on one thread, for ``pitch_shift`` and the
``voice_changer`` preset at 22.05 and 44.1 kHz; ``settle_on_peaks`` is shown whole (its periodicity and
StoneMask calls included) and not added to the stages. CPU time of the one thread is counted, so a busy
machine changes these numbers less than the wall-clock table.

With ``--world`` it prints instead vcfx's CheapTrick, D4C and synthesis
against pyworld's on the same frames of 30 s of the voice, taking turns,
on one thread and on two (pyworld's in blocks of 1 s, vcfx's in the
batches its analysis runs, side by side): seconds per second of audio and
pyworld's time over vcfx's.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import pedalboard
import pyworld
import scipy.signal

import vcfx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the judges the tests use: tests/truth.py
from truth import log_f0_spread  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "audio"
SR = 22050


# -- the study's voice_changer, re-implemented faithfully (one WORLD round trip per pitch step) ----
def _study_world(audio, sr, change_f0):
    _f0, t = pyworld.dio(audio, sr)
    f0 = pyworld.stonemask(audio, _f0, t, sr)
    f0 = change_f0(f0)
    sp = pyworld.cheaptrick(audio, f0, t, sr)
    ap = pyworld.d4c(audio, f0, t, sr)
    return pyworld.synthesize(f0, sp, ap, sr)


def study_std_change(audio, sr, alpha):
    def change(f0):
        voiced = np.nonzero(f0)
        mean = np.mean(f0[voiced])
        f0[voiced] = (f0[voiced] - mean) * alpha + mean
        return f0

    return _study_world(audio, sr, change)


def study_key_change(audio, sr, key):
    return _study_world(audio, sr, lambda f0: f0 + f0 * key / 12)


def study_tempo(audio, sr, rate):
    # the study called SoX's tempo; Rubber Band (through pedalboard) is the pip-installable equivalent
    return pedalboard.time_stretch(audio.astype(np.float32)[np.newaxis], sr, rate)[0].astype(np.float64)


def study_voice_changer(audio, sr, pitch=1.2, pitch_var=0.5, tempo=0.7, noise=0.01, rng=None):
    audio = study_std_change(audio, sr, pitch_var)
    audio = study_key_change(audio, sr, pitch)
    audio = study_tempo(audio, sr, tempo)
    rng = rng or np.random.default_rng(0)
    return audio + noise * rng.normal(0, 1, np.size(audio))


# -- measuring -------------------------------------------------------------------------------------
def best_of_each(fns, repeat, min_seconds=2.0):
    """Best time of each function over at least ``repeat`` rounds, the functions taking turns within a round.

    Taking turns lets every implementation of a task meet the same machine
    (a busy second core, a warm cache) as often as the others. Tasks of a
    few milliseconds get more rounds, up to ``min_seconds`` in all, so that
    their best time is as well sampled as a long task's.
    """
    times = [[] for _ in fns]
    rounds, spent = 0, 0.0
    while rounds < repeat or spent < min_seconds:
        for fn, seen in zip(fns, times):
            start = time.perf_counter()
            fn()
            seen.append(time.perf_counter() - start)
            spent += seen[-1]
        rounds += 1
    return [min(seen) for seen in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--audio", type=Path, default=SHARED / "speech.wav")
    parser.add_argument("--stages", action="store_true", help="print where the WORLD domain's time goes instead")
    parser.add_argument("--world", action="store_true", help="print vcfx's WORLD stages against pyworld's instead")
    args = parser.parse_args(argv)
    if args.stages:
        return world_stages(args.audio, args.repeat)
    if args.world:
        return world_against_pyworld(args.audio, args.repeat)

    voice = vcfx.load(args.audio, sample_rate=SR, mono=True) if args.audio.is_file() else vcfx.example_voice()
    x64 = voice.samples[0].astype(np.float64)
    x32 = voice.samples[0]
    reverb = vcfx.effect("reverb", rt60_s=0.5)
    ir = reverb.impulse_response(SR, 1)[0].astype(np.float32)  # every reverb row convolves with this one IR
    seconds = voice.duration_s
    print(f"audio: {args.audio if args.audio.is_file() else 'example voice'} as mono {SR} Hz, {seconds:.2f} s; "
          f"best of at least {args.repeat} runs each (more for short tasks)\n")

    rows = []  # (task, implementation, best seconds, baseline key or None)

    def measure(task, *impls):
        """``impls``: (implementation, function) pairs; the last is vcfx's, timed against the first."""
        for i, ((impl, _), best) in enumerate(zip(impls, best_of_each([fn for _, fn in impls], args.repeat))):
            rows.append((task, impl, best, impls[0][0] if i == len(impls) - 1 else None))

    vc = vcfx.preset("voice_changer", pitch=1.2, pitch_var=0.5, tempo=0.7, change=False, noise=0.01, reverb=False)
    vc.seed = 0
    measure("voice_changer",
            ("study pipeline (2 WORLD round trips)", lambda: study_voice_changer(x64.copy(), SR)),
            (f"vcfx preset ({_engine_label(*vc)})", lambda: vc(voice)))

    ps = vcfx.effect("pitch_shift", semitones=4)
    measure("pitch_shift +4",
            ("pedalboard.PitchShift", lambda: pedalboard.PitchShift(4)(x32, SR)),
            ("librosa.effects.pitch_shift", lambda: librosa.effects.pitch_shift(x32, sr=SR, n_steps=4)),
            (f"vcfx pitch_shift ({_engine_label(ps)})", lambda: ps(voice)))

    tempo = vcfx.effect("tempo", rate=0.8)
    measure("tempo 0.8",
            ("pedalboard.time_stretch", lambda: pedalboard.time_stretch(x32, SR, 0.8)),
            ("librosa.effects.time_stretch", lambda: librosa.effects.time_stretch(x32, rate=0.8)),
            ("vcfx tempo", lambda: tempo(voice)))

    measure("reverb",
            ("scipy.signal.fftconvolve", lambda: scipy.signal.fftconvolve(x32, ir)),
            ("pedalboard.Convolution", lambda: _pedalboard_convolution(x32, ir)),
            ("vcfx reverb", lambda: reverb(voice)))

    rng = np.random.default_rng(0)
    wave_chain = vcfx.Chain([vcfx.effect("noise", snr_db=20), vcfx.effect("reverb", rt60_s=0.5)], seed=0)
    measure("noise + reverb",
            ("numpy + scipy directly", lambda: _direct_noise_reverb(x32, ir, rng, reverb.wet)),
            ("vcfx chain", lambda: wave_chain(voice)))

    _print(rows, seconds)
    _print_pitch_accuracy(voice, {
        "study pipeline": vcfx.Audio(study_voice_changer(x64.copy(), SR)[np.newaxis], SR),
        "vcfx preset": vc(voice),
    })
    _print_engine_speed(args.audio, args.repeat)


# -- where the WORLD domain's time goes -------------------------------------------------------------
WORLD_STAGES = ("dio", "harvest", "stonemask")


def world_stages(path, repeat):
    """CPU time of each WORLD stage, on one thread, per second of audio."""
    from vcfx.parallel import single_threaded
    from vcfx_world import cheaptrick, d4c, domain, f0, stonemask, synthesis, vocoder

    spent = collections.defaultdict(float)

    def timed(owner, name, label):
        real = getattr(owner, name)

        def run(*args, **kwargs):
            start = time.thread_time()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - start

        setattr(owner, name, run)
        return owner, name, real

    patched = [timed(pyworld, n, n) for n in WORLD_STAGES]
    patched += [timed(stonemask, "refine", "stonemask"),
                timed(cheaptrick, "spectral_envelope", "cheaptrick"), timed(d4c, "aperiodicity", "d4c"),
                timed(vocoder, "synthesize", "synthesis (vocoder)"), timed(f0, "periodicity", "periodicity"),
                timed(synthesis, "level_gains", "level gains (raised frames)"),
                timed(f0, "settle_on_peaks", "settle_on_peaks (all of it)"),
                timed(domain.WorldDomain, "analyze", "analysis"), timed(domain.WorldDomain, "synthesize", "synthesis")]
    def in_world(chain: vcfx.Chain) -> vcfx.Chain:
        chain.engine = "world"
        return chain

    tasks = {
        "pitch_shift +4": lambda: in_world(vcfx.Chain([vcfx.effect("pitch_shift", semitones=4)])),
        "voice_changer": lambda: in_world(vcfx.preset("voice_changer", pitch=1.2, pitch_var=0.5, tempo=0.7,
                                                      change=False, noise=0.01, reverb=False, seed=0)),
    }
    print("CPU seconds per second of audio, one thread (share of the whole run)\n")
    try:
        for rate in (22050, 44100):
            voice = vcfx.load(path, sample_rate=rate, mono=True) if path.is_file() else vcfx.example_voice()
            for task, make in tasks.items():
                fx = make()
                with single_threaded():
                    fx(voice)
                    spent.clear()
                    start = time.thread_time()
                    for _ in range(repeat):
                        fx(voice)
                    total = (time.thread_time() - start) / repeat
                per = {k: v / repeat for k, v in spent.items()}
                own = ("cheaptrick", "d4c", "synthesis (vocoder)", "periodicity", "level gains (raised frames)")  # vcfx's StoneMask counts as "stonemask"
                stages = sum(per.get(n, 0.0) for n in (*WORLD_STAGES, *own))
                per["vcfx's own work (the rest)"] = total - stages
                print(f"{task}, {voice.sample_rate} Hz, {voice.duration_s:.2f} s: "
                      f"{total / voice.duration_s:.4f} s per s")
                for label, t in per.items():
                    if label not in ("analysis", "synthesis") and t > 0:
                        print(f"  {label:<28} {t / voice.duration_s:8.4f}  {100 * t / total:5.1f} %")
                print()
    finally:
        for owner, name, real in patched:
            setattr(owner, name, real)
    return 0


def world_against_pyworld(path, repeat):
    """vcfx's CheapTrick, D4C and synthesis against pyworld's, on one thread and two, per second of audio."""
    from concurrent.futures import ThreadPoolExecutor

    from vcfx_world import cheaptrick, d4c, vocoder
    from vcfx_world.analysis import batches

    print(f"vcfx's WORLD stages against pyworld's on the same frames of {ENGINE_SECONDS:g} s of speech, "
          f"in turns, best of {repeat}\n")
    print(f"{'rate':<7} {'stage':<12} {'threads':>7} {'pyworld':>9} {'vcfx':>9} {'speed-up':>9}")
    print("-" * 58)
    for rate in (22050, 44100):
        voice = vcfx.load(path, sample_rate=rate, mono=True) if path.is_file() else vcfx.example_voice().resample(rate)
        reps = int(np.ceil(ENGINE_SECONDS * rate / voice.frames))
        x = np.ascontiguousarray(np.tile(voice.samples[0], reps)[: int(ENGINE_SECONDS * rate)], dtype=np.float64)
        f0, t = pyworld.dio(x, rate, f0_floor=71.0, f0_ceil=800.0, frame_period=5.0)
        f0 = pyworld.stonemask(x, f0, t, rate)
        size = cheaptrick.fft_size(rate, 71.0)
        blocks = [slice(a, a + 200) for a in range(0, len(f0), 200)]  # 1 s of 5 ms frames
        voiced = [(np.ascontiguousarray(f0[b][f0[b] > 0]), np.ascontiguousarray(t[b][f0[b] > 0])) for b in blocks]
        sp = pyworld.cheaptrick(x, f0, t, rate, fft_size=size)
        ap = pyworld.d4c(x, f0, t, rate, fft_size=size, threshold=-np.inf)
        # vcfx's analysis runs full batches of frames of similar f0 (vcfx_world.analysis.batches)
        every = batches(np.arange(len(f0)), np.where(f0 > 0, f0, cheaptrick.DEFAULT_F0_HZ))
        on_voiced = [(f0[b], t[b]) for b in batches(np.flatnonzero(f0 > 0), f0)]
        stages = {
            "cheaptrick": (lambda b: pyworld.cheaptrick(x, f0[b], t[b], rate, fft_size=size), blocks,
                           lambda b: cheaptrick.spectral_envelope(x, f0[b], t[b], rate, size), every),
            "d4c": (lambda v: pyworld.d4c(x, *v, rate, fft_size=size, threshold=-np.inf),
                    [v for v in voiced if len(v[0])], lambda v: d4c.aperiodicity(x, *v, rate, size), on_voiced),
        }
        for stage, (theirs, their_jobs, ours, our_jobs) in stages.items():
            for threads in (1, 2):
                with ThreadPoolExecutor(threads) as pool:
                    def run(fn, jobs, pool=pool):
                        return lambda: list(pool.map(fn, jobs))

                    best = best_of_each([run(theirs, their_jobs), run(ours, our_jobs)], repeat)
                print(f"{rate:<7} {stage:<12} {threads:>7} {best[0] / ENGINE_SECONDS:9.4f} "
                      f"{best[1] / ENGINE_SECONDS:9.4f} {best[0] / best[1]:8.2f}x")
        best = best_of_each([lambda: pyworld.synthesize(f0, sp, ap, rate, frame_period=5.0),
                             lambda: vocoder.synthesize(f0, sp, ap, rate, 5.0)], repeat)
        print(f"{rate:<7} {'synthesis':<12} {1:>7} {best[0] / ENGINE_SECONDS:9.4f} {best[1] / ENGINE_SECONDS:9.4f} "
              f"{best[0] / best[1]:8.2f}x")
    print("\nspeed-up: pyworld's time / vcfx's time (above 1 is faster than pyworld); "
          "two threads run pyworld's blocks of 1 s, and vcfx's batches of 128 frames, side by side.")
    return 0


def _print_pitch_accuracy(voice, outputs, semitones=1.2, spread=0.5, tempo=0.7):
    print(f"\nvoice_changer pitch accuracy, judged by Praat on frames voiced before and after "
          f"(target: mean log-f0 {100 * semitones:+.0f} cents, spread x{spread:.2f}):")
    for impl, out in outputs.items():
        # Praat's default floor on the input, below WORLD's 71 Hz on the output (as benchmarks/quality.py)
        m = log_f0_spread(voice, out, time_scale=1 / tempo, floor=75.0, after_floor=60.0, ceiling=700.0)
        print(f"  {impl:<16} mean {m['mean_cents']:+7.1f} cents (off by {abs(m['mean_cents'] - 100 * semitones):5.1f})"
              f"   spread x{m['std_ratio']:.3f} (off by {abs(m['std_ratio'] - spread):.3f})   {m['frames']} frames")


def _pedalboard_convolution(x, ir):
    return pedalboard.Convolution(ir[np.newaxis], sample_rate=SR)(x, SR)


def _direct_noise_reverb(x, ir, rng, wet):
    """The same arithmetic as vcfx's noise and reverb effects, written out by hand."""
    power = np.mean(np.square(x, dtype=np.float64))
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    noise *= np.float32(np.sqrt(power / 100 / np.mean(np.square(noise, dtype=np.float64))))  # exactly 20 dB SNR
    y = x + noise
    out = wet * scipy.signal.fftconvolve(y, ir)
    out[: len(y)] += (1 - wet) * y
    peak_in, peak_out = np.abs(y).max(), np.abs(out).max()
    if peak_out > peak_in:  # reverb's default: never louder at the peak than its input
        out *= peak_in / peak_out
    return out


ENGINE_SECONDS = 30.0
ENGINE_PEERS = {"vcfx PSOLA": "Praat Change gender", "vcfx WORLD": "pedalboard R3 (formants kept)"}
"""Each vcfx engine's speed-up is over the peer of its kind: PSOLA against PSOLA, formant-keeping against R3."""


def _print_engine_speed(path, repeat):
    """RTF of every pitch engine on 30 s of the voice at 22.05 and 44.1 kHz, in turns (as benchmarks/engines.py)."""
    import engines

    found = engines.engines()
    print(f"\npitch_shift +4 over {ENGINE_SECONDS:g} s of speech, the engines taking turns, best of {repeat}:")
    print(f"{'rate':<8} {'engine':<32} {'RTF':>8} {'speed-up':>28}")
    print("-" * 79)
    for rate in (22050, 44100):
        voice = vcfx.load(path, sample_rate=rate, mono=True) if path.is_file() else vcfx.example_voice().resample(rate)
        reps = int(np.ceil(ENGINE_SECONDS * rate / voice.frames))
        voice = vcfx.Audio(np.tile(voice.samples, (1, reps))[:, : int(ENGINE_SECONDS * rate)], rate)
        rtf = {name: r for name, (_, r) in engines._run_all(found, voice, 4.0, repeat).items()}
        for name, r in rtf.items():
            peer = ENGINE_PEERS.get(name)
            versus = f"{rtf[peer] / r:.2f}x {peer.split(' (')[0]}" if peer in rtf else ""
            print(f"{rate:<8} {name:<32} {r:8.4f} {versus:>28}")
    print("\nspeed-up: the peer's time / the engine's time (above 1 is faster than the peer).")


def _engine_label(*effects) -> str:
    """The engine a chain of ``effects`` runs its first run in when it chooses none: "PSOLA" or "WORLD"."""
    return vcfx.chain.plan(list(effects))[0][0].upper()


def _print(rows, seconds):
    best = {(task, impl): t for task, impl, t, _ in rows}
    print(f"{'task':<16} {'implementation':<38} {'RTF':>8} {'vs baseline':>12}")
    print("-" * 77)
    for task, impl, t, base in rows:
        ratio = f"{best[(task, base)] / t:.2f}x" if base else ""
        print(f"{task:<16} {impl:<38} {t / seconds:8.4f} {ratio:>12}")
    print("\nvs baseline: baseline time / vcfx time (above 1 is faster than the baseline).")


if __name__ == "__main__":
    main()

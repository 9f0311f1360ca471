"""Chains run from several threads at once give the serial results, and many runs do not grow memory."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest

import vcfx
from vcfx.parallel import single_threaded

THREADS = 4


@pytest.fixture(scope="module")
def speech_like() -> vcfx.Audio:
    """Stereo, syllables with pauses between them, a moving pitch: 1 s at 22.05 kHz."""
    return vcfx.synthetic_voice(1.0, 22050, f0_hz=(140.0, 220.0, 160.0), channels=2, syllable_rate_hz=3.0).audio


CHAINS = {
    "pitch_shift+noise": lambda: vcfx.Chain.from_spec("pitch_shift=semitones=3,noise=snr_db=20", seed=7),
    "voice_changer": lambda: vcfx.preset("voice_changer", seed=3, reverb=True),
}


@pytest.mark.parametrize("name", CHAINS)
def test_threads_give_the_serial_results(name, speech_like):
    make = CHAINS[name]
    serial = make()(speech_like).samples.tobytes()
    shared = make()  # one chain object used by every thread, and fresh ones alongside

    def run(i: int) -> bytes:
        chain = shared if i % 2 else make()
        return chain(speech_like).samples.tobytes()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(run, range(2 * THREADS)))
    assert all(r == serial for r in results)
    assert make()(speech_like).samples.tobytes() == serial  # and nothing the threads did changed the next run


@pytest.mark.parametrize("rate", [8000, 11025, 22050])
def test_world_output_does_not_depend_on_what_ran_before(rate):
    """Below 15.8 kHz pyworld's D4C voicing check reads memory it never wrote; the domain skips that check."""
    hz = 159.7222350668813  # a steady tone whose last frames that check decided at random
    tone = vcfx.Audio(0.9 * np.sin(2 * np.pi * hz * np.arange(rate // 4) / rate)[np.newaxis, :], rate)
    chain = vcfx.Chain([vcfx.effect("formant_shift", ratio=1.0)], seed=0, options={"world": {"f0_ceil_hz": 250.0}})
    world = vcfx.domain("world")
    outputs = set()
    with single_threaded():  # all on one thread, whose heap keeps what the analyses in between left there
        for k in range(24):  # unrelated WORLD analyses in between, as other chains in the same program would run
            world.analyze(vcfx.synthetic_voice(0.05 + 0.01 * k, rate).audio, vcfx.Context.from_seed(0))
            outputs.add(chain(tone).samples.tobytes())
    assert len(outputs) == 1


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


@pytest.mark.slow
def test_500_runs_keep_memory_flat():
    """Every kind of backend in one short chain: WORLD, Rubber Band, soxr, noise, convolution, pedalboard."""
    audio = vcfx.synthetic_voice(0.2, 16000, f0_hz=(150.0, 200.0)).audio
    chain = vcfx.Chain.from_spec(
        "pitch_shift=semitones=2,tempo=rate=1.1,speed=rate=0.9,noise=snr_db=20,reverb=rt60_s=0.2,"
        "pedalboard=plugin=Chorus", seed=1)
    for _ in range(50):  # caches, thread pools and allocator arenas settle first
        chain(audio)
    start = rss_mb()
    samples = []
    for i in range(500):
        out = chain(audio, seed=i)
        if i % 100 == 99:
            samples.append(rss_mb() - start)
    assert out.frames == chain.expected_frames(audio.frames, audio.sample_rate)
    assert max(samples) < 50, f"resident memory grew by {samples} MB over 500 runs"

"""The judges themselves, on voices whose truth is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

import vcfx
from truth import DNSMOS_HIGHPASS_HZ, dnsmos_ovrl, level_change_db, shift_error, subharmonic_db, vowels_and_hiss

CONTOUR = (140.0, 220.0, 160.0)


def _voice(ratio: float = 1.0) -> vcfx.Audio:
    return vcfx.synthetic_voice(2.0, 22050, f0_hz=tuple(f * ratio for f in CONTOUR), syllable_rate_hz=3.0).audio


@pytest.mark.parametrize("semitones", [-12.0, 4.0])
def test_shift_error_is_small_for_an_exact_shift(semitones):
    # the same contour rendered moved by exactly `semitones`: Praat should find no error and lose no frame
    judged = shift_error(_voice(), _voice(2.0 ** (semitones / 12)), semitones)
    assert judged["frames"] > 100
    assert np.median(np.abs(judged["cents"])) < 3.0
    assert np.percentile(np.abs(judged["cents"]), 90) < 10.0
    assert judged["kept"] >= 0.95


def test_shift_error_sees_a_wrong_shift():
    # a shift of 4 semitones judged as if 3 (or 5) were intended: 100 cents sharp (or flat) on every frame
    moved = _voice(2.0 ** (4 / 12))
    assert np.median(shift_error(_voice(), moved, 3.0)["cents"]) == pytest.approx(100.0, abs=3.0)
    assert np.median(shift_error(_voice(), moved, 5.0)["cents"]) == pytest.approx(-100.0, abs=3.0)


def test_shift_error_counts_lost_voicing():
    # output silent in its second half: about half the voiced input frames are lost
    after = _voice()
    samples = after.samples.copy()
    samples[:, samples.shape[1] // 2:] = 0.0
    judged = shift_error(_voice(), vcfx.Audio(samples, after.sample_rate), 0.0)
    assert 0.4 <= judged["kept"] <= 0.6


def test_dnsmos_prefers_a_clean_voice_to_a_noisy_one():
    pytest.importorskip("speechmos")
    clean = vcfx.example_voice()
    noise = np.random.default_rng(0).normal(0.0, 0.1, clean.samples.shape).astype(np.float32)
    noisy = vcfx.Audio(np.clip(clean.samples + noise, -1, 1), clean.sample_rate)
    good, bad = dnsmos_ovrl(clean), dnsmos_ovrl(noisy)
    assert 1.0 <= bad < good <= 5.0
    assert good - bad > 0.5


def test_the_high_passed_dnsmos_does_not_hear_what_lies_below_50_hz():
    pytest.importorskip("speechmos")
    clean = vcfx.example_voice()
    t = np.arange(clean.frames) / clean.sample_rate
    rumble = (0.05 + 0.05 * np.sin(2 * np.pi * 8.0 * t)).astype(np.float32)  # an offset and an 8 Hz sway
    moved = vcfx.Audio(clean.samples + rumble, clean.sample_rate)
    assert dnsmos_ovrl(moved, DNSMOS_HIGHPASS_HZ) == pytest.approx(dnsmos_ovrl(clean, DNSMOS_HIGHPASS_HZ), abs=0.03)


def test_subharmonic_db_hears_a_cycle_repeated_every_other_period():
    t = np.arange(22050) / 22050
    tone = sum(np.sin(2 * np.pi * 300 * k * t) / k for k in range(1, 8))
    clean = vcfx.Audio(tone[np.newaxis].astype(np.float32), 22050)
    with_half = vcfx.Audio((tone + 0.1 * np.sin(2 * np.pi * 150 * t))[np.newaxis].astype(np.float32), 22050)
    assert subharmonic_db(clean, 300.0) < -60.0
    # 0.1 against harmonics of 1, 1/2 ... 1/7: 10 log10(0.01 / 1.51) = -21.8 dB
    assert subharmonic_db(with_half, 300.0) == pytest.approx(-21.8, abs=0.5)


def test_vowels_and_hiss_are_what_they_say_and_level_change_measures_them():
    audio, spans = vowels_and_hiss(16000, pairs=2)
    x = audio.samples[0]
    assert [len(spans[k]) for k in ("noise", "vowel")] == [2, 2]
    assert spans["noise"][0] == (0, 3200) and spans["vowel"][-1][1] == audio.frames
    margin = 800
    vowel, noise = (np.mean(np.square(x[a:b], dtype=np.float64)) for a, b in (spans["vowel"][0], spans["noise"][0]))
    assert 10 * np.log10(noise / vowel) == pytest.approx(-12.04, abs=0.01)
    assert level_change_db(x, 2.0 * x, spans["noise"][1], margin) == pytest.approx(6.02, abs=0.01)
    assert level_change_db(x, x, spans["vowel"][0], margin) == 0.0

import numpy as np
import pytest

import vcfx
from truth import aligned_cents, cents


def test_speed_matches_truth_on_synthetic_voice(voice):
    out = vcfx.effect("speed", rate=1.25)(voice.audio)
    # duration = length / 1.25 within 0.1 % (it is exact: round(frames / rate))
    assert out.frames == pytest.approx(voice.audio.frames / 1.25, rel=1e-3)
    assert out.frames == round(voice.audio.frames / 1.25)
    assert out.sample_rate == voice.audio.sample_rate
    measured = aligned_cents(voice.audio, out, 1 / 1.25)
    assert len(measured) > 150
    # pitch up by 1200 * log2(1.25) = 386.3 cents, within 5 cents
    assert np.median(measured) == pytest.approx(cents(1.25), abs=5.0)


def test_speed_on_real_speech(speech_path):
    speech = vcfx.load(speech_path)
    out = vcfx.effect("speed", rate=1.25)(speech)
    assert out.channels == 2 and out.sample_rate == 44100
    assert out.frames == pytest.approx(speech.frames / 1.25, rel=1e-3)
    measured = aligned_cents(speech, out, 1 / 1.25, floor=100.0, ceiling=700.0)
    assert len(measured) > 100
    assert np.median(measured) == pytest.approx(cents(1.25), abs=5.0)


@pytest.mark.parametrize("rate", [0.25, 0.8, 4.0])
def test_speed_moves_a_tone_by_the_rate(rate):
    sr = 22050
    t = np.arange(sr) / sr
    tone = vcfx.Audio(0.5 * np.sin(2 * np.pi * 440.0 * t)[np.newaxis], sr)
    out = vcfx.effect("speed", rate=rate)(tone)
    spectrum = np.abs(np.fft.rfft(out.samples[0] * np.hanning(out.frames), 8 * out.frames))
    peak_hz = np.argmax(spectrum) * sr / (8 * out.frames)
    assert peak_hz == pytest.approx(440.0 * rate, rel=2e-3)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_speed_contract(sample_rate, channels):
    audio = vcfx.synthetic_voice(0.5, sample_rate, f0_hz=150.0, channels=channels).audio
    for rate in (0.5, 1.5):
        out = vcfx.effect("speed", rate=rate)(audio)
        assert out.samples.dtype == np.float32 and out.sample_rate == sample_rate
        assert out.channels == channels and np.isfinite(out.samples).all()
        assert out.frames == round(audio.frames / rate)
    silence = vcfx.Audio(np.zeros((channels, audio.frames)), sample_rate)
    out = vcfx.effect("speed", rate=1.5)(silence)
    assert out.frames == round(silence.frames / 1.5) and not out.samples.any()


@pytest.mark.parametrize("frames", [1, 2, 10])
@pytest.mark.parametrize("rate", [0.25, 4.0])
def test_speed_on_tiny_inputs(frames, rate):
    out = vcfx.effect("speed", rate=rate)(vcfx.Audio(np.full((1, frames), 0.25), 16000))
    assert out.frames == max(1, round(frames / rate)) and np.isfinite(out.samples).all()


def test_rate_one_is_identity_and_range_is_checked(voice):
    assert vcfx.effect("speed")(voice.audio) == voice.audio
    with pytest.raises(vcfx.ParameterError, match=r"rate=0.1 is outside \[0.25, 4\]"):
        vcfx.effect("speed", rate=0.1)

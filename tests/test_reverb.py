from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import vcfx
from vcfx_reverb import file_ir, synthetic_ir


def impulse(frames: int, sample_rate: int, channels: int = 1) -> vcfx.Audio:
    x = np.zeros((channels, frames))
    x[:, 0] = 0.5
    return vcfx.Audio(x, sample_rate)


def write_ir(path, samples: np.ndarray, sample_rate: int) -> str:
    sf.write(str(path), np.atleast_2d(samples).T, sample_rate, subtype="FLOAT")
    return str(path)


def test_real_ir_on_real_speech_just_works(speech_path, reverb_path):
    speech = vcfx.load(speech_path)  # 44.1 kHz stereo; the IR is 96 kHz mono
    assert speech.sample_rate != vcfx.load(reverb_path).sample_rate
    out = vcfx.effect("reverb", ir=str(reverb_path))(speech)
    ir_frames = round(2.0 * 44100)  # the 2 s IR at the voice's rate
    assert out.sample_rate == 44100 and out.channels == 2
    assert out.frames == speech.frames + ir_frames - 1
    assert np.isfinite(out.samples).all()
    # defaults (keep_peak=True): never above the input's peak, so below 1.0 when the input is
    peak_in = np.abs(speech.samples).max()
    assert peak_in < 1.0 and np.abs(out.samples).max() <= peak_in < 1.0
    # the tail is there: the last second after the voice still carries the room
    tail = out.samples[:, speech.frames : speech.frames + 44100]
    assert np.sqrt(np.mean(tail**2)) > 1e-4


def test_impulse_in_gives_the_normalised_ir_out():
    sr = 16000
    rev = vcfx.effect("reverb", rt60_s=0.3, wet=1.0, keep_peak=False)
    out = rev(impulse(100, sr))
    h = out.samples[0].astype(np.float64) / 0.5
    assert np.sum(h**2) == pytest.approx(1.0, rel=1e-4)  # unit energy
    ref = synthetic_ir(0.3, sr)[0]
    np.testing.assert_allclose(h[: ref.size], ref / np.sqrt(np.sum(ref**2)), atol=1e-6)


def test_dry_wet_mix_and_predelay():
    sr = 16000
    out = vcfx.effect("reverb", rt60_s=0.2, wet=0.25, predelay_ms=50.0, keep_peak=False)(impulse(10, sr))
    y = out.samples[0] / 0.5
    delay = round(0.05 * sr)
    assert out.frames == 10 + delay + round(0.2 * sr) - 1
    assert y[0] == pytest.approx(0.75, abs=1e-6)  # dry, (1 - wet)
    assert np.abs(y[1:delay]).max() < 1e-6  # nothing before the pre-delay
    assert np.sum(y[delay:] ** 2) == pytest.approx(0.25**2, rel=1e-3)  # wet part: wet**2 * unit energy


@pytest.mark.parametrize("rt60_s", [0.3, 1.0])
def test_synthetic_room_decays_at_its_rt60(rt60_s):
    sr = 16000
    h = synthetic_ir(rt60_s, sr)[0]
    edc = np.cumsum(h[::-1] ** 2)[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    t = np.arange(h.size) / sr
    fit = (edc_db < -5) & (edc_db > -35)
    slope = np.polyfit(t[fit], edc_db[fit], 1)[0]  # Schroeder T30
    # measured decay time within 10 % of the request
    assert -60.0 / slope == pytest.approx(rt60_s, rel=0.1)


def test_synthetic_room_is_fixed_whatever_the_seed(voice):
    rev = vcfx.effect("reverb", rt60_s=0.5)
    assert rev(voice.audio, seed=1) == rev(voice.audio, seed=2)


def test_ir_file_is_resampled_to_the_voice(tmp_path):
    ir = np.zeros(19200)
    ir[9600] = 1.0  # a single reflection 0.1 s after the start, at 96 kHz
    path = write_ir(tmp_path / "click.wav", ir, 96000)
    out = vcfx.effect("reverb", ir=path, wet=1.0, keep_peak=False)(impulse(100, 22050))
    assert out.frames == 100 + round(19200 * 22050 / 96000) - 1
    assert np.argmax(np.abs(out.samples[0])) == round(0.1 * 22050)


def test_ir_channels_match_the_voice_or_are_mixed(tmp_path):
    left, right = np.zeros(800), np.zeros(800)
    left[100], right[300] = 1.0, 1.0
    stereo_ir = write_ir(tmp_path / "stereo.wav", np.stack([left, right]), 16000)
    rev = vcfx.effect("reverb", ir=stereo_ir, wet=1.0, keep_peak=False)
    out = rev(impulse(10, 16000, channels=2))
    assert np.argmax(np.abs(out.samples[0])) == 100 and np.argmax(np.abs(out.samples[1])) == 300
    mono = rev(impulse(10, 16000)).samples[0] / 0.5
    # mixed to mono: both reflections, renormalised to unit energy
    assert mono[100] == pytest.approx(np.sqrt(0.5), abs=1e-6) and mono[300] == pytest.approx(np.sqrt(0.5), abs=1e-6)


def test_missing_or_bad_ir_file_names_the_path(tmp_path):
    missing = str(tmp_path / "no-such-room.wav")
    with pytest.raises(vcfx.ParameterError, match="no-such-room.wav.*no such file"):
        vcfx.effect("reverb", ir=missing)
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    with pytest.raises(vcfx.ParameterError, match="junk.wav"):
        vcfx.Chain.from_spec(f"reverb=ir={junk}")
    silent = write_ir(tmp_path / "silent.wav", np.zeros(100), 16000)
    with pytest.raises(vcfx.ParameterError, match="silent.wav.*is silent"):
        vcfx.effect("reverb", ir=silent)
    rev = vcfx.effect("reverb")
    with pytest.raises(vcfx.ParameterError, match="no-such-room.wav.*no such file"):
        rev.ir = missing  # an assignment is checked as construction is, and undone when refused
    assert rev.ir is None and rev == vcfx.effect("reverb")
    gone = write_ir(tmp_path / "gone.wav", np.exp(-np.arange(800) / 100.0), 16000)
    rev.ir = gone
    Path(gone).unlink()  # removed after the check: the run names the file
    with pytest.raises(vcfx.VcfxError, match="gone.wav"):
        rev(impulse(10, 16000))


def test_ir_is_cached_per_file_and_rate(tmp_path):
    path = write_ir(tmp_path / "room.wav", np.exp(-np.arange(4800) / 500.0), 48000)
    assert file_ir(path, 16000) is file_ir(path, 16000)
    assert file_ir(path, 22050).shape[1] == round(4800 * 22050 / 48000)
    write_ir(tmp_path / "room.wav", np.exp(-np.arange(9600) / 500.0), 48000)  # changed on disk
    assert file_ir(path, 16000).shape[1] == 3200


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_reverb_contract(sample_rate, channels):
    audio = vcfx.synthetic_voice(0.5, sample_rate, f0_hz=150.0, channels=channels, peak=0.99).audio
    rev = vcfx.effect("reverb", rt60_s=0.4, predelay_ms=10.0)
    out = rev(audio)
    assert out.samples.dtype == np.float32 and out.sample_rate == sample_rate
    assert out.channels == channels and np.isfinite(out.samples).all()
    assert out.frames == audio.frames + round(0.4 * sample_rate) + round(0.01 * sample_rate) - 1
    assert np.abs(out.samples).max() <= np.abs(audio.samples).max()
    silence = vcfx.Audio(np.zeros((channels, audio.frames)), sample_rate)
    out = rev(silence)
    assert out.frames == audio.frames + round(0.4 * sample_rate) + round(0.01 * sample_rate) - 1
    assert not out.samples.any()


def test_parameters_round_trip():
    spec = "reverb=rt60_s=1.2:predelay_ms=20:wet=0.5:keep_peak=false"
    assert vcfx.Chain.from_spec(spec).to_spec() == spec
    with pytest.raises(vcfx.ParameterError, match=r"wet=1.5 is outside \[0, 1\]"):
        vcfx.effect("reverb", wet=1.5)


def test_random_parameters(voice, tmp_path):
    room = write_ir(tmp_path / "room.wav", np.exp(-np.arange(4800) / 500.0), 48000)
    chain = vcfx.Chain.from_spec(f"reverb=ir=choice({room},{room}):wet=uniform(0.1,0.9)", seed=2)
    out = chain(voice.audio)
    assert out.frames == voice.audio.frames + round(4800 * 22050 / 48000) - 1
    assert chain.resolve()(voice.audio) == out

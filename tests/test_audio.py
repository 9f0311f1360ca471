import numpy as np
import pytest
import soundfile as sf

import vcfx
from vcfx import Audio, AudioError


def test_from_array_layouts():
    mono = Audio.from_array(np.zeros(100), 16000)
    assert mono.samples.shape == (1, 100) and mono.samples.dtype == np.float32
    cf = Audio.from_array(np.ones((2, 100)), 16000)
    assert cf.channels == 2 and cf.frames == 100
    frames_first = np.stack([np.linspace(0, 1, 100), np.zeros(100)], axis=1)
    cl = Audio.from_array(frames_first, 16000, layout="channels_last")
    assert cl.channels == 2 and cl.frames == 100
    np.testing.assert_allclose(cl.samples[0], np.linspace(0, 1, 100), rtol=1e-6)


@pytest.mark.parametrize(
    "array, rate, phrase",
    [
        (np.zeros((2, 2)), 16000, "ambiguous"),
        (np.zeros((100, 2)), 16000, "layout='channels_last'"),
        (np.zeros(0), 16000, "empty"),
        (np.array([0.0, np.nan, 0.1]), 16000, "non-finite"),
        (np.array([0.0, np.inf]), 16000, "non-finite"),
        (np.zeros(100, dtype=np.int16), 16000, "floating point"),
        (np.zeros((1, 2, 100)), 16000, "1-D"),
        (np.zeros(100), 0, "sample_rate=0"),
        (np.zeros(100), -44100, "outside"),
        (np.zeros(100), 22050.5, "whole number"),
        (np.zeros(100), "44100", "not a number"),
    ],
)
def test_bad_arrays(array, rate, phrase):
    with pytest.raises(AudioError, match=phrase.replace("(", r"\(").replace("'", "'")):
        Audio.from_array(array, rate)


def test_audio_is_immutable_and_copies_input():
    x = np.zeros((1, 10), dtype=np.float32)
    a = Audio(x, 16000)
    x[0, 0] = 1.0
    assert a.samples[0, 0] == 0.0
    with pytest.raises(ValueError):
        a.samples[0, 0] = 1.0


def test_save_load_roundtrip(tmp_path):
    a = Audio.from_array(np.linspace(-0.5, 0.5, 1000), 22050)
    path = a.save(tmp_path / "x.flac")
    b = vcfx.load(path)
    assert b.sample_rate == 22050 and b.frames == 1000
    np.testing.assert_allclose(b.samples, a.samples, atol=1 / 2**15)
    assert [p.name for p in tmp_path.iterdir()] == ["x.flac"]


def test_save_refuses_to_clip_pcm(tmp_path):
    a = Audio.from_array(np.array([0.0, 1.5, -2.0, 0.5] * 10), 16000)
    with pytest.raises(AudioError, match="20 samples would clip in PCM_16"):
        a.save(tmp_path / "x.wav", subtype="PCM_16")
    assert list(tmp_path.iterdir()) == []
    a.save(tmp_path / "x.wav", subtype="FLOAT")
    assert vcfx.load(tmp_path / "x.wav").samples.max() == pytest.approx(1.5)


def test_save_errors(tmp_path):
    a = Audio.from_array(np.zeros(100), 16000)
    with pytest.raises(AudioError, match='unknown audio extension ".xyz"'):
        a.save(tmp_path / "x.xyz")
    with pytest.raises(AudioError, match="does not exist"):
        a.save(tmp_path / "missing" / "x.wav")
    with pytest.raises(AudioError, match="subtype='PCM_99' is not available"):
        a.save(tmp_path / "x.wav", subtype="pcm_99")


def test_load_errors(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        vcfx.load(tmp_path / "nope.wav")
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio\n")
    with pytest.raises(AudioError, match="cannot read .*notes.wav as audio"):
        vcfx.load(fake)


def test_load_truncated_wav(tmp_path):
    path = tmp_path / "full.wav"
    sf.write(path, np.zeros(8000), 16000, subtype="PCM_16")
    data = path.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated"):
        vcfx.load(cut)


def test_load_resamples_and_mixes(tmp_path):
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "s.wav", stereo, 44100, subtype="FLOAT")
    a = vcfx.load(tmp_path / "s.wav", sample_rate=22050, mono=True)
    assert a.channels == 1 and a.sample_rate == 22050 and a.frames == 22050
    spectrum = np.abs(np.fft.rfft(a.samples[0]))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_real_recording_is_stereo(speech_path):
    a = vcfx.load(speech_path)
    assert (a.channels, a.sample_rate) == (2, 44100)
    assert a.duration_s == pytest.approx(3.53, abs=0.01)


def test_example_voice():
    a = vcfx.example_voice()
    assert a.sample_rate == 22050 and a.channels == 1 and 3.0 < a.duration_s < 6.0


def test_saving_the_same_audio_gives_the_same_bytes(tmp_path):
    import time

    a = Audio.from_array(np.linspace(-0.5, 0.5, 1000), 22050)
    first = a.save(tmp_path / "a.wav", subtype="FLOAT").read_bytes()
    time.sleep(1.1)  # a time stamp in the file would change now
    assert a.save(tmp_path / "b.wav", subtype="FLOAT").read_bytes() == first

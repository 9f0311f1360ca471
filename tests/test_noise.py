import numpy as np
import pytest
from scipy import signal

import vcfx


def snr_db(clean: vcfx.Audio, noisy: vcfx.Audio) -> float:
    x = clean.samples.astype(np.float64)
    n = noisy.samples.astype(np.float64) - x
    return 10.0 * np.log10(np.mean(x**2) / np.mean(n**2))


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_snr_is_exact(voice, stereo_voice, color):
    for audio in (voice.audio, stereo_voice):
        out = vcfx.effect("noise", snr_db=20, color=color)(audio, seed=0)
        # the noise is scaled to the realised power, so the SNR is exact up to float32 rounding
        assert snr_db(audio, out) == pytest.approx(20.0, abs=0.1)


def test_snr_on_real_speech(speech_path):
    speech = vcfx.load(speech_path)
    out = vcfx.effect("noise", snr_db=20)(speech, seed=0)
    assert snr_db(speech, out) == pytest.approx(20.0, abs=0.1)
    noise = out.samples.astype(np.float64) - speech.samples
    # every channel gets its own noise of the same power
    assert np.corrcoef(noise)[0, 1] == pytest.approx(0.0, abs=0.02)
    assert np.mean(noise[0] ** 2) == pytest.approx(np.mean(noise[1] ** 2), rel=1e-3)


def test_default_is_20_db(voice):
    noise = vcfx.effect("noise")
    assert noise.snr_db is None and noise.amount is None
    assert snr_db(voice.audio, noise(voice.audio, seed=1)) == pytest.approx(20.0, abs=0.1)


def test_amount_is_the_noise_standard_deviation(voice):
    out = vcfx.effect("noise", amount=0.01)(voice.audio, seed=0)
    added = out.samples.astype(np.float64) - voice.audio.samples
    assert np.sqrt(np.mean(added**2)) == pytest.approx(0.01, rel=1e-3)


def test_same_seed_same_noise_other_seed_other_noise(voice):
    chain = vcfx.Chain([vcfx.effect("noise", snr_db=10)], seed=7)
    assert chain(voice.audio) == chain(voice.audio)
    assert chain(voice.audio) != chain(voice.audio, seed=8)
    a = vcfx.effect("noise", amount=0.1, color="pink")(voice.audio, seed=3)
    b = vcfx.effect("noise", amount=0.1, color="pink")(voice.audio, seed=3)
    c = vcfx.effect("noise", amount=0.1, color="pink")(voice.audio, seed=4)
    assert a == b and a != c


@pytest.mark.parametrize("color, slope", [("white", 0.0), ("pink", -3.01), ("brown", -6.02)])
def test_colors_have_their_spectral_slope(color, slope):
    sr = 22050
    silence = vcfx.Audio(np.zeros((1, 10 * sr)), sr)
    out = vcfx.effect("noise", amount=0.1, color=color)(silence, seed=0)
    freqs, power = signal.welch(out.samples[0].astype(np.float64), sr, nperseg=8192)
    band = (freqs > 100) & (freqs < 8000)
    fitted = np.polyfit(np.log2(freqs[band]), 10 * np.log10(power[band]), 1)[0]
    # dB per octave of a Welch estimate over 100 Hz - 8 kHz, within 0.3 dB/octave
    assert fitted == pytest.approx(slope, abs=0.3)


def test_both_or_bad_parameters_are_errors():
    with pytest.raises(vcfx.ParameterError, match="snr_db or amount, not both"):
        vcfx.effect("noise", snr_db=20, amount=0.01)
    with pytest.raises(vcfx.ParameterError, match="color='blue' is not one of white, pink, brown"):
        vcfx.effect("noise", color="blue")
    assert vcfx.Chain.from_spec("noise=amount=0.01:color=pink").to_spec() == "noise=amount=0.01:color=pink"


def test_an_assignment_that_breaks_the_either_or_rule_is_refused_and_undone(voice):
    noise = vcfx.effect("noise", snr_db=10)
    with pytest.raises(vcfx.ParameterError, match=r"snr_db or amount, not both \(snr_db=10.0, amount=0.1\)"):
        noise.amount = 0.1
    assert noise.amount is None and noise.to_dict() == vcfx.effect("noise", snr_db=10).to_dict()
    assert noise(voice.audio, seed=1) == vcfx.effect("noise", snr_db=10)(voice.audio, seed=1)
    noise.snr_db = None  # one at a time, through valid states, switches to an absolute level
    noise.amount = 0.1
    assert noise == vcfx.effect("noise", amount=0.1)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_noise_contract(sample_rate, channels):
    audio = vcfx.synthetic_voice(0.5, sample_rate, f0_hz=150.0, channels=channels).audio
    for color in ("white", "pink", "brown"):
        out = vcfx.effect("noise", snr_db=10, color=color)(audio, seed=0)
        assert out.samples.dtype == np.float32 and out.sample_rate == sample_rate
        assert out.channels == channels and out.frames == audio.frames
        assert np.isfinite(out.samples).all()
        assert snr_db(audio, out) == pytest.approx(10.0, abs=0.1)
    silence = vcfx.Audio(np.zeros((channels, audio.frames)), sample_rate)
    out = vcfx.effect("noise")(silence, seed=0)  # no SNR of silence: silence out
    assert out == silence
    out = vcfx.effect("noise", amount=0.01)(silence, seed=0)  # an absolute level is added anyway
    assert np.isfinite(out.samples).all() and out.samples.std() == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_a_single_frame(color):
    out = vcfx.effect("noise", amount=0.5, color=color)(vcfx.Audio(np.zeros((2, 1)), 16000), seed=0)
    assert out.frames == 1 and np.isfinite(out.samples).all()


def test_random_snr_is_drawn_from_the_seed(voice):
    chain = vcfx.Chain.from_spec("noise=snr_db=uniform(5,30):color=choice(white,pink)", seed=4)
    out = chain(voice.audio)
    drawn = chain.resolve()[0]
    assert snr_db(voice.audio, out) == pytest.approx(drawn.snr_db, abs=0.1)

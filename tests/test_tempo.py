import numpy as np
import pytest

import vcfx
from spies import Counter
from vcfx.chain import plan
from truth import aligned_cents


def tempo_chain(rate: float, path: str) -> vcfx.Chain:
    """tempo alone (Rubber Band) or after a neutral WORLD effect (WORLD frames)."""
    if path == "waveform":
        return vcfx.Chain([vcfx.effect("tempo", rate=rate)])
    return vcfx.Chain([vcfx.effect("pitch_shift", semitones=0), vcfx.effect("tempo", rate=rate)], engine="world")


@pytest.mark.parametrize("path", ["waveform", "world"])
def test_planner_picks_the_domain_that_avoids_a_conversion(path):
    assert [d for d, _ in plan(tempo_chain(0.7, path))] == [path]


@pytest.mark.parametrize("path", ["waveform", "world"])
@pytest.mark.parametrize("rate", [0.7, 1.3])
def test_tempo_keeps_pitch_on_synthetic_voice(voice, rate, path):
    out = tempo_chain(rate, path)(voice.audio)
    # duration within 0.1 % of length / rate (it is exact: round(frames / rate))
    assert out.frames == pytest.approx(voice.audio.frames / rate, rel=1e-3)
    assert out.frames == round(voice.audio.frames / rate)
    measured = aligned_cents(voice.audio, out, 1 / rate)
    assert len(measured) > 150
    # median f0 change within 5 cents on time-aligned frames
    assert abs(np.median(measured)) < 5.0


@pytest.mark.slow
@pytest.mark.parametrize("path", ["waveform", "world"])
@pytest.mark.parametrize("rate", [0.7, 1.3])
def test_tempo_keeps_pitch_on_real_speech(speech_path, rate, path):
    speech = vcfx.load(speech_path)
    out = tempo_chain(rate, path)(speech)
    assert out.channels == 2
    assert out.frames == pytest.approx(speech.frames / rate, rel=1e-3)
    measured = aligned_cents(speech, out, 1 / rate, floor=100.0, ceiling=700.0)
    assert len(measured) > 100
    assert abs(np.median(measured)) < 5.0


def test_world_tempo_keeps_voicing_boundaries_sharp():
    """Next to an unvoiced frame f0 is copied from the nearer frame, never blended with 0 Hz."""
    from vcfx_world import WorldFeatures

    f0 = np.array([0.0, 0.0, 200.0, 200.0, 400.0, 0.0, 0.0])
    bins = 5
    feat = WorldFeatures(f0, np.ones((7, bins)), np.full((7, bins), 0.5))
    out = feat.resampled(np.arange(25) * 0.25)  # as tempo=rate=0.25 does
    voiced = out.f0 > 0
    # input frames 2..4 are voiced; output frame j reads input frame j / 4
    assert np.flatnonzero(voiced).tolist() == list(range(6, 18))
    assert out.f0[voiced].min() == pytest.approx(200.0) and out.f0[voiced].max() == pytest.approx(400.0)
    # between the two voiced frames the glide is geometric: 200 -> 400 Hz passes 2**0.5 * 200 halfway
    assert out.f0[14] == pytest.approx(200.0 * np.sqrt(2.0))
    assert out.spectral_envelope.shape == (25, bins) and out.aperiodicity.shape == (25, bins)


def test_pitch_shift_then_tempo_analyses_and_synthesises_once(monkeypatch, stereo_voice):
    spy = Counter(monkeypatch, "dio", "harvest", "cheaptrick", "d4c", "synthesize")
    chain = vcfx.Chain.from_spec("pitch_shift=semitones=3,tempo=rate=0.8")
    chain.engine = "world"
    assert [d for d, _ in plan(chain)] == ["world"]
    out = chain(stereo_voice)
    assert spy.analysed_once(stereo_voice)
    assert spy.calls["dio"] == spy.calls["synthesize"] == 2 and spy.calls["harvest"] == 0
    assert out.frames == round(stereo_voice.frames / 0.8)
    assert np.median(aligned_cents(stereo_voice, out, 1 / 0.8)) == pytest.approx(300.0, abs=5.0)


@pytest.mark.parametrize("path", ["waveform", "world"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_tempo_contract(sample_rate, channels, path):
    audio = vcfx.synthetic_voice(0.5, sample_rate, f0_hz=150.0, channels=channels).audio
    for rate in (0.5, 1.5):
        out = tempo_chain(rate, path)(audio)
        assert out.samples.dtype == np.float32 and out.sample_rate == sample_rate
        assert out.channels == channels and np.isfinite(out.samples).all()
        assert out.frames == round(audio.frames / rate)
        assert np.abs(out.samples).max() > 0.1
    silence = vcfx.Audio(np.zeros((channels, audio.frames)), sample_rate)
    out = tempo_chain(1.5, path)(silence)
    assert out.frames == round(silence.frames / 1.5) and not out.samples.any()


@pytest.mark.parametrize("frames", [1, 2, 10, 100, 1000])
@pytest.mark.parametrize("rate", [0.25, 0.7, 1.3, 4.0])
def test_rubber_band_on_tiny_inputs_keeps_the_length(frames, rate, rng):
    audio = vcfx.Audio(rng.uniform(-0.5, 0.5, (2, frames)), 22050)
    out = vcfx.effect("tempo", rate=rate)(audio)
    assert out.frames == max(1, round(frames / rate)) and np.isfinite(out.samples).all()


def test_rate_one_is_identity_and_range_is_checked(voice):
    assert vcfx.effect("tempo")(voice.audio) == voice.audio
    with pytest.raises(vcfx.ParameterError, match=r"rate=5 is outside \[0.25, 4\]"):
        vcfx.effect("tempo", rate=5)
    assert vcfx.Chain.from_spec("tempo=rate=0.7").to_spec() == "tempo=rate=0.7"


def test_random_rate_is_drawn_per_run(voice):
    chain = vcfx.Chain([vcfx.Chain.from_spec("pitch_shift=semitones=1,tempo=rate=uniform(0.7,1.3)")], seed=5)
    out = chain(voice.audio)
    drawn = chain.resolve()[0].resolve()[1].rate
    assert 0.7 <= drawn <= 1.3 and out.frames == round(voice.audio.frames / drawn)

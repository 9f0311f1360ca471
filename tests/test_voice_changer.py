import numpy as np
import pytest

import vcfx
from spies import Counter
from vcfx.chain import plan
from truth import aligned_cents, cents


def test_defaults_reproduce_the_studys_call():
    chain = vcfx.preset("voice_changer")
    assert chain.to_spec() == (
        "pitch_variance=factor=0.5,pitch_shift=semitones=1.2,tempo=rate=0.7,noise=amount=0.01"
    )
    # one analysis and synthesis in the default engine for +1.2 semitones, PSOLA; tempo joins the run
    assert [(d, [e.name for e in g]) for d, g in plan(list(chain))] == [
        ("psola", ["pitch_variance", "pitch_shift", "tempo"]),
        ("waveform", ["noise"]),
    ]
    without_noise = vcfx.preset("voice_changer", noise=0)
    assert [d for d, _ in plan(list(without_noise))] == ["psola"]
    without_noise.engine = "world"
    assert [d for d, _ in plan(without_noise)] == ["world"]
    assert "voice_changer" in vcfx.presets()


def test_options_pick_the_effects():
    chain = vcfx.preset("voice_changer", change=True, noise=0, reverb=True, seed=1)
    assert [e.name for e in chain] == ["pitch_variance", "pitch_shift", "speed", "reverb"]
    assert chain.seed == 1 and chain[3].ir is None
    with pytest.raises(vcfx.ParameterError, match="voice_changer"):
        vcfx.preset("voice_changer", pitchh=2)
    with pytest.raises(vcfx.ParameterError, match=r"semitones=30 is outside"):
        vcfx.preset("voice_changer", pitch=30)


def test_runs_and_is_reproducible_with_a_seed(voice):
    chain = vcfx.preset("voice_changer", seed=0)
    out = chain(voice.audio)
    assert out.frames == round(voice.audio.frames / 0.7) and np.isfinite(out.samples).all()
    assert chain(voice.audio) == out
    assert vcfx.preset("voice_changer", seed=1)(voice.audio) != out
    assert vcfx.Chain.from_spec(chain.to_spec(), seed=0)(voice.audio) == out


@pytest.mark.parametrize("change, expected_cents", [(False, 120.0), (True, 120.0 + cents(0.7))])
def test_pitch_and_pace_against_the_truth(voice, change, expected_cents):
    out = vcfx.preset("voice_changer", pitch_var=1.0, change=change, noise=0, seed=0)(voice.audio)
    measured = aligned_cents(voice.audio, out, 1 / 0.7)
    assert len(measured) > 150
    # +1.2 semitones (and -617.5 cents more for speed 0.7), median within 5 cents
    assert np.median(measured) == pytest.approx(expected_cents, abs=5.0)


def test_world_is_analysed_once_per_channel(monkeypatch, stereo_voice):
    spy = Counter(monkeypatch, "dio", "cheaptrick", "d4c", "synthesize")
    chain = vcfx.preset("voice_changer", seed=0)
    chain.engine = "world"
    chain(stereo_voice)
    assert spy.analysed_once(stereo_voice)
    assert spy.calls["dio"] == spy.calls["synthesize"] == 2


def test_real_speech_with_the_real_room(speech_path, reverb_path):
    speech = vcfx.load(speech_path)
    chain = vcfx.preset("voice_changer", reverb=reverb_path, seed=0)
    out = chain(speech)
    assert out.sample_rate == 44100 and out.channels == 2
    assert out.frames == round(speech.frames / 0.7) + round(2.0 * 44100) - 1
    dry = vcfx.preset("voice_changer", seed=0)(speech)
    # reverb never raises the peak above what it was given (WORLD resynthesis may exceed 1.0 by itself)
    assert np.isfinite(out.samples).all() and np.abs(out.samples).max() <= np.abs(dry.samples).max() + 1e-6

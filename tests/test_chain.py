import numpy as np
import pytest

import vcfx
from vcfx import Chain
from spies import Counter
from vcfx.chain import plan


def test_world_run_is_analysed_and_synthesised_once_per_channel(monkeypatch, stereo_voice):
    counter = Counter(monkeypatch, "dio", "harvest", "cheaptrick", "d4c", "synthesize")
    chain = Chain.from_spec("pitch_shift=semitones=2,pitch_shift=semitones=1,pitch_shift=semitones=1")
    chain.engine = "world"
    assert [d for d, _ in plan(chain)] == ["world"]
    out = chain(stereo_voice)
    assert counter.analysed_once(stereo_voice)
    assert counter.calls["dio"] == counter.calls["synthesize"] == 2 and counter.calls["harvest"] == 0
    single = Chain([vcfx.effect("pitch_shift", semitones=4)], engine="world")(stereo_voice)
    np.testing.assert_allclose(out.samples, single.samples, atol=1e-6)


def test_spec_round_trip():
    spec = "pitch_shift=semitones=4,pitch_shift=semitones=curve(0:0;1.5:-3)"
    chain = Chain.from_spec(spec, seed=3)
    assert chain.to_spec() == spec
    assert Chain.from_spec(chain.to_spec(), seed=3) == chain
    assert Chain.from_dict(chain.to_dict()) == chain
    assert repr(chain) == (
        "Chain([PitchShift(semitones=4.0), "
        "PitchShift(semitones=Curve([(0.0, 0.0), (1.5, -3.0)]))], seed=3)"
    )


def test_text_with_spec_syntax_round_trips_in_double_quotes(tmp_path):
    room = tmp_path / "rooms, large (1)" / "hall=a:b.wav"  # every character with a meaning in a spec
    room.parent.mkdir()
    decay = np.exp(-np.arange(4000) / 800.0) * np.random.default_rng(0).standard_normal(4000)
    vcfx.Audio(decay[np.newaxis] / np.abs(decay).max() * 0.5, 16000).save(room)
    chain = Chain([vcfx.effect("reverb", ir=str(room), wet=0.5), vcfx.effect("noise", snr_db=20)])
    spec = chain.to_spec()
    assert spec == f'reverb=ir="{room}":wet=0.5,noise=snr_db=20'
    assert Chain.from_spec(spec) == chain
    quoted = tmp_path / 'a "quoted" name.wav'
    vcfx.Audio(decay[np.newaxis] / np.abs(decay).max() * 0.5, 16000).save(quoted)
    with pytest.raises(vcfx.ParameterError, match="double quote"):
        vcfx.effect("reverb", ir=str(quoted)).to_spec()


@pytest.mark.parametrize(
    "spec, error, phrase",
    [
        ("pich_shift=semitones=2", vcfx.PluginError, 'did you mean "pitch_shift"'),
        ("pitch_shift=semitone=2", vcfx.SpecError, 'did you mean "semitones"'),
        ("pitch_shift=semitones=abc", vcfx.ParameterError, "semitones=abc is not a number"),
        ("pitch_shift=semitones=40", vcfx.ParameterError, r"semitones=40 is outside \[-24, 24\]"),
        ("pitch_shift=semitones=1:semitones=2", vcfx.SpecError, "given twice"),
        ("pitch_shift=semitones", vcfx.SpecError, "is not key=value"),
        ("", vcfx.SpecError, "empty"),
        ("pitch_shift=semitones=curve(1:0;0:2)", vcfx.ParameterError, "increase strictly"),
        ("pitch_shift=semitones=curve(0:0", vcfx.SpecError, "unbalanced"),
        ('reverb=ir="rooms/hall.wav', vcfx.SpecError, "double quote is not closed"),
    ],
)
def test_bad_specs(spec, error, phrase):
    with pytest.raises(error, match=phrase):
        Chain.from_spec(spec)


def test_chain_is_a_list_and_an_effect(voice):
    chain = Chain()
    chain.append(vcfx.effect("pitch_shift", semitones=1))
    chain.insert(0, vcfx.effect("pitch_shift", semitones=2))
    assert len(chain) == 2 and chain[0].semitones == 2
    outer = Chain([chain, vcfx.effect("pitch_shift", semitones=-3)])
    assert isinstance(outer(voice.audio), vcfx.Audio)
    with pytest.raises(vcfx.ParameterError, match="holds Effect objects"):
        chain.append("pitch_shift")


def test_process_keeps_the_callers_layout(voice):
    chain = Chain.from_spec("pitch_shift=semitones=1")
    y = voice.audio.samples[0]
    assert chain.process(y, 22050).shape == y.shape
    frames_last = np.stack([y, y], axis=1)
    out = chain.process(frames_last, 22050, layout="channels_last")
    assert out.shape == frames_last.shape
    with pytest.raises(vcfx.AudioError, match="sample_rate=0"):
        chain.process(y, 0)
    with pytest.raises(vcfx.AudioError, match="use chain.process"):
        chain(y)


def test_too_short_input_is_a_clear_error():
    short = vcfx.Audio(np.zeros((1, 50)), 16000)
    with pytest.raises(vcfx.AudioError, match="too short for the psola domain"):
        vcfx.effect("pitch_shift", semitones=1)(short)
    with pytest.raises(vcfx.AudioError, match="too short for the world domain"):
        Chain([vcfx.effect("pitch_shift", semitones=1)], engine="world")(short)


def test_random_parameters_are_drawn_per_run_and_reproducible(voice):
    chain = Chain.from_spec("pitch_shift=semitones=uniform(-2,2),pitch_shift=semitones=choice(1,3)")
    assert chain.to_spec() == "pitch_shift=semitones=uniform(-2,2),pitch_shift=semitones=choice(1,3)"
    assert Chain.from_dict(chain.to_dict()) == chain
    drawn = {seed: chain.resolve(seed) for seed in range(8)}
    firsts = {c[0].semitones for c in drawn.values()}
    assert len(firsts) == 8 and all(-2 <= v <= 2 for v in firsts)
    assert {c[1].semitones for c in drawn.values()} == {1.0, 3.0}
    assert chain.resolve(5) == drawn[5]  # same seed, same draw
    # a resolved chain, rebuilt from its record, gives the random chain's bytes for that seed
    record = drawn[5].to_dict()
    assert Chain.from_dict(record)(voice.audio) == chain(voice.audio, seed=5)


def test_random_parameters_are_range_checked():
    with pytest.raises(vcfx.ParameterError, match=r"semitones=30 is outside \[-24, 24\]"):
        Chain.from_spec("pitch_shift=semitones=uniform(-2,30)")
    with pytest.raises(vcfx.ParameterError, match="two numbers"):
        Chain.from_spec("pitch_shift=semitones=uniform(a,2)")


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_presets_keep_seed_and_domain_options(tmp_path, suffix):
    from vcfx.presets import load_chain, write_preset

    chain = Chain.from_spec("pitch_shift=semitones=uniform(-1,1),pitch_shift=semitones=curve(0:0;1:2)", seed=9)
    chain.options = {"world": {"f0_method": "harvest", "f0_floor_hz": 60.0}}
    path = write_preset(chain, tmp_path / f"p{suffix}")
    again = load_chain(str(path))
    assert again == chain and again.options == chain.options and again.seed == 9

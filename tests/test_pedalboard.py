"""The "pedalboard" effect: pedalboard plugins (built-in, objects, VST3/AU files) inside vcfx chains."""

import numpy as np
import pedalboard
import pytest

import vcfx
import vcfx.testing
from vcfx.chain import plan
from vcfx.presets import write_preset
from truth import shift_cents


@pytest.mark.parametrize("middle, tail_s", [
    ("pedalboard=plugin=Chorus:settings=rate_hz=2;depth=0.5", 0.0),
    ("pedalboard=plugin=Reverb:settings=room_size=0.8:tail_s=1.5", 1.5),
])
def test_pedalboard_between_world_effects(voice, middle, tail_s):
    chain = vcfx.Chain.from_spec(f"pitch_shift=semitones=3,{middle},formant_shift=ratio=1.1", seed=0)
    chain.engine = "world"
    assert [d for d, _ in plan(chain)] == ["world", "waveform", "world"]
    out = chain(voice.audio)
    frames = voice.audio.frames + round(tail_s * voice.audio.sample_rate)
    assert out.frames == frames == chain.expected_frames(voice.audio.frames, voice.audio.sample_rate)
    assert np.isfinite(out.samples).all() and out.sample_rate == voice.audio.sample_rate
    assert np.abs(out.samples).max() > 0.05
    # Praat, not WORLD, judges the pitch: chorus and reverb leave the +300 cents in place
    assert np.median(shift_cents(voice.audio, out)) == pytest.approx(300.0, abs=10.0)
    assert chain(voice.audio) == out  # reset before every run: same input, same output


def test_wrapping_a_plugin_object_gives_what_pedalboard_gives(voice):
    reverb = pedalboard.Reverb(room_size=0.8)
    fx = vcfx.effect("pedalboard", plugin=reverb)
    assert fx.instance() is reverb
    out = fx(voice.audio)
    direct = reverb.process(voice.audio.samples, float(voice.audio.sample_rate), reset=True)
    assert out.frames == voice.audio.frames
    np.testing.assert_array_equal(out.samples, direct)


def test_tail_lets_the_reverb_ring_out(voice):
    sr = voice.audio.sample_rate
    cut = vcfx.effect("pedalboard", plugin="Reverb", settings="room_size=0.9")(voice.audio)
    ringing = vcfx.effect("pedalboard", plugin="Reverb", settings="room_size=0.9", tail_s=2.0)(voice.audio)
    assert cut.frames == voice.audio.frames and ringing.frames == voice.audio.frames + 2 * sr
    np.testing.assert_allclose(ringing.samples[:, : cut.frames], cut.samples, atol=1e-6)
    tail = ringing.samples[0, voice.audio.frames :]
    first, last = np.sqrt(np.mean(tail[: sr // 4] ** 2)), np.sqrt(np.mean(tail[-sr // 4 :] ** 2))
    assert first > 1e-3 and last < first / 10  # the tail is there and decays


def test_runs_do_not_leak_state(voice, stereo_voice):
    fx = vcfx.effect("pedalboard", plugin=pedalboard.Delay(delay_seconds=0.25, feedback=0.5))
    alone = fx(voice.audio)
    fx(vcfx.Audio(np.ones((1, 22050)) * 0.5, 22050))  # a loud run in between
    assert fx(voice.audio) == alone


@pytest.mark.parametrize("frames", [1, 2, 3, 100])
@pytest.mark.parametrize("name", ["Chorus", "Reverb", "PitchShift", "MP3Compressor"])
def test_tiny_inputs_keep_their_length_and_layout(frames, name):
    audio = vcfx.Audio(np.full((2, frames), 0.25), 16000)
    out = vcfx.effect("pedalboard", plugin=name)(audio)
    assert (out.channels, out.frames) == (2, frames) and np.isfinite(out.samples).all()


def test_a_sample_rate_the_plugin_cannot_take_is_an_audio_error_naming_it():
    """pedalboard's MP3 codec refuses 96 kHz with a ValueError; the effect says which plugin and rate."""
    noise = 0.1 * np.random.default_rng(0).standard_normal((1, 9600))
    with pytest.raises(vcfx.EffectError, match=r'"pedalboard" failed: pedalboard\.MP3Compressor cannot process '
                                               r"1-channel audio at 96000 Hz: MP3 only supports") as caught:
        vcfx.effect("pedalboard", plugin="MP3Compressor")(vcfx.Audio(noise, 96000))
    assert isinstance(caught.value.__cause__, vcfx.AudioError)
    out = vcfx.effect("pedalboard", plugin="MP3Compressor")(vcfx.Audio(noise, 48000))
    assert out.frames == 9600 and np.isfinite(out.samples).all()


def test_by_name_round_trips_through_spec_dict_and_preset(tmp_path):
    spec = "pedalboard=plugin=Chorus:settings=rate_hz=2;depth=0.5:tail_s=0.5"
    chain = vcfx.Chain.from_spec(spec, seed=3)
    assert chain.to_spec() == spec
    assert vcfx.Chain.from_dict(chain.to_dict()) == chain
    for suffix in (".toml", ".json"):
        path = write_preset(chain, tmp_path / f"p{suffix}")
        assert vcfx.load_chain(str(path)) == chain
    fx = chain[0]
    assert fx.instance().rate_hz == 2.0 and fx.instance().depth == 0.5
    # numbers are written the short way; a dict works in Python
    assert vcfx.effect("pedalboard", plugin="Chorus", settings="rate_hz=2.00;depth=.5").settings == "rate_hz=2;depth=0.5"
    assert vcfx.effect("pedalboard", plugin="Chorus", settings={"rate_hz": 2.0}).settings == "rate_hz=2"
    assert vcfx.effect("pedalboard", plugin="LadderFilter", settings="mode=HPF12").instance().mode.name == "HPF12"


def test_a_builtin_object_is_written_by_name(voice):
    fx = vcfx.effect("pedalboard", plugin=pedalboard.Chorus(rate_hz=3.0), tail_s=0.1)
    spec = fx.to_spec()
    assert spec.startswith("pedalboard=plugin=Chorus:settings=") and "rate_hz=3" in spec and spec.endswith(":tail_s=0.1")
    rebuilt = vcfx.Chain.from_spec(spec)[0]
    assert rebuilt == fx and vcfx.Effect.from_dict(fx.to_dict()) == fx
    assert rebuilt(voice.audio) == fx(voice.audio)


def test_an_object_without_a_text_form_still_runs_but_says_why_it_cannot_be_written(voice):
    board = pedalboard.Pedalboard([pedalboard.Gain(gain_db=-6.0), pedalboard.Chorus()])
    fx = vcfx.effect("pedalboard", plugin=board)
    out = fx(voice.audio)
    assert out.frames == voice.audio.frames
    with pytest.raises(vcfx.ParameterError, match="cannot be written as a spec or preset"):
        fx.to_spec()
    with pytest.raises(vcfx.ParameterError, match="cannot be written"):
        fx.to_dict()


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of plugin= .* and path="),
    ({"plugin": "Chorsu"}, 'unknown pedalboard plugin "Chorsu"; did you mean "Chorus"'),
    ({"plugin": "Chorus", "settings": "rate=2"}, 'did you mean "rate_hz"'),
    ({"plugin": "Chorus", "settings": "rate_hz=1000"}, "rate_hz=1000: Rate must be between 0 Hz and 100 Hz"),
    ({"plugin": "Chorus", "settings": "rate_hz"}, "is not key=value"),
    ({"plugin": "Chorus", "settings": "rate_hz=fast"}, "rate_hz=fast is not a number"),
    ({"plugin": "LadderFilter", "settings": "mode=XX"}, 'mode="XX" is not one of LPF12, HPF12'),
    ({"plugin": "Chorus", "path": "x.vst3"}, "exactly one of"),
    ({"plugin": "Chorus", "plugin_name": "Foo"}, "plugin_name goes with path="),
    ({"plugin": pedalboard.Chorus(), "settings": "rate_hz=2"}, "set them on the Chorus object"),
    ({"plugin": 3}, "neither a pedalboard plugin name nor a pedalboard.Plugin object"),
    ({"plugin": "Chorus", "tail_s": -1}, r"tail_s=-1 is outside \[0, 60\]"),
])
def test_bad_parameters_say_what_is_wrong(kwargs, message):
    with pytest.raises(vcfx.ParameterError, match=message):
        vcfx.effect("pedalboard", **kwargs)


def test_assignments_are_validated_like_construction():
    fx = vcfx.effect("pedalboard", plugin="Chorus", settings="rate_hz=2")
    with pytest.raises(vcfx.ParameterError, match="Rate must be between"):
        fx.settings = "rate_hz=1000"
    assert fx.settings == "rate_hz=2"
    with pytest.raises(vcfx.ParameterError, match='did you mean "Chorus"'):
        fx.plugin = "Chorsu"
    fx.settings = {"rate_hz": 3.0, "depth": 0.1}
    assert fx.instance().rate_hz == 3.0 and fx.to_spec() == "pedalboard=plugin=Chorus:settings=rate_hz=3;depth=0.1"
    fx.tail_s = 0.5
    assert fx.expected_frames(100, 1000) == 600


@pytest.mark.parametrize("key, value, message", [
    ("plugin_name", "Foo", "plugin_name goes with path="),
    ("path", "x.vst3", "exactly one of"),
    ("plugin", None, "exactly one of"),
])
def test_an_assignment_that_breaks_a_rule_between_parameters_leaves_the_effect_as_it_was(key, value, message):
    fx = vcfx.effect("pedalboard", plugin="Chorus", settings="rate_hz=2", tail_s=0.25)
    before, built = fx.to_dict(), fx.instance()
    with pytest.raises(vcfx.ParameterError, match=message):
        setattr(fx, key, value)
    assert fx.to_dict() == before and fx.instance() is built


def test_settings_assigned_to_a_wrapped_object_are_refused():
    chorus = pedalboard.Chorus(rate_hz=2.0)
    fx = vcfx.effect("pedalboard", plugin=chorus)
    with pytest.raises(vcfx.ParameterError, match="set them on the Chorus object"):
        fx.settings = "rate_hz=3"
    assert fx.settings == "" and fx.plugin is chorus and chorus.rate_hz == 2.0


def test_plugin_files_that_do_not_load_name_the_path(tmp_path):
    missing = tmp_path / "Missing.vst3"
    with pytest.raises(vcfx.ParameterError, match=f"path='{missing}': cannot load it as a VST3"):
        vcfx.effect("pedalboard", path=str(missing))
    fake = tmp_path / "Fake.vst3"
    fake.write_text("not a plugin")
    with pytest.raises(vcfx.ParameterError, match="Fake.vst3.*cannot load it as a VST3"):
        vcfx.Chain.from_spec(f"pedalboard=path={fake}")


def test_convolution_is_built_from_constructor_arguments(tmp_path, voice):
    ir = np.zeros(2205)
    ir[0], ir[1000] = 1.0, 0.5
    path = tmp_path / "ir.wav"
    vcfx.Audio(ir[np.newaxis], 22050).save(path, subtype="FLOAT")
    fx = vcfx.effect("pedalboard", plugin="Convolution", settings=f"impulse_response_filename={path};mix=1")
    out = fx(voice.audio)
    assert out.frames == voice.audio.frames and np.isfinite(out.samples).all()


def test_more_plugins_keep_the_host_contracts():
    cls = vcfx.effect_class("pedalboard")
    cases = [
        {"plugin": pedalboard.Reverb(room_size=0.8), "tail_s": 1.0},
        {"plugin": "PitchShift", "settings": "semitones=3"},
        {"plugin": "MP3Compressor"},
        {"plugin": "Delay", "settings": "delay_seconds=0.1;feedback=0.3", "tail_s": 0.5},
        {"plugin": "LadderFilter", "settings": {"mode": "HPF12", "cutoff_hz": 300}},
    ]
    assert vcfx.testing.check_effect(cls, cases, sample_rates=(16000, 44100)) == len(cases)


def test_listed_with_its_parameters():
    cls = vcfx.effect_class("pedalboard")
    assert [p.name for p in cls.params] == ["plugin", "path", "plugin_name", "settings", "tail_s"]
    assert "Chorus" in cls.params[0].range_text and "Reverb" in cls.params[0].range_text
    assert vcfx.plugins.owner("pedalboard").distribution == "vcfx"

import numpy as np
import pytest

import vcfx
from truth import envelope_ratio, rms_ratio, shift_cents
from vcfx_world.features import frame_power
from vcfx_world.formant_shift import warp

SPEECH = {"floor": 100.0, "ceiling": 700.0}


@pytest.mark.parametrize("ratio", [1.2, 0.85])
def test_envelope_moves_by_ratio_on_synthetic_voice(voice, ratio):
    out = vcfx.Chain([vcfx.effect("formant_shift", ratio=ratio)], engine="world")(voice.audio)  # PSOLA: test_psola.py
    # LPC envelope of the output audio matches the input's moved by the ratio, within 3 %
    assert envelope_ratio(voice.audio, out) == pytest.approx(ratio, rel=0.03)
    # f0 stays: median change under 5 cents
    assert abs(np.median(shift_cents(voice.audio, out))) < 5.0
    # and so does the level, within 1 %
    assert rms_ratio(voice.audio, out) == pytest.approx(1.0, rel=0.01)
    assert out.frames == voice.audio.frames


def test_envelope_moves_by_ratio_on_real_speech(speech_path):
    speech = vcfx.load(speech_path)
    out = vcfx.Chain([vcfx.effect("formant_shift", ratio=1.2)], engine="world")(speech)
    assert out.channels == 2 and out.frames == speech.frames
    # envelope moves up by 1.2 within 3 %; f0 moves under 5 cents
    assert envelope_ratio(speech, out, **SPEECH) == pytest.approx(1.2, rel=0.03)
    assert abs(np.median(shift_cents(speech, out, **SPEECH))) < 5.0


def test_identity_ratio_is_a_plain_world_pass(voice):
    out = vcfx.Chain([vcfx.effect("formant_shift", ratio=1)], engine="world")(voice.audio)
    plain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=0)], engine="world")(voice.audio)
    np.testing.assert_allclose(out.samples, plain.samples, atol=1e-6)


def test_warp_moves_a_peak_and_keeps_power():
    bins = 513
    freqs = np.arange(bins)
    env = np.stack([1e-4 + np.exp(-0.5 * ((freqs - centre) / 6.0) ** 2) for centre in (100, 200, 300)])
    for ratio in (0.5, 0.8, 1.25, 2.0):
        out = warp(env, ratio)
        peaks = np.argmax(out, axis=1)
        expected = np.array([100, 200, 300]) * ratio
        inside = expected < bins
        np.testing.assert_allclose(peaks[inside], expected[inside], atol=1)
        np.testing.assert_allclose(frame_power(out), frame_power(env), rtol=1e-12)
        assert np.all(np.isfinite(out)) and np.all(out > 0)


def test_warp_down_holds_the_nyquist_value_above_the_old_top():
    env = np.geomspace(1.0, 1e-3, 257)[np.newaxis, :]
    out = warp(env, 0.5)
    top = out[0, 129:]
    np.testing.assert_allclose(top, top[-1])
    # below the old top it is the old envelope read at twice the frequency (up to the power scaling)
    scale = out[0, 0] / env[0, 0]
    np.testing.assert_allclose(out[0, :128] / scale, env[0, ::2][:128], rtol=1e-9)


def test_ratio_range():
    with pytest.raises(vcfx.ParameterError, match=r"ratio=3 is outside \[0.5, 2\]"):
        vcfx.effect("formant_shift", ratio=3)
    effect = vcfx.effect("formant_shift", ratio=1.2)
    with pytest.raises(vcfx.ParameterError, match="ratio=0.1 is outside"):
        effect.ratio = 0.1
    assert effect.to_spec() == "formant_shift=ratio=1.2"

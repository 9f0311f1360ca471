import numpy as np
import pytest

import vcfx
from truth import log_f0_spread, praat_f0, shift_cents

SPEECH = {"floor": 75.0, "after_floor": 60.0, "ceiling": 700.0}
"""Praat's default floor for the recording; below WORLD's 71 Hz floor for the output, so that every pitch the
effect can produce is seen (a factor of 2 takes the creaky phrase ends of this voice under 100 Hz)."""


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_spread_scales_and_mean_stays_on_synthetic_voice(voice, factor):
    out = vcfx.effect("pitch_variance", factor=factor)(voice.audio)
    measured = log_f0_spread(voice.audio, out)
    assert measured["frames"] > 150  # Praat frames voiced in both
    # std of voiced log f0 scales by the factor within 10 %
    assert measured["std_ratio"] == pytest.approx(factor, rel=0.10)
    # the mean log f0 moves less than 10 cents
    assert abs(measured["mean_cents"]) < 10.0
    assert out.frames == voice.audio.frames


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_spread_scales_and_mean_stays_on_the_example_voice(factor):
    """The built-in voice has a syllable the f0 tracker first took an octave low."""
    voice = vcfx.example_voice()
    measured = log_f0_spread(voice, vcfx.effect("pitch_variance", factor=factor)(voice), **SPEECH)
    assert measured["frames"] > 150
    assert measured["std_ratio"] == pytest.approx(factor, rel=0.10)
    assert abs(measured["mean_cents"]) < 10.0


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_spread_scales_on_real_speech(speech_path, factor):
    speech = vcfx.load(speech_path)
    out = vcfx.effect("pitch_variance", factor=factor)(speech)
    assert out.channels == 2 and out.frames == speech.frames
    measured = log_f0_spread(speech, out, **SPEECH)
    assert measured["frames"] > 100
    # std of voiced log f0 scales by the factor within 10 %
    assert measured["std_ratio"] == pytest.approx(factor, rel=0.10)
    # the mean log f0 moves less than 10 cents
    assert abs(measured["mean_cents"]) < 10.0


def test_factor_zero_is_monotone(voice):
    out = vcfx.effect("pitch_variance", factor=0)(voice.audio)
    _, f0 = praat_f0(out)
    voiced = f0[f0 > 0]
    assert len(voiced) > 150
    # the 140 -> 220 -> 160 Hz contour becomes one note: spread below 10 cents
    assert np.std(1200 * np.log2(voiced)) < 10.0
    # on the voice's mean pitch: the input's mean log f0, within 10 cents
    _, f0_in = praat_f0(voice.audio)
    assert abs(1200 * (np.mean(np.log2(voiced)) - np.mean(np.log2(f0_in[f0_in > 0])))) < 10.0


def test_factor_one_is_a_plain_world_pass(voice):
    out = vcfx.effect("pitch_variance", factor=1)(voice.audio)
    plain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=0)], engine="world")(voice.audio)
    np.testing.assert_allclose(out.samples, plain.samples, atol=1e-6)


def test_curve_changes_only_part_of_the_voice(stereo_voice):
    rate = stereo_voice.sample_rate
    curve = vcfx.Curve([(0.0, 1.0), (0.45, 1.0), (0.55, 3.0), (1.0, 3.0)])
    out = vcfx.effect("pitch_variance", factor=curve)(stereo_voice)
    assert out.channels == 2
    np.testing.assert_allclose(out.samples[0], out.samples[1])

    def part(audio, start_s, stop_s):
        return vcfx.Audio(audio.samples[:1, int(start_s * rate) : int(stop_s * rate)], rate)

    early = shift_cents(part(stereo_voice, 0.0, 0.4), part(out, 0.0, 0.4))
    late = shift_cents(part(stereo_voice, 0.6, 1.0), part(out, 0.6, 1.0))
    assert len(early) > 10 and len(late) > 10
    # unchanged before the ramp (within 5 cents); the falling 180 -> 150 Hz
    # contour is below its median late on, so tripling the spread lowers it
    assert np.median(np.abs(early)) < 5.0
    assert np.median(late) < -100.0


def test_factor_range():
    with pytest.raises(vcfx.ParameterError, match=r"factor=5 is outside \[0, 4\]"):
        vcfx.effect("pitch_variance", factor=5)
    effect = vcfx.effect("pitch_variance", factor=2)
    with pytest.raises(vcfx.ParameterError, match="factor=-0.5 is outside"):
        effect.factor = -0.5
    assert effect.factor == 2.0
    assert effect.to_spec() == "pitch_variance=factor=2"
    assert vcfx.Chain.from_spec("pitch_variance=factor=curve(0:1;1:0)")[0].factor == vcfx.Curve([(0, 1), (1, 0)])


@pytest.mark.parametrize("engine", ["world", "psola"])
def test_a_faint_stretch_does_not_set_the_centre(engine):
    """A voice at 190-230 Hz, then 0.5 s at 120 Hz 46 dB below it: factor 2 keeps the loud part's mean."""
    loud = vcfx.synthetic_voice(1.2, 22050, f0_hz=(190.0, 230.0, 210.0)).audio
    faint = vcfx.synthetic_voice(0.5, 22050, f0_hz=(120.0, 125.0)).audio
    voice = vcfx.Audio(np.concatenate([loud.samples, 0.005 * faint.samples], axis=1), 22050)
    out = vcfx.Chain([vcfx.effect("pitch_variance", factor=2.0)], engine=engine)(voice)
    t, before = praat_f0(voice)
    _, after = praat_f0(out)
    inner = (t < 1.2) & (before > 0) & (after > 0)
    assert inner.sum() > 100
    # counted in, the faint part pulls the centre down and moves the loud part 300 cents up
    moved = 1200 * (np.mean(np.log2(after[inner])) - np.mean(np.log2(before[inner])))
    assert abs(moved) < 10.0


@pytest.mark.parametrize("engine", ["world", "psola"])
def test_a_faint_stretch_moves_with_its_loud_neighbours(engine):
    """Factor 2 on 190-230-210 Hz, then 120 Hz 36 dB below: the faint part keeps its pitch.

    Scaled by its own distance from the centre it would fall an octave, to the
    71 Hz floor; it takes the move of the loud frames next to it instead
    (about 0 at 210 Hz, the centre's neighbourhood).
    """
    rate = 22050
    loud = vcfx.synthetic_voice(1.2, rate, f0_hz=(190.0, 230.0, 210.0)).audio
    faint = vcfx.synthetic_voice(0.5, rate, f0_hz=(120.0, 125.0)).audio
    voice = vcfx.Audio(np.concatenate([loud.samples, 0.016 * faint.samples], axis=1), rate)
    out = vcfx.Chain([vcfx.effect("pitch_variance", factor=2.0)], engine=engine)(voice)

    def faint_part(audio):  # on its own, so that Praat's silence threshold does not hide it
        return vcfx.Audio(audio.samples[:1, int(1.3 * rate):int(1.65 * rate)] / 0.016, rate)

    _, before = praat_f0(faint_part(voice))
    _, after = praat_f0(faint_part(out))
    both = (before > 0) & (after > 0)
    assert both.sum() > 20
    moved = 1200 * np.log2(after[both] / before[both])
    assert abs(np.median(moved)) < 50.0


def test_log_moves_scale_the_reliable_frames_and_carry_the_others():
    """Factor 2: reliable frames move by their distance from the mean of the reliable ones, the rest with them."""
    from vcfx_world.pitch_variance import log_moves

    f0 = np.array([200.0, 200.0, 0.0, 100.0, 100.0, 0.0, 300.0, 150.0, 300.0])
    periodicity = np.array([0.9, 0.9, 0.0, 0.2, 0.2, 0.0, 0.9, 0.2, 0.9])
    moves = log_moves(f0, 2.0, periodicity)
    m = np.log2(np.sqrt(200.0 * 300.0))  # the creaky frames (0.2) do not count
    expected = [np.log2(200.0) - m] * 2 + [0.0] * 4 + [np.log2(300.0) - m] * 3
    # the creak at 150 Hz between two reliable 300 Hz frames moves as they do, not by its own
    # distance from the centre; the stretch with no reliable frame stays where it was
    np.testing.assert_allclose(moves, expected, atol=1e-12)

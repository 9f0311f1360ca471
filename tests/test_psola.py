"""The PSOLA domain, judged against the synthetic voice's known truth and Praat."""

import numpy as np
import pytest

import vcfx
import vcfx.testing
from vcfx.chain import plan
from vcfx.params import Uniform
from truth import (aligned_cents, envelope_ratio, level_change_db, log_f0_spread, praat_f0, rms_ratio, shift_cents,
                   subharmonic_db, vowels_and_hiss)
from vcfx_psola import PsolaDomain, PsolaState
from world_effects import Vibrato


def psola(effects, audio, options=None):
    """Run ``effects`` in the psola domain: one analysis, every effect on the state, one synthesis."""
    dom = vcfx.domain("psola")
    ctx = vcfx.Context.from_seed(0, options or {})
    state = dom.analyze(audio, ctx)
    for eff in effects:
        state = eff.process_psola(state, ctx)
    return dom.synthesize(state, ctx)


class PsolaOnly(vcfx.Effect):
    """An effect only the psola domain offers: next to it the planner must pick psola."""

    name = "psola_only"
    summary = "Leaves the PSOLA state as it is"
    domains = ("psola",)

    def process_psola(self, state, ctx):
        return state


def test_the_domain_is_registered():
    assert isinstance(vcfx.domain("psola"), PsolaDomain)


def test_marks_sit_on_one_point_of_every_glottal_cycle(voice):
    rate = voice.audio.sample_rate
    state = vcfx.domain("psola").analyze(voice.audio, vcfx.Context.from_seed(0))
    marks = state.marks[5:-5]  # the fades at both ends leave the first and last periods faint
    true_phase = np.cumsum(voice.f0_at(np.arange(voice.audio.frames) / rate)) / rate
    at_marks = np.exp(2j * np.pi * np.interp(marks, np.arange(len(true_phase)), true_phase))
    # neighbouring marks within 1 % of a cycle of the same point (the point drifts slowly as f0
    # moves against the formants), all of them within 10 %
    assert np.abs(np.angle(at_marks[1:] / at_marks[:-1])).max() / (2 * np.pi) < 0.01
    assert np.abs(np.angle(at_marks / at_marks.mean())).max() / (2 * np.pi) < 0.10
    # one mark per cycle: spacing within 2 samples of the true period
    assert np.abs(np.diff(marks) - rate / voice.f0_at(marks[:-1] / rate)).max() < 2.0


def test_a_high_voice_is_marked_to_its_end():
    # the marks' room is counted from the frames' f0: a voice at 500 Hz, 16 samples a period at 8 kHz,
    # gets a mark on every period, the last within two periods of the end
    voice = vcfx.synthetic_voice(1.0, 8000, f0_hz=500.0).audio
    state = vcfx.domain("psola").analyze(voice, vcfx.Context.from_seed(0))
    assert (state.analysed_f0[5:-5] > 0).all()
    assert state.marks[-1] >= voice.frames - 2 * 16
    assert len(state.marks) >= 0.98 * voice.frames / 16


def test_marks_stay_on_one_point_of_the_cycle_in_noise(voice):
    # white noise 15 dB under the voice: marks found on the maxima of the low-passed signal alone moved by
    # up to 4.4 % of a cycle from one to the next; following the waveform from cycle to cycle, 0.8 % to the
    # nearest sample and 0.4 % between samples
    rate = voice.audio.sample_rate
    x = voice.audio.samples[0].astype(np.float64)
    noisy = x + np.random.default_rng(0).normal(0.0, x.std() * 10 ** (-15 / 20), len(x))
    state = vcfx.domain("psola").analyze(vcfx.Audio(noisy[np.newaxis], rate), vcfx.Context.from_seed(0))
    assert (state.analysed_f0 > 0).mean() > 0.9  # still voiced: the marks are judged, not the voicing
    marks = state.marks[5:-5]
    true_phase = np.cumsum(voice.f0_at(np.arange(voice.audio.frames) / rate)) / rate
    at_marks = np.exp(2j * np.pi * np.interp(marks, np.arange(len(true_phase)), true_phase))
    assert np.abs(np.angle(at_marks[1:] / at_marks[:-1])).max() / (2 * np.pi) < 0.015


@pytest.mark.parametrize("semitones", [4.0, -4.0])
def test_pitch_shift_moves_f0_by_the_semitones(voice, semitones):
    out = psola([vcfx.effect("pitch_shift", semitones=semitones)], voice.audio)
    assert out.frames == voice.audio.frames
    cents = shift_cents(voice.audio, out)
    assert len(cents) > 150  # Praat frames voiced in both
    assert abs(np.median(cents) - 100 * semitones) <= 5.0


def test_pitch_shift_follows_a_curve(voice):
    curve = vcfx.Curve([(0.0, 0.0), (1.0, 0.0), (1.01, 4.0), (2.0, 4.0)])
    out = psola([vcfx.effect("pitch_shift", semitones=curve)], voice.audio)
    t, _ = praat_f0(voice.audio)
    cents = shift_cents(voice.audio, out)
    times = t[(praat_f0(voice.audio)[1] > 0) & (praat_f0(out)[1] > 0)]
    assert abs(np.median(cents[times < 0.9])) <= 5.0
    assert abs(np.median(cents[times > 1.1]) - 400.0) <= 5.0


@pytest.mark.parametrize("semitones", [0.0, 4.0, -4.0])
def test_grains_land_between_samples_where_the_period_does(semitones):
    # a period of 73.5 samples (300 Hz at 22.05 kHz): grains placed to the nearest sample, from marks to the
    # nearest sample, sit up to a sample off the period and leave 20-37 dB between the harmonics (0, +4, -4:
    # 20, 37, 27); placed at their exact times, 45-62
    voice = vcfx.synthetic_voice(1.0, 22050, f0_hz=300.0).audio
    out = psola([vcfx.effect("pitch_shift", semitones=semitones)], voice)
    middle = vcfx.Audio(out.samples[:, 2205:-2205], out.sample_rate)
    assert subharmonic_db(middle, 300.0 * 2 ** (semitones / 12)) < -40.0


def test_an_octave_up_leaves_nothing_of_the_old_fundamental():
    # a vowel whose first formant sits on its f0 (an [u] or [i] at 300 Hz): its first harmonic is by far
    # its strongest. Grains two input periods wide, an octave up, overlap four at a time and left that
    # harmonic 11 dB under the new ones (Praat then heard the old pitch); two target periods wide, 51 dB
    voice = vcfx.synthetic_voice(1.0, 22050, f0_hz=300.0, formants_hz=(300.0, 2200.0, 3000.0),
                                 bandwidths_hz=(60.0, 100.0, 150.0)).audio
    out = psola([vcfx.effect("pitch_shift", semitones=12.0)], voice)
    middle = vcfx.Audio(out.samples[:, 2205:-2205], out.sample_rate)
    assert subharmonic_db(middle, 600.0) < -25.0
    assert subharmonic_db(vcfx.Audio(voice.samples[:, 2205:-2205], 22050), 300.0) < -25.0  # the judge's own floor


@pytest.mark.parametrize("rate", [22050, 44100])
@pytest.mark.parametrize("formants", [(300.0, 2300.0, 3000.0), (320.0, 800.0, 2500.0)], ids=["i", "u"])
def test_an_octave_up_on_close_vowels_in_syllables_is_heard_an_octave_up(rate, formants):
    # syllables of [i] or [u] (a first formant near f0) gliding over 140-300 Hz: marks chained forwards
    # from each stretch's faint start left Praat hearing 16-25 % of the frames at +12 an octave or more
    # off the target; chained outwards from the loudest frame, none. Praat (in the output's range)
    # against twice the known contour, every frame it calls voiced
    voice = vcfx.synthetic_voice(4.0, rate, f0_hz=(180.0, 300.0, 150.0, 260.0, 170.0, 240.0, 140.0),
                                 formants_hz=formants, syllable_rate_hz=3.0)
    out = psola([vcfx.effect("pitch_shift", semitones=12.0)], voice.audio)
    t, f = praat_f0(out, floor=150.0, ceiling=1200.0)
    voiced = f > 0
    cents = 1200.0 * np.log2(f[voiced] / (2.0 * voice.f0_at(t[voiced])))
    assert voiced.sum() > 200
    assert np.mean(np.abs(cents) < 50.0) > 0.98


@pytest.mark.parametrize("semitones", [-12.0, -4.0, 4.0, 12.0])
def test_noise_and_voice_keep_their_levels(semitones):
    # grains an octave down lie a period apart with gaps between them, and the voice gets about 4 dB quieter;
    # scaling the whole output back to the input's RMS made the noise up to 4 dB louder instead
    voice, spans = vowels_and_hiss()
    out = psola([vcfx.effect("pitch_shift", semitones=semitones)], voice)
    margin = int(0.05 * voice.sample_rate)  # away from where one part meets the next
    for kind, tolerance_db in (("noise", 0.3), ("vowel", 0.5)):
        for span in spans[kind]:
            change = level_change_db(voice.samples[0], out.samples[0], span, margin)
            assert abs(change) < tolerance_db, (kind, span, change)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_tempo_changes_the_duration_exactly_and_keeps_the_pitch(voice, rate):
    out = psola([vcfx.effect("tempo", rate=rate)], voice.audio)
    assert out.frames == round(voice.audio.frames / rate)
    cents = aligned_cents(voice.audio, out, 1 / rate)
    assert len(cents) > 120
    assert abs(np.median(cents)) <= 5.0


@pytest.mark.parametrize("ratio", [1.2, 0.85])
def test_formant_shift_moves_the_envelope_and_keeps_the_pitch(voice, ratio):
    out = psola([vcfx.effect("formant_shift", ratio=ratio)], voice.audio)
    assert out.frames == voice.audio.frames
    # the LPC envelope moves by the ratio within 3 %
    assert envelope_ratio(voice.audio, out) == pytest.approx(ratio, rel=0.03)
    assert abs(np.median(shift_cents(voice.audio, out))) <= 5.0
    # the level stays within 1 %
    assert rms_ratio(voice.audio, out) == pytest.approx(1.0, rel=0.01)


def test_pitch_shift_and_formant_shift_on_real_speech(speech_path):
    speech = vcfx.load(speech_path)
    judge = {"floor": 75.0, "ceiling": 700.0}
    out = psola([vcfx.effect("pitch_shift", semitones=4.0)], speech)
    assert out.channels == 2 and out.frames == speech.frames
    assert abs(np.median(shift_cents(speech, out, **judge)) - 400.0) <= 5.0
    out = psola([vcfx.effect("formant_shift", ratio=1.2)], speech)
    assert envelope_ratio(speech, out, **judge) == pytest.approx(1.2, rel=0.03)
    assert abs(np.median(shift_cents(speech, out, **judge))) <= 5.0


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_pitch_variance_scales_the_spread(voice, factor):
    measured = log_f0_spread(voice.audio, psola([vcfx.effect("pitch_variance", factor=factor)], voice.audio))
    assert measured["frames"] > 150
    assert measured["std_ratio"] == pytest.approx(factor, rel=0.10)
    assert abs(measured["mean_cents"]) < 10.0


def test_a_run_shares_one_set_of_marks(voice):
    out = psola([vcfx.effect("pitch_shift", semitones=2.0), vcfx.effect("tempo", rate=1.25),
                 vcfx.effect("pitch_shift", semitones=2.0)], voice.audio)
    assert out.frames == round(voice.audio.frames / 1.25)
    assert abs(np.median(aligned_cents(voice.audio, out, 0.8)) - 400.0) <= 5.0


def test_the_chain_runs_a_psola_run_with_one_analysis(voice, monkeypatch):
    calls = []
    analyze = PsolaDomain.analyze
    monkeypatch.setattr(PsolaDomain, "analyze", lambda self, a, ctx: calls.append(a.frames) or analyze(self, a, ctx))
    chain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=4.0), PsolaOnly(), vcfx.effect("tempo", rate=1.25)])
    assert [dom for dom, _ in plan(list(chain))] == ["psola"]
    out = chain(voice.audio)
    assert calls == [voice.audio.frames]
    assert out.frames == round(voice.audio.frames / 1.25)
    assert abs(np.median(aligned_cents(voice.audio, out, 0.8)) - 400.0) <= 5.0


def test_the_default_domains_of_the_other_effects():
    def domains(*effects):
        return [dom for dom, _ in plan(list(effects))]

    assert domains(vcfx.effect("pitch_variance", factor=2.0)) == ["world"]
    assert domains(vcfx.effect("tempo")) == ["waveform"]
    assert domains(vcfx.effect("pitch_shift", semitones=-12.0), vcfx.effect("tempo")) == ["world"]
    assert domains(vcfx.effect("formant_shift", ratio=0.7)) == domains(vcfx.effect("formant_shift", ratio=2.0)) \
        == domains(vcfx.effect("formant_shift", ratio=1.2), vcfx.effect("pitch_variance", factor=2.0)) == ["psola"]
    assert domains(vcfx.effect("formant_shift", ratio=0.69)) == ["world"]
    # the two prefer different engines, so neither is chosen: the planner runs both in their first-listed, WORLD
    assert domains(vcfx.effect("formant_shift", ratio=1.2), vcfx.effect("pitch_shift", semitones=-12.0)) == ["world"]


def test_pitch_shift_runs_in_psola_by_default_from_minus_eleven_semitones_up(voice):
    def domains(*effects):
        return [dom for dom, _ in plan(list(effects))]

    def shift(semitones):
        return vcfx.effect("pitch_shift", semitones=semitones)

    assert domains(shift(-11.1)) == domains(shift(-12.0)) == ["world"]
    assert domains(shift(-11.0)) == domains(shift(4.0)) == domains(shift(12.0)) == ["psola"]
    assert domains(vcfx.effect("pitch_variance", factor=2.0), shift(12.0), vcfx.effect("tempo", rate=0.8),
                   vcfx.effect("noise", snr_db=30.0)) == ["psola", "waveform"]
    assert domains(shift(vcfx.Curve([(0.0, -12.0), (1.0, 0.0)]))) == ["world"]  # not -11 or above throughout
    assert domains(shift(vcfx.Curve([(0.0, -6.0), (1.0, 7.0)]))) == ["psola"]
    assert domains(shift(7.0), Vibrato()) == ["world"]  # an effect that has no PSOLA keeps the run in WORLD
    assert domains(shift(7.0), vcfx.effect("pitch_variance", factor=2.0)) == ["psola"]  # no preference: no objection
    assert domains(shift(7.0), shift(-12.0)) == ["world"]  # -12 prefers WORLD: no engine is chosen, WORLD is first
    assert domains(vcfx.Chain([shift(7.0)], engine="world")) == ["world"]

    up = vcfx.Chain([shift(7.0)], seed=3)(voice.audio)
    assert up == vcfx.Chain([shift(7.0)], seed=3, engine="psola")(voice.audio)
    drawn = vcfx.Chain([shift(Uniform(6.0, 8.0))], seed=3)  # judged on the value each run draws
    assert drawn(voice.audio) == vcfx.Chain([shift(Uniform(6.0, 8.0))], seed=3, engine="psola")(voice.audio)
    assert drawn(voice.audio) != vcfx.Chain([shift(Uniform(6.0, 8.0))], seed=3, engine="world")(voice.audio)


def test_stereo_channels_share_one_set_of_marks(stereo_voice):
    out = psola([vcfx.effect("pitch_shift", semitones=4.0)], stereo_voice)
    assert out.channels == 2 and out.frames == stereo_voice.frames
    np.testing.assert_array_equal(out.samples[0], out.samples[1])
    louder = stereo_voice.replace(samples=stereo_voice.samples * np.array([[1.0], [0.5]]))
    state = vcfx.domain("psola").analyze(louder, vcfx.Context.from_seed(0))
    assert isinstance(state, PsolaState) and state.samples.shape == (2, louder.frames)
    out = psola([vcfx.effect("pitch_shift", semitones=4.0)], louder)
    np.testing.assert_allclose(out.samples[1], 0.5 * out.samples[0], atol=1e-9)


def test_silence_in_silence_out():
    silence = vcfx.Audio(np.zeros((2, 22050)), 22050)
    out = psola([vcfx.effect("pitch_shift", semitones=4.0), vcfx.effect("tempo", rate=0.8)], silence)
    assert out.frames == round(22050 / 0.8)
    assert not out.samples.any()


def test_short_input_is_an_audio_error():
    with pytest.raises(vcfx.AudioError, match="psola domain needs at least 441 frames"):
        psola([vcfx.effect("pitch_shift", semitones=4.0)], vcfx.Audio(np.ones((1, 100)) * 0.1, 22050))


def test_bad_options_name_the_valid_ones(voice):
    with pytest.raises(vcfx.ParameterError, match="unknown psola option.*f0_method"):
        psola([], voice.audio, options={"psola": {"f0_metod": "dio"}})


def test_an_undeclared_length_change_is_refused(voice):
    dom = vcfx.domain("psola")
    state = dom.analyze(voice.audio, vcfx.Context.from_seed(0))
    state.f0 = state.f0[:-5]
    with pytest.raises(vcfx.EffectError, match="f0 has shape"):
        dom.synthesize(state, vcfx.Context.from_seed(0))


@pytest.mark.parametrize("name", ["pitch_shift", "pitch_variance", "formant_shift", "tempo"])
def test_the_effects_keep_the_host_contracts(name):
    assert vcfx.testing.check_effect(type(vcfx.effect(name)), engines=("psola",)) > 0


def test_overlap_add_holds_a_few_copies_of_the_output_not_one_per_chunk():
    """Each chunk of grains adds up only the stretch of output it covers, so memory does not grow with the chunks."""
    import tracemalloc

    from vcfx_psola.overlap_add import CHUNK_MARKS, overlap_add

    voice = vcfx.synthetic_voice(40.0, 16000, f0_hz=(120.0, 220.0, 150.0), channels=2, syllable_rate_hz=3.0).audio
    state = vcfx.domain("psola").analyze(voice, vcfx.Context.from_seed(0))
    assert len(state.marks) > 4 * CHUNK_MARKS  # several chunks
    tracemalloc.start()
    try:
        voiced, unvoiced = overlap_add(state, np.arange(2))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * voiced.nbytes  # a full-length sum per chunk, as before, needed one output per chunk


@pytest.mark.parametrize("sample_rate, period_s", [(8000, 0.005), (16000, 0.005), (22050, 0.005), (44100, 0.0037)])
def test_marks_fall_where_the_count_of_marks_passes_a_whole_number(sample_rate, period_s):
    # The reference goes sample by sample: each belongs to its nearest frame, and from sample 1 on adds that
    # frame's rate over the sample rate to a count kept in exact fractions; a mark falls on every sample where
    # the count reaches a whole number.
    from fractions import Fraction
    from vcfx_psola.marks import frame_of, frame_starts, mark_rate, marks_along

    rng = np.random.default_rng(sample_rate)
    frames = 61
    samples = int((frames - 1) * period_s * sample_rate) + 37
    f0 = np.where(rng.random(frames) < 0.3, 0.0, rng.integers(70, 500, frames).astype(float))
    nearest = np.clip(np.rint(np.arange(samples) / sample_rate / period_s).astype(int), 0, frames - 1)
    starts = frame_starts(frames, period_s, samples, sample_rate)
    assert np.array_equal(frame_of(np.arange(samples), starts), nearest)
    rate = [Fraction(r).limit_denominator() for r in mark_rate(f0)]
    count, expected, where = Fraction(0), [0], [0.0]
    for s in range(1, samples):
        before, count = count, count + rate[nearest[s]] / sample_rate
        if int(count) > int(before):
            expected.append(s)
            where.append(float(s - 1 + (int(count) - before) / (rate[nearest[s]] / sample_rate)))
    assert marks_along(mark_rate(f0), starts, samples, sample_rate).tolist() == expected
    at, exact = marks_along(mark_rate(f0), starts, samples, sample_rate, exact=True)
    assert at.tolist() == expected
    np.testing.assert_allclose(exact, where, atol=1e-6)  # where the count reaches the whole number, between samples


def test_the_grain_loop_adds_what_a_plain_sum_of_windowed_grains_does():
    """Each grain: the input read between samples under a Hann window, added at its place (two channels);
    voiced grains with their window-weighted mean taken off."""
    from vcfx_psola.overlap_add import _grains

    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 400)) + 0.5).astype(np.float32)
    at, centre_in = np.array([30, 55, 90]), np.array([100, 180, 260])
    after = np.array([0.0, 0.25, 0.8], dtype=np.float32)
    half = np.array([20.0, 17.5, 12.3])
    reach = np.ceil(half).astype(np.int64)
    for zero_mean in (False, True):
        got = _grains(x, at, centre_in, after, half, reach, 120, zero_mean)
        expected = np.zeros((2, 120))
        for g in range(3):
            o = np.arange(-reach[g], reach[g] + 1)
            w = 0.5 + 0.5 * np.cos(np.pi * np.clip(o / half[g], -1, 1))
            read = (1 - after[g]) * x[:, centre_in[g] + o] + after[g] * x[:, centre_in[g] + o + 1]
            if zero_mean:
                read = read - (read * w).sum(axis=1, keepdims=True) / w.sum()
            expected[:, at[g] + o] += w * read
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_an_octave_up_adds_no_offset():
    """A 200 Hz sine an octave up: one-period grains, each with a positive mean, once summed to a DC offset
    larger than the tone (the spectrum's peak sat at 0 Hz)."""
    sine = vcfx.Audio(0.5 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)[None], 16000)
    out = psola([vcfx.effect("pitch_shift", semitones=12.0)], sine)
    spectrum = np.abs(np.fft.rfft(out.samples[0]))
    assert abs(np.argmax(spectrum) * 16000 / out.frames - 400.0) < 5.0
    assert abs(out.samples.mean()) < 0.01 * np.sqrt(np.mean(out.samples ** 2))  # the ends hold part periods

"""The WORLD state's contract for effects: when features count as untouched, and how a length change is declared."""

import numpy as np
import pytest

import vcfx
from vcfx_world import WorldFeatures, WorldState


def analyse(audio: vcfx.Audio) -> WorldState:
    return vcfx.domain("world").analyze(audio, vcfx.Context.from_seed(0))


@pytest.fixture(scope="module")
def noise() -> vcfx.Audio:
    """Two channels of noise in which DIO finds no voiced frame."""
    return vcfx.Audio(np.random.default_rng(1).normal(0, 0.1, (2, 16000)), 16000)


def run_world_effect(process, audio: vcfx.Audio) -> vcfx.Audio:
    """``audio`` through a WORLD effect whose ``process_world`` is ``process``, registered for the call."""

    class Custom(vcfx.Effect):
        name = "test_custom_world"
        domains = ("world",)

        def process_world(self, state, ctx):
            process(state)
            return state

    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            register(Custom)

    vcfx.plugins.register(Plugin(), name="test-custom-world")
    try:
        return vcfx.effect("test_custom_world")(audio)
    finally:
        vcfx.plugins.unregister("test-custom-world")


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_unvoiced_features_as_analysed_are_untouched(noise):
    state = analyse(noise)
    assert not any(ch.f0.any() for ch in state.channels)
    assert all(ch.is_untouched(state.frames) for ch in state.channels)


@pytest.mark.parametrize("change", [
    lambda ch: ch.spectral_envelope.__imul__(0.5),
    lambda ch: ch.aperiodicity.__setitem__((3, 10), 0.25),
    lambda ch: setattr(ch, "spectral_envelope", ch.spectral_envelope * 2),
    lambda ch: setattr(ch, "aperiodicity", ch.aperiodicity[:, :-1]),
    lambda ch: ch.f0.__setitem__(5, 120.0),
], ids=["envelope-in-place", "one-aperiodicity-value", "new-envelope", "narrower-aperiodicity", "a-voiced-frame"])
def test_any_change_of_content_counts_as_touched(noise, change):
    """In place or by assignment: contents are compared, not objects."""
    state = analyse(noise)
    change(state.channels[0])
    assert not state.channels[0].is_untouched(state.frames)
    assert state.channels[1].is_untouched(state.frames)


def test_equal_values_in_new_arrays_count_as_untouched(noise):
    state = analyse(noise)
    ch = state.channels[0]
    ch.spectral_envelope, ch.aperiodicity, ch.f0 = ch.spectral_envelope.copy(), ch.aperiodicity.copy(), ch.f0.copy()
    assert ch.is_untouched(state.frames)
    assert not ch.is_untouched(state.frames + 1)  # another length is a change


def test_voiced_features_are_never_untouched(voice):
    state = analyse(voice.audio)
    assert state.channels[0].f0.any() and state.channels[0].fingerprint is None
    assert not state.channels[0].is_untouched(state.frames)


def test_untouched_noise_passes_through_and_an_envelope_changed_in_place_does_not(noise):
    assert run_world_effect(lambda state: None, noise) == noise

    def quarter_power(state):
        for ch in state.channels:
            ch.spectral_envelope *= 0.25

    out = run_world_effect(quarter_power, noise)
    # a quarter of the envelope power is half the RMS, within 2 %
    for c in range(2):
        assert rms(out.samples[c]) == pytest.approx(0.5 * rms(noise.samples[c]), rel=0.02)


@pytest.mark.parametrize("sample_rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("seconds", [0.02, 0.1234, 1.0, 2.71])
def test_frames_for_counts_frames_as_the_analysis_does(sample_rate, seconds):
    samples = round(seconds * sample_rate)
    audio = vcfx.synthetic_voice(seconds + 0.01, sample_rate).audio.samples[:, :samples]
    state = analyse(vcfx.Audio(audio, sample_rate))
    assert len(state.channels[0].f0) == state.frames_for(samples)


def toy_state(frames: int = 16000, sample_rate: int = 16000) -> WorldState:
    state = WorldState([], sample_rate, 5.0, frames)
    n = state.frames_for(frames)
    f0 = np.where(np.arange(n) % 40 < 25, 150.0, 0.0)
    state.channels = [WorldFeatures(f0, np.ones((n, 9)), np.full((n, 9), 0.5), periodicity=(f0 > 0) * 0.9)
                      for _ in range(2)]
    return state


def test_set_length_declares_the_new_duration_and_resamples_periodicity():
    state = toy_state()
    n = state.frames_for(24000)
    for ch in state.channels:
        ch.f0, ch.spectral_envelope, ch.aperiodicity = (np.resize(a, (n, *a.shape[1:])) for a in
                                                        (ch.f0, ch.spectral_envelope, ch.aperiodicity))
    state.set_length(24000)
    assert state.frames == 24000
    for ch in state.channels:
        assert len(ch.periodicity) == n == 301
        # stretched evenly: new frame j reads old frame round(j * 200 / 300), voiced where that is below 25 mod 40
        assert ch.periodicity[[0, 36, 37, 150, 300]].tolist() == [0.9, 0.9, 0.0, 0.9, 0.9]


@pytest.mark.parametrize("frames, phrase", [
    (24000, r"24000 samples take 301 frames, but channel 0 has 201"),
    (0, "frames must be a whole number of samples"),
    (1.5, "frames must be a whole number of samples"),
    (True, "frames must be a whole number of samples"),
])
def test_set_length_refuses_a_length_the_features_do_not_have(frames, phrase):
    state = toy_state()
    with pytest.raises(vcfx.EffectError, match=phrase):
        state.set_length(frames)
    assert state.frames == 16000


def test_resample_reads_every_channel_at_the_positions_and_declares_the_length():
    state = toy_state()
    state.resample(8000, np.arange(state.frames_for(8000)) * 2.0)
    assert state.frames == 8000
    for ch in state.channels:
        assert len(ch.f0) == len(ch.periodicity) == ch.spectral_envelope.shape[0] == 101
        old = np.where(np.arange(201) % 40 < 25, 150.0, 0.0)
        np.testing.assert_allclose(ch.f0, old[::2], rtol=1e-12)  # whole positions read whole frames
        np.testing.assert_array_equal(ch.periodicity, (old[::2] > 0) * 0.9)


def test_resampled_interpolates_between_frames():
    f0 = np.array([100.0, 400.0, 0.0])
    feat = WorldFeatures(f0, np.array([[1.0, 4.0], [4.0, 16.0], [4.0, 16.0]]), np.array([[0.0, 0.2], [1.0, 0.4],
                                                                                          [1.0, 0.4]]))
    out = feat.resampled(np.array([0.5, 1.25, 1.75, 9.0]))
    # f0 geometric between voiced frames, nearest next to an unvoiced one, the last frame past the end
    np.testing.assert_allclose(out.f0, [200.0, 400.0, 0.0, 0.0])
    np.testing.assert_allclose(out.spectral_envelope[0], [2.0, 8.0])  # log-power midpoint
    np.testing.assert_allclose(out.aperiodicity[0], [0.5, 0.3])  # linear midpoint
    assert out.periodicity is None


@pytest.mark.parametrize("positions", [np.arange(700) * 0.7, np.arange(200) * 1.9, np.arange(600) * 0.43 + 250.0,
                                       np.random.default_rng(3).uniform(0, 420, 500), np.arange(400.0)[::-1]],
                         ids=["slower", "faster", "past-the-end", "random-order", "backwards"])
def test_resampled_envelope_and_aperiodicity_follow_the_formula_row_by_row(positions):
    """Over many blocks of frames, in any order: log-power and linear interpolation between the two nearest frames."""
    rng = np.random.default_rng(4)
    n, bins = 400, 33
    sp = np.exp(rng.normal(-9, 4, (n, bins)))
    sp[17, :5] = 0.0  # a zero power reads as 1e-300
    ap = rng.uniform(0, 1, (n, bins))
    out = WorldFeatures(np.full(n, 120.0), sp, ap).resampled(positions)
    assert out.spectral_envelope.shape == out.aperiodicity.shape == (len(positions), bins)
    for j, p in enumerate(positions):
        p = min(p, n - 1)
        i = int(np.floor(p))
        k, w = min(i + 1, n - 1), p - i
        log_power = (1 - w) * np.log(np.maximum(sp[i], 1e-300)) + w * np.log(np.maximum(sp[k], 1e-300))
        np.testing.assert_allclose(out.spectral_envelope[j], np.exp(log_power), rtol=1e-12, atol=0)
        np.testing.assert_allclose(out.aperiodicity[j], (1 - w) * ap[i] + w * ap[k], rtol=1e-12, atol=1e-15)


def test_a_length_change_that_is_not_declared_is_refused_before_synthesis(voice):
    def drop_last_frames(state):
        for ch in state.channels:
            ch.f0, ch.spectral_envelope, ch.aperiodicity = ch.f0[:-10], ch.spectral_envelope[:-10], ch.aperiodicity[:-10]

    with pytest.raises(vcfx.EffectError, match=r"frames, but 44100 samples take 401; an effect that changes the "
                                               r"duration declares it with WorldState.set_length"):
        run_world_effect(drop_last_frames, voice.audio)

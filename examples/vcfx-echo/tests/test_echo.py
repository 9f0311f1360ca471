"""vcfx-echo's own tests: the host's contracts (vcfx.testing) and the echo's arithmetic."""

import numpy as np
import pytest

import vcfx
import vcfx.testing
from vcfx_echo import Echo


def test_keeps_the_host_contracts():
    """Declarations, round trips, length, determinism, stereo, silence, tiny input, several rates."""
    vcfx.testing.check_effect(Echo)


def test_is_registered_through_its_entry_point():
    assert vcfx.effect_class("echo") is Echo
    [info] = [p for p in vcfx.list_plugins() if "echo" in p.effects]
    assert (info.name, info.distribution, info.error) == ("echo", "vcfx-echo", None)


def test_an_impulse_gives_echoes_at_the_right_times_and_levels():
    sr = 16000
    impulse = np.zeros((1, 100))
    impulse[0, 0] = 1.0
    out = vcfx.effect("echo", delay_ms=10.0, feedback=0.5, repeats=3, mix=0.8)(vcfx.Audio(impulse, sr))
    assert out.frames == 100 + 3 * 160
    y = out.samples[0]
    assert np.flatnonzero(y).tolist() == [0, 160, 320, 480]
    np.testing.assert_allclose(y[[0, 160, 320, 480]], [1.0, 0.8, 0.4, 0.2], rtol=1e-6)


def test_mix_curve_fades_the_echoes_in():
    sr = 16000
    click = np.zeros((1, 10))
    click[0, 0] = 1.0
    fade = vcfx.Curve([(0.0, 0.0), (0.1, 1.0)])
    out = vcfx.effect("echo", delay_ms=25.0, feedback=0.9, repeats=4, mix=fade)(vcfx.Audio(click, sr))
    levels = out.samples[0, [400, 800, 1200, 1600]] / 0.9 ** np.arange(4)
    np.testing.assert_allclose(levels, [0.25, 0.5, 0.75, 1.0], atol=1e-6)


def test_in_a_chain_next_to_builtins():
    voice = vcfx.synthetic_voice(1.0, 22050).audio
    chain = vcfx.Chain.from_spec("pitch_shift=semitones=2,echo=delay_ms=100:repeats=2", seed=0)
    out = chain(voice)
    assert out.frames == voice.frames + 2 * 2205 and np.isfinite(out.samples).all()
    assert chain.to_spec() == "pitch_shift=semitones=2,echo=delay_ms=100:repeats=2"


def test_parameters_are_checked():
    with pytest.raises(vcfx.ParameterError, match=r"feedback=1.5 is outside \[0, 0.95\]"):
        vcfx.effect("echo", feedback=1.5)

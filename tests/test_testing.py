"""vcfx.testing: the contract checks pass on every built-in effect and catch broken ones."""

import numpy as np
import pytest

import vcfx
import vcfx.testing
from vcfx.plugins import registry


def builtin_effects() -> list[str]:
    reg = registry()
    return sorted(name for name, info in reg.owner.items() if info.distribution == "vcfx")


@pytest.mark.parametrize("name", builtin_effects())
def test_every_builtin_effect_keeps_the_contracts(name):
    cls = vcfx.effect_class(name)
    assert vcfx.testing.check_effect(cls) >= 1


def test_builtins_include_the_world_and_waveform_effects():
    assert {"pitch_shift", "speed", "noise", "reverb"} <= set(builtin_effects())


# -- effects that break one contract each ------------------------------------------------

class Base(vcfx.Effect):
    summary = "A deliberately broken effect"
    params = (vcfx.Param("gain", float, 1.0, "Gain", low=0.0, high=2.0),)

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=audio.samples * self.gain)


class Fine(Base):
    name = "fine"


class LengthLiar(Base):
    name = "length_liar"

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=np.pad(audio.samples, ((0, 0), (0, 100))))


class Unseeded(Base):
    name = "unseeded"

    def process_waveform(self, audio, ctx):
        noise = np.random.default_rng().standard_normal(audio.samples.shape) * 0.01
        return audio.replace(samples=audio.samples + noise)


class Stateful(Base):
    name = "stateful"
    runs = 0

    def process_waveform(self, audio, ctx):
        type(self).runs += 1
        return audio.replace(samples=audio.samples * (1.0 + 0.01 * type(self).runs))


class ChannelDropper(Base):
    name = "channel_dropper"

    def process_waveform(self, audio, ctx):
        return audio.to_mono()


class Normaliser(Base):
    name = "normaliser"

    def process_waveform(self, audio, ctx):
        with np.errstate(invalid="ignore", divide="ignore"):
            return audio.replace(samples=audio.samples / np.abs(audio.samples).max())


class TinyCrash(Base):
    name = "tiny_crash"

    def process_waveform(self, audio, ctx):
        if audio.frames < 2:
            raise IndexError("index 1 is out of bounds")
        return audio


class SelfMutating(Base):
    name = "self_mutating"

    def process_waveform(self, audio, ctx):
        self.gain = 0.5
        return audio


class BadDefault(Base):
    name = "bad_default"
    params = (vcfx.Param("gain", float, 3.0, "Gain", low=0.0, high=2.0),)


class NoDoc(Base):
    name = "no_doc"
    params = (vcfx.Param("gain", float, 1.0, "", low=0.0, high=2.0),)


class UnregisteredDomain(Base):
    name = "unregistered_domain"
    domains = ("stft",)

    def process_stft(self, state, ctx):
        return state


class SpecBreaker(Base):
    name = "spec_breaker"
    params = (vcfx.Param("label", str, "a", "Any text"),)
    examples = ({"label": 'say "hi"'},)  # a double quote cannot be written in a spec string

    def process_waveform(self, audio, ctx):
        return audio


@pytest.mark.parametrize("cls, message", [
    (LengthLiar, "returned 8920 frames|expected"),
    (Unseeded, "different output in two runs"),
    (Stateful, "different output in two runs"),
    (ChannelDropper, "channel"),
    (Normaliser, "silence"),
    (TinyCrash, "IndexError"),
    (SelfMutating, "changed its own parameters"),
    (BadDefault, "default 3.0 is invalid"),
    (NoDoc, "doc must be one non-empty line"),
    (UnregisteredDomain, "domain 'stft' is not registered"),
    (SpecBreaker, "to_spec"),
])
def test_broken_effects_are_caught(cls, message):
    with pytest.raises(vcfx.testing.ContractError, match=message) as caught:
        vcfx.testing.check_effect(cls, sample_rates=(22050,))
    assert isinstance(caught.value, AssertionError)


def test_a_correct_unregistered_effect_passes():
    assert "fine" not in vcfx.effects()
    assert vcfx.testing.check_effect(Fine, sample_rates=(16000,)) == 1
    assert vcfx.testing.effect_cases(SpecBreaker) == [{}, {"label": 'say "hi"'}]


def test_defaults_that_do_not_build_need_examples():
    class NeedsTwo(Base):
        name = "needs_two"
        params = (vcfx.Param("a", float, None, "A", optional=True),)

        def validate(self):
            if self.a is None:
                raise vcfx.ParameterError("give a")

    with pytest.raises(vcfx.testing.ContractError, match="declare examples"):
        vcfx.testing.check_params(NeedsTwo)
    NeedsTwo.examples = ({"a": 1.0},)
    vcfx.testing.check_params(NeedsTwo)
    assert vcfx.testing.effect_cases(NeedsTwo) == [{"a": 1.0}]


def test_slicer_declarations_are_checked_too():
    vcfx.testing.check_params(vcfx.plugins.slicer_class("onsets"))

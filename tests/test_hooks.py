"""The register_domains and register_presets hooks, through plugin objects registered in process.

(register_effects and register_slicers are exercised in test_plugins.py, test_slicing.py and by every
built-in plugin; tests/test_meta.py checks that each hook in vcfx/hookspecs.py has a test.)
"""

import numpy as np
import pytest
from scipy import signal

import vcfx
from vcfx import plugins
from vcfx.chain import plan


class Spectrum(vcfx.Domain):
    """A toy STFT domain that counts its conversions."""

    name = "test_stft"
    n_fft = 512

    def __init__(self):
        self.analyses = 0
        self.syntheses = 0

    def analyze(self, audio, ctx):
        self.analyses += 1
        _, _, z = signal.stft(audio.samples.astype(np.float64), audio.sample_rate, nperseg=self.n_fft)
        return {"z": z, "sample_rate": audio.sample_rate, "frames": audio.frames}

    def synthesize(self, state, ctx):
        self.syntheses += 1
        _, x = signal.istft(state["z"], state["sample_rate"], nperseg=self.n_fft)
        return vcfx.Audio(x[:, : state["frames"]], state["sample_rate"])

    def min_frames(self, sample_rate):
        return self.n_fft


class Lowpass(vcfx.Effect):
    name = "test_lowpass"
    summary = "Zero every STFT bin above cutoff_hz"
    params = (vcfx.Param("cutoff_hz", float, 1000.0, "Highest frequency kept", unit="Hz", low=10.0, high=20000.0),)
    domains = ("test_stft",)

    def process_test_stft(self, state, ctx):
        freqs = np.fft.rfftfreq(Spectrum.n_fft, 1.0 / state["sample_rate"])
        state["z"] = np.where(freqs[:, np.newaxis] <= self.cutoff_hz, state["z"], 0.0)
        return state


class SpectrumPlugin:
    def __init__(self):
        self.domain = Spectrum()

    @vcfx.hookimpl
    def register_domains(self, register):
        register(self.domain)

    @vcfx.hookimpl
    def register_effects(self, register):
        register(Lowpass)


def tones(sr=16000, seconds=1.0, freqs=(300.0, 4000.0)):
    t = np.arange(int(sr * seconds)) / sr
    return vcfx.Audio(sum(0.3 * np.sin(2 * np.pi * f * t) for f in freqs)[np.newaxis], sr)


def level_at(audio, freq):
    spectrum = np.abs(np.fft.rfft(audio.samples[0] * np.hanning(audio.frames)))
    return spectrum[round(freq * audio.frames / audio.sample_rate)]


def test_hook_register_domains():
    plugin = SpectrumPlugin()
    plugins.register(plugin, name="test-spectrum")
    try:
        assert vcfx.domain("test_stft") is plugin.domain
        assert plugins.registry().plugins["test-spectrum"].domains == ["test_stft"]
        chain = vcfx.Chain.from_spec("test_lowpass=cutoff_hz=2000,test_lowpass=cutoff_hz=1000")
        assert [d for d, _ in plan(list(chain))] == ["test_stft"]
        audio = tones()
        out = chain(audio)
        assert (plugin.domain.analyses, plugin.domain.syntheses) == (1, 1)  # one conversion for both effects
        assert out.frames == audio.frames
        assert level_at(out, 300.0) == pytest.approx(level_at(audio, 300.0), rel=0.01)
        assert level_at(out, 4000.0) < 1e-3 * level_at(audio, 4000.0)
        with pytest.raises(vcfx.AudioError, match="too short for the test_stft domain"):
            chain(vcfx.Audio(np.zeros((1, 100)), 16000))
    finally:
        plugins.unregister("test-spectrum")
    with pytest.raises(vcfx.PluginError, match='unknown domain "test_stft"'):
        vcfx.domain("test_stft")
    assert "test_lowpass" not in vcfx.effects()


def test_register_domains_refuses_a_taken_name():
    first, second = SpectrumPlugin(), SpectrumPlugin()
    plugins.register(first, name="test-spectrum-1")
    plugins.register(second, name="test-spectrum-2")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match='plugin "test-spectrum-[12]".*domain "test_stft" is already registered'):
            plugins.registry()
        failed = [p.name for p in vcfx.list_plugins() if p.error]
        assert len(failed) == 1 and failed[0].startswith("test-spectrum-")
        assert vcfx.domain("test_stft") in (first.domain, second.domain) and "pitch_shift" in vcfx.effects()
    finally:
        plugins.unregister("test-spectrum-1")
        plugins.unregister("test-spectrum-2")


def robotic(semitones: float = -5.0, seed: int | None = None) -> vcfx.Chain:
    return vcfx.Chain([vcfx.effect("pitch_variance", factor=0.0), vcfx.effect("pitch_shift", semitones=semitones)],
                      seed=seed)


class PresetPlugin:
    @vcfx.hookimpl
    def register_presets(self, register):
        register("test_robotic", robotic, "Monotone and lower")


def test_hook_register_presets():
    plugins.register(PresetPlugin(), name="test-presets")
    try:
        assert vcfx.presets()["test_robotic"] == "Monotone and lower"
        assert plugins.registry().plugins["test-presets"].presets == ["test_robotic"]
        assert vcfx.preset("test_robotic", semitones=-3).to_spec() == "pitch_variance=factor=0,pitch_shift=semitones=-3"
        chain = vcfx.load_chain("test_robotic", seed=4)
        assert chain.seed == 4 and chain[1].semitones == -5.0
        with pytest.raises(vcfx.ParameterError, match='preset "test_robotic".*octaves'):
            vcfx.preset("test_robotic", octaves=1)
        with pytest.raises(vcfx.PluginError, match='unknown preset "test_robotik"; did you mean "test_robotic"'):
            vcfx.preset("test_robotik")
    finally:
        plugins.unregister("test-presets")
    assert "test_robotic" not in vcfx.presets()

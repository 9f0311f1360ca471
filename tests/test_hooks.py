"""Hooks through plugin objects registered in process, and how pluggy runs them.

The main tests of register_domains, register_presets and register_commands are here (``test_hook_<name>``;
register_effects and register_slicers have theirs in test_plugins.py and test_slicing.py); the others check
that hooks run as pluggy documents (wrappers, tryfirst/trylast) and that a plugin failing half-way keeps
nothing it registered.
"""

import click
import numpy as np
import pytest
from scipy import signal

import vcfx
from vcfx import plugins
from vcfx.chain import plan
from vcfx.cli import main


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


class Gain(vcfx.Effect):
    name = "test_gain"
    summary = "Multiply by a factor"
    params = (vcfx.Param("factor", float, 1.0, "Gain", low=0.0, high=4.0),)

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=audio.samples * self.factor)


class GainPlugin:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(Gain)


def test_an_effect_belongs_to_the_plugin_that_registered_it(voice):
    plugins.register(GainPlugin(), name="test-gain")
    try:
        out = vcfx.Chain.from_spec("pitch_shift=semitones=0,test_gain=factor=0.5")[1:](voice.audio)
        np.testing.assert_allclose(out.samples, voice.audio.samples * 0.5, rtol=1e-6)
        info = plugins.owner("test_gain")
        assert info.name == "test-gain" and info.effects == ["test_gain"] and info.hooks == ["register_effects"]
        assert plugins.owner("pitch_shift").name == "world"
    finally:
        plugins.unregister("test-gain")
    assert "test_gain" not in vcfx.effects()


class Halves(vcfx.Slicer):
    name = "test_halves"
    summary = "Cut in the middle"

    def find(self, audio):
        mid = audio.frames // 2
        return [(0, mid), (mid, audio.frames)]


class HalvesPlugin:
    @vcfx.hookimpl
    def register_slicers(self, register):
        register(Halves)


# -- a plugin failing half-way keeps nothing -----------------------------------------------------------------

HOOK_ORDER = ["register_domains", "register_live_domains", "register_effects", "register_presets", "register_slicers"]


class HalfDone:
    """Registers one of everything, and raises in the hook ``fail_in`` after registering there."""

    def __init__(self, fail_in):
        self.fail_in = fail_in

    def _then_maybe_fail(self, hook):
        if hook == self.fail_in:
            raise RuntimeError(f"boom in {hook}")

    @vcfx.hookimpl
    def register_domains(self, register):
        register(Spectrum())
        self._then_maybe_fail("register_domains")

    @vcfx.hookimpl
    def register_live_domains(self, register):
        register("test_stft", lambda *args: None)
        self._then_maybe_fail("register_live_domains")

    @vcfx.hookimpl
    def register_effects(self, register):
        register(Lowpass)
        self._then_maybe_fail("register_effects")

    @vcfx.hookimpl
    def register_presets(self, register):
        register("test_half_done", robotic, "Never kept")
        self._then_maybe_fail("register_presets")

    @vcfx.hookimpl
    def register_slicers(self, register):
        register(Halves)
        self._then_maybe_fail("register_slicers")


@pytest.mark.parametrize("fail_in", HOOK_ORDER)
def test_a_plugin_failing_half_way_leaves_nothing_behind(fail_in):
    plugins.register(HalfDone(fail_in), name="test-half-done")
    plugins.register(GainPlugin(), name="test-gain")
    try:
        with pytest.warns(vcfx.PluginLoadWarning) as caught:
            reg = plugins.registry()
        assert len(caught) == 1
        message = str(caught[0].message)
        assert message.startswith('plugin "test-half-done" from entry point (none) failed to load; ')
        assert f"{fail_in} raised: RuntimeError: boom in {fail_in}; nothing it registered is kept (" in message
        registered_before = {"register_domains": "domains: test_stft", "register_live_domains": "live_domains: test_stft",
                             "register_effects": "effects: test_lowpass",
                             "register_presets": "presets: test_half_done", "register_slicers": "slicers: test_halves"}
        for hook in HOOK_ORDER[: HOOK_ORDER.index(fail_in) + 1]:  # what it registered up to the failure, dropped
            assert registered_before[hook] in message
        assert "test_stft" not in reg.domains and "test_lowpass" not in reg.effects
        assert "test_stft" not in reg.live_domains
        assert "test_half_done" not in reg.presets and "test_halves" not in reg.slicers
        info = reg.plugins["test-half-done"]
        assert info.error == f"{fail_in} raised: RuntimeError: boom in {fail_in}"
        assert (info.effects, info.domains, info.live_domains, info.presets, info.slicers) == ([], [], [], [], [])
        with pytest.raises(vcfx.PluginError, match='unknown domain "test_stft"'):
            vcfx.domain("test_stft")
        # the others keep working, and the failed plugin is named where a user looks
        assert reg.plugins["test-gain"].effects == ["test_gain"] and "pitch_shift" in reg.effects
        with pytest.raises(vcfx.PluginError, match='failed to load: plugin "test-half-done".*boom'):
            vcfx.effect("test_lowpass")
    finally:
        plugins.unregister("test-half-done")
        plugins.unregister("test-gain")


def test_a_failing_hook_is_an_error_when_strict(monkeypatch):
    monkeypatch.setenv("VCFX_STRICT_PLUGINS", "1")
    plugins.register(HalfDone("register_effects"), name="test-half-done")
    try:
        with pytest.raises(vcfx.PluginError, match="test-half-done.*boom in register_effects.*nothing it registered "
                                                   "is kept.*VCFX_STRICT_PLUGINS"):
            plugins.registry()
    finally:
        plugins.unregister("test-half-done")
        monkeypatch.delenv("VCFX_STRICT_PLUGINS")
    assert "test_stft" not in plugins.registry().domains


# -- pluggy's call semantics --------------------------------------------------------------------------------


class Watcher:
    """A new-style wrapper around register_effects: sees the call before and after every other plugin."""

    def __init__(self):
        self.seen = []

    @vcfx.hookimpl(wrapper=True)
    def register_effects(self, register):
        self.seen.append(("before", register.registered))
        result = yield
        self.seen.append(("after", register.registered))
        return result


def test_a_wrapper_sees_the_call_and_what_the_others_registered():
    watcher = Watcher()
    plugins.register(watcher, name="test-watcher")
    plugins.register(GainPlugin(), name="test-gain")
    try:
        reg = plugins.registry()
        assert [when for when, _ in watcher.seen] == ["before", "after"]  # one call, wrapped
        assert watcher.seen[0][1] == ()
        assert sorted(watcher.seen[1][1]) == sorted(reg.effects)  # every plugin's effects, test_gain included
        assert "test_gain" in watcher.seen[1][1] and "pitch_shift" in watcher.seen[1][1]
        assert reg.plugins["test-watcher"].error is None and reg.plugins["test-watcher"].effects == []
    finally:
        plugins.unregister("test-watcher")
        plugins.unregister("test-gain")


class Failing:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(Lowpass)
        raise RuntimeError("boom in Failing")


class Forgiving:
    """A wrapper that catches what the wrapped implementations raise, as pluggy lets it."""

    def __init__(self):
        self.caught = []

    @vcfx.hookimpl(wrapper=True)
    def register_effects(self, register):
        try:
            return (yield)
        except RuntimeError as exc:
            self.caught.append(str(exc))
            return []


def test_a_wrapper_sees_a_failure_and_the_failed_plugin_is_still_dropped():
    forgiving = Forgiving()
    plugins.register(forgiving, name="test-forgiving")
    plugins.register(Failing(), name="test-failing")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match='plugin "test-failing".*boom in Failing.*nothing it '
                                                         'registered is kept'):
            reg = plugins.registry()
        assert forgiving.caught == ["boom in Failing"]  # the round that failed; the next one went without it
        assert "test_lowpass" not in reg.effects and "pitch_shift" in reg.effects
        assert reg.plugins["test-failing"].error and reg.plugins["test-forgiving"].error is None
    finally:
        plugins.unregister("test-forgiving")
        plugins.unregister("test-failing")


class OldStyle:
    """An old-style ``hookwrapper=True`` implementation gets pluggy's Result of the call."""

    def __init__(self):
        self.outcomes = []

    @vcfx.hookimpl(hookwrapper=True)
    def register_effects(self, register):
        outcome = yield
        self.outcomes.append((outcome.exception, "pitch_shift" in register.registered))


def test_an_old_style_hookwrapper_gets_the_result():
    old = OldStyle()
    plugins.register(old, name="test-old-style")
    try:
        plugins.registry()
        assert old.outcomes == [(None, True)]
    finally:
        plugins.unregister("test-old-style")


class RaisingWrapper:
    @vcfx.hookimpl(wrapper=True)
    def register_effects(self, register):
        register(Gain)
        yield
        raise RuntimeError("boom after yield")


class SilentWrapper:
    @vcfx.hookimpl(wrapper=True)
    def register_effects(self, register):
        if False:
            yield


@pytest.mark.parametrize(("plugin", "reason"), [(RaisingWrapper, "RuntimeError: boom after yield"),
                                                 (SilentWrapper, "did not yield")])
def test_a_failing_wrapper_fails_alone(plugin, reason):
    plugins.register(plugin(), name="test-bad-wrapper")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match=f'plugin "test-bad-wrapper".*{reason}'):
            reg = plugins.registry()
        assert "test_gain" not in reg.effects and "pitch_shift" in reg.effects
        assert [p.name for p in reg.plugins.values() if p.error] == ["test-bad-wrapper"]
    finally:
        plugins.unregister("test-bad-wrapper")


def ordered(tag, log, **marks):
    class Plugin:
        @vcfx.hookimpl(**marks)
        def register_effects(self, register):
            log.append((tag, "pitch_shift" in register.registered))

    return Plugin()


def test_tryfirst_and_trylast_order_the_calls():
    log = []
    # registered so that pluggy's default order (newest first) would be the reverse of what the marks ask
    plugins.register(ordered("first", log, tryfirst=True), name="test-first")
    plugins.register(ordered("middle", log), name="test-middle")
    plugins.register(ordered("last", log, trylast=True), name="test-last")
    try:
        plugins.registry()
        # the built-ins (no marks) run between the tryfirst and the trylast implementation
        assert log == [("first", False), ("middle", False), ("last", True)]
    finally:
        for name in ("test-first", "test-middle", "test-last"):
            plugins.unregister(name)


class EagerImpostor:
    @vcfx.hookimpl(tryfirst=True)
    def register_effects(self, register):
        class Impostor(vcfx.Effect):
            name = "pitch_shift"

            def process_waveform(self, audio, ctx):
                return audio

        register(Impostor)


def test_running_first_does_not_win_a_builtin_name():
    plugins.register(EagerImpostor(), name="test-impostor")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match='effect "pitch_shift" is already registered by plugin "world"'):
            reg = plugins.registry()
        assert reg.effects["pitch_shift"].__module__ == "vcfx_world.pitch_shift"
        assert reg.plugins["test-impostor"].error and reg.plugins["world"].error is None
    finally:
        plugins.unregister("test-impostor")


class Nosy:
    def __init__(self):
        self.saved = None

    @vcfx.hookimpl
    def register_effects(self, register):
        self.saved = register
        vcfx.effects()  # the registry being built


def test_a_hook_only_registers():
    nosy = Nosy()
    plugins.register(nosy, name="test-nosy")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match="test-nosy.*registry was asked for from inside a plugin hook"):
            plugins.registry()
        with pytest.raises(vcfx.PluginError, match="register_effects was called when no hook was running"):
            nosy.saved(Gain)
        assert "test_gain" not in vcfx.effects()
    finally:
        plugins.unregister("test-nosy")


# -- register_commands ----------------------------------------------------------------------------------------


class HelloPlugin:
    @vcfx.hookimpl
    def register_commands(self, cli):
        @cli.command(name="test-hello")
        @click.argument("name")
        @click.option("--times", type=click.IntRange(1, 5), default=1)
        def hello(name, times):
            """Greet NAME."""
            click.echo(" ".join([f"hello {name}"] * times) + f" ({len(vcfx.effects())} effects)")


def test_hook_register_commands(capsys):
    plugins.register(HelloPlugin(), name="test-hello")
    try:
        assert main(["test-hello", "you", "--times", "2"]) == 0
        out, _ = capsys.readouterr()
        assert out == f"hello you hello you ({len(vcfx.effects())} effects)\n"
        assert main(["--help"]) == 0
        assert "test-hello  Greet NAME." in capsys.readouterr().out
        assert main(["test-hello", "you", "--times", "9"]) == 2  # vcfx's own error handling applies
        assert "vcfx: error:" in capsys.readouterr().err
        assert plugins.registry().plugins["test-hello"].hooks == ["register_commands"]
    finally:
        plugins.unregister("test-hello")
    assert main(["test-hello", "you"]) == 2  # gone with its plugin
    assert "No such command 'test-hello'" in capsys.readouterr().err


class CommandThenBoom:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(Gain)

    @vcfx.hookimpl
    def register_commands(self, cli):
        @cli.command(name="test-half")
        def half():
            """Never added."""

        raise RuntimeError("boom in register_commands")


class TakesApply:
    @vcfx.hookimpl
    def register_commands(self, cli):
        assert "apply" in cli.commands  # the group lists vcfx's own commands

        @cli.command(name="apply")
        def apply():
            """Would shadow vcfx apply."""


@pytest.mark.parametrize(("plugin", "reason"), [
    (CommandThenBoom, "register_commands raised: RuntimeError: boom in register_commands"),
    (TakesApply, 'register_commands: command "apply" is already a vcfx command'),
])
def test_a_failing_register_commands_is_isolated(capsys, plugin, reason):
    plugins.register(plugin(), name="test-commands")
    plugins.register(HelloPlugin(), name="test-hello")
    try:
        with pytest.warns(vcfx.PluginLoadWarning) as caught:
            assert main(["--help"]) == 0
        assert [str(w.message) for w in caught] == [
            f'plugin "test-commands" from entry point (none) failed to load; {reason}; nothing it registered is kept'
            + (" (effects: test_gain; commands: test-half)" if plugin is CommandThenBoom else " (commands: apply)")
        ]
        listing = capsys.readouterr().out
        assert "test-hello" in listing and "test-half" not in listing
        assert "test_gain" not in vcfx.effects()  # the plugin failed as a whole
        assert plugins.registry().plugins["test-commands"].error == reason
        assert main(["apply", "--help"]) == 0 and "Apply a chain" in capsys.readouterr().out
    finally:
        plugins.unregister("test-commands")
        plugins.unregister("test-hello")


class WrongCall:
    @vcfx.hookimpl
    def register_presets(self, register):
        register("test_wrong")  # no factory


def test_a_wrong_register_call_names_the_hook():
    plugins.register(WrongCall(), name="test-wrong-call")
    try:
        with pytest.warns(vcfx.PluginLoadWarning, match="register_presets raised: PluginError: register\\(\\) of "
                                                         "register_presets: missing a required argument: 'factory'"):
            assert "test_wrong" not in plugins.registry().presets
    finally:
        plugins.unregister("test-wrong-call")

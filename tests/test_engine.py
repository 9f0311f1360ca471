"""Choosing the engine per chain: ``Chain(engine=...)``, saved and loaded everywhere, on the command line and in batch.

The engine here is a domain registered by this file ("test_engine"), with an effect that offers both it and
WORLD, so nothing depends on which engines are installed.
"""

import json

import numpy as np
import pytest

import vcfx
from vcfx import plugins
from vcfx.batching import MANIFEST_NAME, batch, reproduce
from vcfx.chain import default_engine, plan
from vcfx.cli import main
from vcfx.presets import load_chain, write_preset
from vcfx.streaming import stream_audio

from spies import Counter

WORLD_CALLS = ("dio", "harvest", "cheaptrick", "d4c", "synthesize")


class ToyEngine(vcfx.Domain):
    """A domain whose state is the samples themselves; it counts its conversions."""

    name = "test_engine"

    def __init__(self):
        self.analyses = 0
        self.syntheses = 0

    def analyze(self, audio, ctx):
        self.analyses += 1
        return {"samples": audio.samples.astype(np.float64), "sample_rate": audio.sample_rate}

    def synthesize(self, state, ctx):
        self.syntheses += 1
        return vcfx.Audio(state["samples"], state["sample_rate"])


class Gain(vcfx.Effect):
    name = "test_engine_gain"
    summary = "Change the level, in WORLD or in the test engine"
    params = (vcfx.Param("gain_db", float, -6.0, "Level change", unit="dB", low=-40.0, high=20.0),)
    domains = ("world", "test_engine")

    def process_world(self, state, ctx):
        for ch in state.channels:
            ch.spectral_envelope *= 10.0 ** (self.gain_db / 10.0)  # a power spectrum
        return state

    def process_test_engine(self, state, ctx):
        state["samples"] = state["samples"] * 10.0 ** (self.gain_db / 20.0)
        return state


class PrefersTheEngine(Gain):
    """``test_engine_gain`` that prefers the test engine when ``prefer`` is set."""

    name = "test_engine_prefers"
    params = Gain.params + (vcfx.Param("prefer", bool, True, "Prefer the test engine"),)

    def preferred_engine(self):
        return "test_engine" if self.prefer else None


class EnginePlugin:
    def __init__(self):
        self.domain = ToyEngine()

    @vcfx.hookimpl
    def register_domains(self, register):
        register(self.domain)

    @vcfx.hookimpl
    def register_effects(self, register):
        register(Gain)
        register(PrefersTheEngine)


@pytest.fixture
def engine():
    """The test engine's domain, registered for the test and unregistered after it."""
    plugin = EnginePlugin()
    plugins.register(plugin, name="test-engine")
    try:
        yield plugin.domain
    finally:
        plugins.unregister("test-engine")


@pytest.fixture(scope="module")
def audio():
    return vcfx.synthetic_voice(0.5, 16000, f0_hz=(150.0, 190.0)).audio


def gain(db=-6.0):
    return vcfx.effect("test_engine_gain", gain_db=db)


def fx(name, **params):
    return vcfx.effect(name, **params)


def domains(chain):
    return [(dom, [e.name for e in effects]) for dom, effects in plan(chain)]


def scaled(audio, db):
    return audio.samples.astype(np.float64) * 10.0 ** (db / 20.0)


# -- planning and running -------------------------------------------------------------------------------

def test_without_an_engine_the_effect_runs_in_world_as_before(engine, audio, monkeypatch):
    counter = Counter(monkeypatch, *WORLD_CALLS)
    chain = vcfx.Chain([gain(-6.0), gain(-3.0)])
    assert chain.engine is None and default_engine(list(chain)) is None
    assert domains(chain) == [("world", ["test_engine_gain", "test_engine_gain"])]  # its first-listed domain
    out = chain(audio)
    assert (engine.analyses, engine.syntheses) == (0, 0)
    assert counter.calls["synthesize"] == 1 and counter.analysed_once(audio)
    assert out.frames == audio.frames


def test_the_default_engine_is_the_one_an_effect_prefers_and_no_other_contradicts(engine, audio):
    prefers = vcfx.effect("test_engine_prefers", gain_db=-6.0)
    assert default_engine([prefers, gain(-3.0)]) == "test_engine"
    assert domains(vcfx.Chain([prefers, gain(-3.0), fx("noise", snr_db=30.0)])) == [
        ("test_engine", ["test_engine_prefers", "test_engine_gain"]), ("waveform", ["noise"])]
    out = vcfx.Chain([prefers, gain(-3.0)])(audio)
    assert (engine.analyses, engine.syntheses) == (1, 1)
    np.testing.assert_allclose(out.samples, scaled(audio, -9.0), atol=1e-6)
    # an effect that cannot run in it, or prefers another engine, leaves the choice to the planner
    assert default_engine([prefers, fx("formant_shift", ratio=1.1)]) is None
    assert default_engine([prefers, fx("pitch_shift", semitones=12.0), gain()]) is None
    assert default_engine([vcfx.effect("test_engine_prefers", prefer=False), gain()]) is None
    assert domains(vcfx.Chain([prefers], engine="world")) == [("world", ["test_engine_prefers"])]
    # options for another engine only ask for that one: the preference gives way
    assert default_engine([prefers, gain(-3.0)], configured={"world"}) is None
    assert default_engine([prefers, gain(-3.0)], configured={"world", "test_engine"}) == "test_engine"
    assert domains(vcfx.Chain([prefers], options={"world": {"f0_method": "harvest"}})) == [
        ("world", ["test_engine_prefers"])]


def test_the_engine_runs_a_run_of_effects_on_one_analysis_and_one_synthesis(engine, audio, monkeypatch):
    counter = Counter(monkeypatch, *WORLD_CALLS)
    chain = vcfx.Chain([gain(-6.0), gain(-3.0)], engine="test_engine")
    assert domains(chain) == [("test_engine", ["test_engine_gain", "test_engine_gain"])]
    out = chain(audio)
    assert (engine.analyses, engine.syntheses) == (1, 1)
    assert sum(counter.calls.values()) == 0  # WORLD never ran
    np.testing.assert_allclose(out.samples, scaled(audio, -9.0), atol=1e-6)  # exact: no vocoder in the way


def test_effects_that_do_not_offer_the_engine_run_where_they_would(engine, audio):
    chain = vcfx.Chain([gain(), gain(), fx("noise", snr_db=30.0), fx("pitch_shift", semitones=2.0), gain(),
                        fx("tempo", rate=1.1)], seed=0)
    assert domains(chain) == [("world", ["test_engine_gain", "test_engine_gain"]), ("waveform", ["noise"]),
                              ("world", ["pitch_shift", "test_engine_gain", "tempo"])]
    chain.engine = "test_engine"
    # noise stays on the waveform and pitch_shift in WORLD; tempo offers no test_engine, so it is planned by cost
    # as always: alone after a test_engine run, on the waveform (one pass) rather than a WORLD run of its own
    assert domains(chain) == [("test_engine", ["test_engine_gain", "test_engine_gain"]), ("waveform", ["noise"]),
                              ("world", ["pitch_shift"]), ("test_engine", ["test_engine_gain"]),
                              ("waveform", ["tempo"])]
    out = chain(audio)
    assert (engine.analyses, engine.syntheses) == (2, 2)
    assert out.frames == chain.expected_frames(audio.frames, audio.sample_rate)


def test_forcing_world_moves_an_effect_that_would_run_on_the_waveform(audio, monkeypatch):
    tempo = vcfx.Chain([fx("tempo", rate=1.25)])
    assert domains(tempo) == [("waveform", ["tempo"])]
    counter = Counter(monkeypatch, *WORLD_CALLS)
    tempo.engine = "world"
    assert domains(tempo) == [("world", ["tempo"])]
    out = tempo(audio)
    assert counter.calls["synthesize"] == 1 and counter.analysed_once(audio)
    assert abs(out.frames - audio.frames / 1.25) <= 0.001 * audio.frames  # tempo's own length rule


def test_an_engine_no_effect_offers_changes_nothing(engine, audio):
    chain = vcfx.Chain([fx("noise", snr_db=20.0), fx("pitch_shift", semitones=-12.0)], seed=3)
    forced = vcfx.Chain(list(chain), seed=3, engine="test_engine")
    assert domains(forced) == domains(chain)
    np.testing.assert_array_equal(forced(audio).samples, chain(audio).samples)


def test_a_nested_chains_engine_applies_to_its_effects_and_the_outer_one_where_it_sets_none(engine, audio):
    inner = vcfx.Chain([gain(-1.0), gain(-2.0)], engine="test_engine")
    around = vcfx.Chain([fx("pitch_shift", semitones=1.0), inner, fx("pitch_shift", semitones=-1.0)])
    assert [d for d, _ in plan(around)] == ["world", "test_engine", "world"]
    around.engine = "world"
    assert [d for d, _ in plan(around)] == ["world", "test_engine", "world"]  # the inner chain's own engine wins
    inner.engine = None
    assert [d for d, _ in plan(around)] == ["world"]  # the outer chain's engine applies where it sets none

    inner.engine = "test_engine"
    outer = vcfx.Chain([gain(-3.0), inner, gain(-4.0)])
    # the outer effects choose no engine: planned by cost, they join the inner chain's run rather than pay
    # for WORLD runs of their own
    assert [d for d, _ in plan(outer)] == ["test_engine"]
    out = outer(audio)
    assert (engine.analyses, engine.syntheses) == (1, 1)
    np.testing.assert_allclose(out.samples, scaled(audio, -10.0), atol=1e-6)
    outer.engine, inner.engine = "test_engine", "world"
    assert [d for d, _ in plan(outer)] == ["test_engine", "world", "test_engine"]
    # plan() takes the engine around a chain, as it takes the options around it
    assert [d for d, _ in plan(vcfx.Chain([gain()]), engine="test_engine")] == ["test_engine"]
    assert [d for d, _ in plan(vcfx.Chain([gain()], engine="world"), engine="test_engine")] == ["world"]


def test_streaming_keeps_the_engine(engine, audio, monkeypatch):
    counter = Counter(monkeypatch, *WORLD_CALLS)
    long = vcfx.Audio(np.tile(audio.samples, (1, 8)), audio.sample_rate)  # 4 s, streamed in chunks of ~1 s
    out = stream_audio(vcfx.Chain([gain(-6.0)], engine="test_engine"), long, chunk_s=1.0, workers=1)
    assert engine.analyses >= 3 and engine.analyses == engine.syntheses
    assert sum(counter.calls.values()) == 0
    np.testing.assert_allclose(out.samples, scaled(long, -6.0), atol=1e-5)  # crossfades of equal gains


# -- validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nope", "waveform", "", 3])
def test_an_unknown_engine_is_a_parameter_error_naming_the_known_ones(engine, bad):
    with pytest.raises(vcfx.ParameterError, match=r"engine=.* is not a registered engine.*; known: .*test_engine.*world"):
        vcfx.Chain([gain()], engine=bad)
    chain = vcfx.Chain([gain()], engine="test_engine")
    with pytest.raises(vcfx.ParameterError, match="known: "):
        chain.engine = bad
    assert chain.engine == "test_engine"  # a refused assignment changes nothing
    with pytest.raises(vcfx.ParameterError, match="is not a registered engine"):
        vcfx.Chain.from_dict({"engine": bad, "effects": []})


def test_a_misspelt_engine_gets_a_suggestion(engine):
    with pytest.raises(vcfx.ParameterError, match=r"""engine='tset_engine' is not a registered engine """
                                                  r"""\(did you mean "test_engine"\?\); known: .*test_engine"""):
        vcfx.Chain([], engine="tset_engine")


def test_an_engine_that_is_no_longer_registered_is_refused():
    with pytest.raises(vcfx.ParameterError, match="engine='test_engine' is not a registered engine; known: .*world"):
        vcfx.Chain([], engine="test_engine")


# -- the chain as a value ---------------------------------------------------------------------------------

def test_repr_equality_copies_and_resolve_keep_the_engine(engine):
    chain = vcfx.Chain.from_spec("test_engine_gain=gain_db=uniform(-6,0)", seed=4)
    chain.engine = "test_engine"
    assert repr(chain).endswith("seed=4, engine='test_engine')")
    assert chain != vcfx.Chain(list(chain), seed=4)
    assert chain == vcfx.Chain(list(chain), seed=4, engine="test_engine")
    assert chain[:].engine == "test_engine"
    resolved = chain.resolve()
    assert resolved.engine == "test_engine" and not resolved.is_random()
    assert "engine" not in vcfx.Chain([gain()]).to_dict()  # omitted when None
    assert "engine" not in repr(vcfx.Chain([gain()]))


def test_to_dict_json_and_toml_round_trip_nested_engines(engine, tmp_path):
    chain = vcfx.Chain([gain(-1.0), vcfx.Chain([gain(-2.0)], engine="world"), fx("noise", snr_db=25.0)],
                       seed=9, engine="test_engine")
    data = chain.to_dict()
    assert data["engine"] == "test_engine" and data["effects"][1]["engine"] == "world"
    assert vcfx.Chain.from_dict(data) == chain
    for name in ("p.json", "p.toml"):
        path = write_preset(chain, tmp_path / name)
        assert load_chain(str(path)) == chain
    assert 'engine = "test_engine"' in (tmp_path / "p.toml").read_text().splitlines()
    assert json.loads((tmp_path / "p.json").read_text())["engine"] == "test_engine"


def test_a_spec_string_refuses_a_nested_chain_with_an_engine_of_its_own(engine):
    chain = vcfx.Chain([gain(-1.0), vcfx.Chain([gain(-2.0)], engine="test_engine")])
    with pytest.raises(vcfx.SpecError, match="its engine changes how its effects run.*preset file"):
        chain.to_spec()
    same = vcfx.Chain([vcfx.Chain([gain(-2.0)], engine="test_engine")], engine="test_engine")
    assert same.to_spec() == "test_engine_gain=gain_db=-2"


# -- files, the command line, batch ---------------------------------------------------------------------------

@pytest.fixture
def wav(tmp_path, audio):
    return audio.save(tmp_path / "in.wav", subtype="FLOAT")


def test_apply_file_and_vcfx_apply_take_the_engine_and_save_it(engine, audio, wav, tmp_path, capsys):
    result = vcfx.apply_file(wav, tmp_path / "a.wav", "test_engine_gain=gain_db=-6", engine="test_engine",
                             subtype="FLOAT")
    assert result.chain.engine == "test_engine" and engine.analyses == 1
    np.testing.assert_allclose(vcfx.load(tmp_path / "a.wav").samples, scaled(audio, -6.0), atol=1e-6)

    status = main(["apply", str(wav), str(tmp_path / "b.wav"), "--chain", "test_engine_gain=gain_db=-6",
                   "--engine", "test_engine", "--subtype", "FLOAT", "--save-preset", str(tmp_path / "b.toml"), "-q"])
    assert status == 0 and engine.analyses == 2
    np.testing.assert_array_equal(vcfx.load(tmp_path / "b.wav").samples, vcfx.load(tmp_path / "a.wav").samples)
    saved = load_chain(str(tmp_path / "b.toml"))
    assert saved.engine == "test_engine"
    # the saved preset reproduces the run, engine included
    assert main(["apply", str(wav), str(tmp_path / "c.wav"), "--chain", str(tmp_path / "b.toml"),
                 "--subtype", "FLOAT", "-q"]) == 0
    assert engine.analyses == 3
    np.testing.assert_array_equal(vcfx.load(tmp_path / "c.wav").samples, vcfx.load(tmp_path / "b.wav").samples)


def test_vcfx_apply_refuses_an_unknown_engine_as_a_usage_error(engine, wav, tmp_path, capsys):
    capsys.readouterr()
    status = main(["apply", str(wav), str(tmp_path / "out.wav"), "--chain", "test_engine_gain", "--engine", "psla"])
    err = capsys.readouterr().err
    assert status == 2
    assert "'--engine'" in err and "engine='psla' is not a registered engine" in err
    known = err.split("known: ")[1]
    assert "test_engine" in known and "world" in known  # whatever other engines are installed
    assert not (tmp_path / "out.wav").exists()


def test_batch_runs_the_engine_and_the_manifest_records_it(engine, audio, wav, tmp_path):
    (tmp_path / "in").mkdir()
    wav.rename(tmp_path / "in" / "a.wav")
    result = batch(tmp_path / "in", tmp_path / "out", vcfx.Chain([gain(-6.0)]), engine="test_engine", quiet=True)
    assert result.done == 1 and engine.analyses == 1
    np.testing.assert_allclose(vcfx.load(tmp_path / "out" / "a.wav").samples, scaled(audio, -6.0), atol=1e-6)
    record = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert record["engine"] == "test_engine"
    reproduce(record, tmp_path / "in", tmp_path / "again.wav")
    assert engine.analyses == 2
    np.testing.assert_array_equal(vcfx.load(tmp_path / "again.wav").samples,
                                  vcfx.load(tmp_path / "out" / "a.wav").samples)

    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "cli"), "--chain", "test_engine_gain=gain_db=-6",
                 "--engine", "test_engine", "--executor", "local", "-q"]) == 0
    assert engine.analyses == 3
    assert json.loads((tmp_path / "cli" / MANIFEST_NAME).read_text())["engine"] == "test_engine"


def test_the_old_engine_local_and_dask_still_choose_the_executor_with_a_warning(engine, wav, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    wav.rename(tmp_path / "in" / "a.wav")
    with pytest.warns(DeprecationWarning, match=r"batch\(engine='local'\) is deprecated.*executor='local'"):
        result = batch(tmp_path / "in", tmp_path / "py", "test_engine_gain", engine="local", quiet=True)
    assert result.done == 1 and engine.analyses == 0  # no voice engine chosen: WORLD ran
    with pytest.raises(vcfx.ParameterError, match="executor='dask' and engine='local' disagree"):
        batch(tmp_path / "in", tmp_path / "py", "test_engine_gain", engine="local", executor="dask")
    capsys.readouterr()
    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "cli"), "--chain", "test_engine_gain",
                 "--engine", "local"]) == 0
    assert "warning: --engine local is deprecated: use --executor local" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "cli"), "--chain", "test_engine_gain",
                 "--engine", "local", "--executor", "dask"]) == 2
    assert "give only --executor" in capsys.readouterr().err

"""Chains inside chains keep the Effect contract: they save, load, draw, fuse, stream and batch."""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import vcfx
from spies import Counter
from vcfx import Chain, load_chain, write_preset
from vcfx.batching import MANIFEST_NAME, reproduce
from vcfx.chain import plan
from vcfx.cli import main
from vcfx.streaming import stream_audio

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def fx(name, **params):
    return vcfx.effect(name, **params)


def nested_random() -> Chain:
    """Random, curved and nested two levels deep; one nested chain with a seed of its own."""
    return Chain([
        fx("pitch_shift", semitones=[(0.0, 0.0), (0.5, 2.0)]),
        Chain([fx("formant_shift", ratio="uniform(0.9,1.1)"), fx("tempo", rate="choice(0.8,1.25)")]),
        Chain([Chain([fx("noise", snr_db="uniform(20,30)", color="choice(white,pink)")])], seed=3),
    ], seed=11)


def flat(chain: Chain) -> Chain:
    """The same effects with the nesting taken out."""
    return Chain([e for dom, group in plan(chain) for e in group], seed=chain.seed, options=chain.options)


@pytest.fixture(scope="module")
def short_voice() -> vcfx.Audio:
    return vcfx.synthetic_voice(1.0, 16000, f0_hz=(150.0, 210.0)).audio


# -- saving and loading --------------------------------------------------------------------------


def test_every_level_names_itself_and_round_trips_through_a_dict_and_json():
    chain = nested_random()
    data = chain.to_dict()
    assert data["effect"] == data["effects"][1]["effect"] == data["effects"][2]["effects"][0]["effect"] == "chain"
    assert data["effects"][2]["seed"] == 3
    assert Chain.from_dict(data) == chain
    assert Chain.from_dict(json.loads(json.dumps(data))) == chain
    resolved = chain.resolve()
    assert Chain.from_dict(json.loads(json.dumps(resolved.to_dict()))) == resolved


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_presets_hold_nested_chains_with_their_options(tmp_path, suffix):
    chain = nested_random()
    chain.options = {"world": {"f0_floor_hz": 60.0}}
    chain[2].options = {"world": {"f0_method": "harvest"}}
    path = write_preset(chain, tmp_path / f"p{suffix}")
    again = load_chain(str(path))
    assert again == chain and again[2].options == {"world": {"f0_method": "harvest"}} and again.seed == 11
    expected = chain.to_dict()
    del expected["effect"]  # a preset file is a chain: its top level carries no name
    text = path.read_text()
    if suffix == ".toml":
        assert tomllib.loads(text) == without_none(expected)  # TOML has no null: an unset value is left out
    else:
        assert json.loads(text) == expected


def without_none(data):
    if isinstance(data, dict):
        return {k: without_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [without_none(v) for v in data]
    return data


def test_toml_nests_arrays_of_tables(tmp_path):
    chain = Chain([Chain([fx("tempo", rate=0.9), Chain([fx("noise", amount=0.01)])], options={"world": {}})])
    text = write_preset(chain, tmp_path / "p.toml").read_text()
    for header in ("[[effects]]", "[effects.options.world]", "[[effects.effects]]", "[[effects.effects.effects]]"):
        assert f"\n{header}\n" in f"\n{text}"
    assert "[effects.options]" not in text  # a table holding only tables needs no header of its own
    assert load_chain(str(tmp_path / "p.toml")) == chain


def test_bad_nested_entries_say_what_is_wrong():
    with pytest.raises(vcfx.SpecError, match=r"needs a list called \"effects\", got keys \['effect', 'effect_list'\]"):
        Chain.from_dict({"effects": [{"effect": "chain", "effect_list": []}]})
    with pytest.raises(vcfx.SpecError, match=r"unknown preset keys \['rate'\]"):
        Chain.from_dict({"effects": [{"effect": "chain", "effects": [], "rate": 2}]})
    with pytest.raises(vcfx.SpecError, match="got 'noise'"):
        Chain.from_dict({"effect": "noise", "effects": []})
    with pytest.raises(vcfx.PluginError, match='did you mean "tempo"'):
        Chain.from_dict({"effects": [{"effect": "chain", "effects": [{"effect": "temp"}]}]})


def test_a_spec_string_holds_a_nested_chain_spliced_in_when_that_runs_the_same(short_voice):
    chain = Chain([fx("pitch_shift", semitones=1), Chain([fx("noise", snr_db="uniform(10,20)"), fx("speed", rate=1.1)])],
                  seed=2)
    spec = chain.to_spec()
    assert spec == "pitch_shift=semitones=1,noise=snr_db=uniform(10,20),speed=rate=1.1"
    assert Chain.from_spec(spec, seed=2)(short_voice) == chain(short_voice)


def test_a_spec_string_refuses_a_nested_chain_with_options_of_its_own():
    chain = Chain([fx("pitch_shift", semitones=1), Chain([fx("formant_shift", ratio=1.1)],
                                                         options={"world": {"f0_method": "harvest"}})])
    with pytest.raises(vcfx.SpecError, match="options change how its effects run.*preset file"):
        chain.to_spec()
    same = Chain([Chain([fx("formant_shift", ratio=1.1)], options={"world": {"f0_method": "harvest"}})],
                 options={"world": {"f0_method": "harvest"}})
    assert same.to_spec() == "formant_shift=ratio=1.1"  # the same options as around it: nothing is lost


def test_repr_shows_nesting_seed_and_options():
    chain = Chain([Chain([fx("tempo", rate=0.9)], seed=1, options={"world": {"f0_method": "harvest"}})], seed=2)
    assert repr(chain) == "Chain([Chain([Tempo(rate=0.9)], seed=1, options={'world': {'f0_method': 'harvest'}})], seed=2)"


# -- randomness --------------------------------------------------------------------------------


def test_is_random_looks_inside():
    assert nested_random().is_random()
    assert Chain([Chain([Chain([fx("noise", snr_db="uniform(5,10)")])])]).is_random()
    assert not Chain([Chain([fx("noise", snr_db=5)])]).is_random()
    assert not nested_random().resolve(4).is_random()


def test_draws_come_from_the_outer_seed_as_for_the_flat_chain():
    chain = nested_random()
    resolved = chain.resolve(7)
    assert [type(e) for e in resolved] == [type(e) for e in chain] and resolved[2][0].__class__ is Chain
    assert resolved[2].seed == 3 and resolved.seed == 7  # the shape is kept
    assert flat(resolved) == flat(chain).resolve(7)  # same seed, the flat chain's draws
    draws = {flat(chain.resolve(s))[1].ratio for s in range(6)}
    assert len(draws) == 6 and all(0.9 <= r <= 1.1 for r in draws)


def test_a_nested_chain_runs_as_its_effects_spliced_in(short_voice):
    chain = Chain([fx("noise", snr_db="uniform(10,30)"), Chain([fx("speed", rate=1.1), fx("noise", amount=0.01)])],
                  seed=5)
    assert chain(short_voice) == flat(chain)(short_voice)
    assert chain(short_voice, seed=6) != chain(short_voice)


def test_the_outer_seed_drives_a_nested_chain_and_its_own_seed_only_when_alone(short_voice):
    def inner(seed):
        return Chain([fx("noise", snr_db="uniform(10,30)")], seed=seed)

    assert Chain([inner(1)], seed=5)(short_voice) == Chain([inner(2)], seed=5)(short_voice)
    assert Chain([inner(1)], seed=5)(short_voice) != Chain([inner(1)], seed=6)(short_voice)
    assert inner(1)(short_voice) == inner(1)(short_voice) != inner(2)(short_voice)


def test_a_resolved_nested_chain_rebuilt_from_its_record_gives_the_random_chains_bytes(short_voice):
    chain = nested_random()
    record = chain.resolve(9).to_dict()
    assert Chain.from_dict(record)(short_voice) == chain(short_voice, seed=9)


def test_drawn_keeps_the_shape():
    chain = nested_random()
    drawn = chain.drawn(np.random.default_rng(0))
    assert isinstance(drawn[1], Chain) and isinstance(drawn[2][0], Chain) and not drawn.is_random()
    assert drawn.seed == 11 and drawn[2].seed == 3


# -- fusion ----------------------------------------------------------------------------------


def test_a_nested_chain_shares_one_analysis_and_synthesis_with_its_neighbours(monkeypatch, stereo_voice):
    chain = Chain([fx("pitch_shift", semitones=-12), Chain([fx("formant_shift", ratio=1.1), fx("tempo", rate=0.8)])])
    assert [(d, [e.name for e in g]) for d, g in plan(chain)] == [("world", ["pitch_shift", "formant_shift", "tempo"])]
    counter = Counter(monkeypatch, "dio", "harvest", "cheaptrick", "d4c", "synthesize")
    out = chain(stereo_voice)
    assert counter.analysed_once(stereo_voice)
    assert counter.calls["dio"] == counter.calls["synthesize"] == 2 and counter.calls["harvest"] == 0
    assert out.frames == round(stereo_voice.frames / 0.8)
    assert out == flat(chain)(stereo_voice)


HARVEST = {"world": {"f0_method": "harvest"}}


@pytest.mark.parametrize("outer, inner, calls, runs", [
    ({}, HARVEST, (1, 1, 2), 2),  # other options: an analysis of its own, never silently merged
    (HARVEST, {}, (0, 1, 1), 1),  # no options of its own: the outer chain's, fused
    (HARVEST, HARVEST, (0, 1, 1), 1),  # the same options: fused
    (HARVEST, {"world": {"f0_floor_hz": 60.0}}, (0, 2, 2), 2),  # harvest inherited, floor its own: a run of its own
])
def test_nested_options_apply_over_the_outer_ones_and_keep_their_own_run(monkeypatch, short_voice, outer, inner,
                                                                         calls, runs):
    chain = Chain([fx("pitch_shift", semitones=2), Chain([fx("formant_shift", ratio=1.1)], options=inner)],
                  options=outer)
    assert [d for d, _ in plan(chain)] == ["world"] * runs
    counter = Counter(monkeypatch, "dio", "harvest", "synthesize")
    chain(short_voice)
    assert (counter.calls["dio"], counter.calls["harvest"], counter.calls["synthesize"]) == calls


# -- streaming, the command line and batch ------------------------------------------------------------


def test_a_nested_random_chain_streams_as_its_flat_twin():
    audio = vcfx.synthetic_voice(4.0, 16000, f0_hz=(140.0, 200.0), syllable_rate_hz=3).audio
    chain = Chain([fx("pitch_shift", semitones=1), Chain([fx("tempo", rate="choice(0.8,1.25)")]),
                   Chain([fx("noise", snr_db="uniform(20,30)")])], seed=4)
    rate = chain.resolve()[1][0].rate
    assert chain.expected_frames(audio.frames, audio.sample_rate) is None  # random rate: known once drawn
    assert chain.resolve().expected_frames(audio.frames, audio.sample_rate) == round(audio.frames / rate)
    assert chain.context_frames(16000) == flat(chain).context_frames(16000)
    streamed = stream_audio(chain, audio, chunk_s=1.0, workers=1)
    assert streamed.frames == round(audio.frames / rate)
    assert streamed == stream_audio(flat(chain), audio, chunk_s=1.0, workers=1)


def test_save_preset_of_a_nested_random_chain_reruns_to_the_same_bytes_and_batches(capsys, tmp_path, short_voice):
    source = tmp_path / "in" / "voice.wav"
    source.parent.mkdir()
    short_voice.save(source, subtype="FLOAT")
    out = tmp_path / "out"
    out.mkdir()
    random_preset = write_preset(nested_random(), tmp_path / "nested.toml")

    def vcfx_main(*args):
        status = main(["-q", *map(str, args)])
        assert status == 0, capsys.readouterr().err

    vcfx_main("apply", source, out / "first.wav", "--chain", random_preset, "--save-preset", out / "p.toml")
    saved = load_chain(str(out / "p.toml"))
    assert "[[effects.effects.effects]]" in (out / "p.toml").read_text()
    assert not saved.is_random() and saved.seed == 11 and saved == nested_random().resolve()
    vcfx_main("apply", source, out / "again.wav", "--chain", out / "p.toml")
    assert (out / "first.wav").read_bytes() == (out / "again.wav").read_bytes()

    vcfx_main("batch", source.parent, tmp_path / "batch", "--chain", random_preset, "--copies", "2", "--seed", "3")
    records = [json.loads(line) for line in (tmp_path / "batch" / MANIFEST_NAME).read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok", "ok"]
    ratios = [r["effects"][1]["effects"][0]["ratio"] for r in records]
    assert records[0]["effects"][2]["effects"][0]["effect"] == "chain" and ratios[0] != ratios[1]
    for record in records:  # the manifest's nested record rebuilds each output exactly
        rebuilt = reproduce(record, source.parent, tmp_path / f"re{record['copy']}.wav")
        assert rebuilt.read_bytes() == (tmp_path / "batch" / record["output"]).read_bytes()
    vcfx_main("batch", source.parent, tmp_path / "batch-saved", "--chain", out / "p.toml")
    assert (tmp_path / "batch-saved" / "voice.wav").is_file()


def test_a_chain_cannot_hold_itself():
    outer = Chain([fx("tempo", rate=0.9)])
    inner = Chain([outer])
    with pytest.raises(vcfx.ParameterError, match="cannot hold itself"):
        outer.append(outer)
    with pytest.raises(vcfx.ParameterError, match="cannot hold itself"):
        outer[0] = inner
    with pytest.raises(vcfx.ParameterError, match="cannot hold itself"):
        outer[0:1] = [fx("tempo"), inner]
    assert outer == Chain([fx("tempo", rate=0.9)])
    twice = Chain([inner, inner])  # the same chain twice, side by side, is no loop
    assert [e.name for _, g in plan(twice) for e in g] == ["tempo", "tempo"]


def test_the_preset_files_shown_in_the_chains_guide_load(tmp_path):
    guide = (Path(__file__).resolve().parents[1] / "docs" / "chains.md").read_text()
    blocks = re.findall(r"^```toml\n(.*?)^```", guide, re.M | re.S)
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        path = tmp_path / f"shown{i}.toml"
        path.write_text(block)
        chain = load_chain(str(path))
        assert chain.seed == 7 and len(chain) >= 3
    nested = load_chain(str(tmp_path / f"shown{len(blocks) - 1}.toml"))
    assert nested[1] == Chain([fx("formant_shift", ratio="uniform(0.9,1.1)"), fx("tempo", rate=0.9)],
                              options={"world": {"f0_method": "harvest"}})


def test_a_nested_chain_with_its_own_options_streams():
    """No spec string can hold it, so nothing on the way to streaming may need one."""
    inner = vcfx.Chain([vcfx.effect("pitch_shift", semitones=2)], options={"world": {"f0_method": "harvest"}})
    chain = vcfx.Chain([inner, vcfx.effect("tempo", rate=1.1)], seed=1)
    with pytest.raises(vcfx.SpecError):
        chain.to_spec()
    voice = vcfx.synthetic_voice(3.0, 16000).audio
    assert stream_audio(chain, voice, chunk_s=1.0).frames == round(voice.frames / 1.1)

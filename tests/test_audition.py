"""vcfx.audition without the web: chains from web text, the measurements the page shows."""

from __future__ import annotations

import numpy as np
import pytest

import vcfx
from vcfx import audition
from vcfx.audition import Refused, analysis, measured_change, web_chain, web_items


@pytest.fixture(scope="module")
def measured(voice):
    return analysis(voice.audio)


def test_the_pitch_change_is_measured_against_the_truth(voice, measured):
    shifted = vcfx.Chain.from_spec("pitch_shift=semitones=3")(voice.audio)
    change = measured_change(measured, analysis(shifted))
    # pYIN judges both; WORLD shifted by exactly 300 cents (tolerance 25 cents)
    assert abs(change["pitch_cents"] - 300) < 25
    assert change["pitch_how"] == "median over frames voiced in both"
    assert change["duration_ratio"] == 1.0
    assert abs(change["level_change_db"]) < 1.0


def test_a_slower_voice_keeps_its_pitch_and_lasts_longer(voice, measured):
    slower = vcfx.Chain.from_spec("tempo=rate=0.8")(voice.audio)
    change = measured_change(measured, analysis(slower))
    assert change["duration_ratio"] == pytest.approx(1.25, abs=0.01)
    assert change["pitch_how"] == "change of the medians"
    assert abs(change["pitch_cents"]) < 40


def test_the_analysis_holds_what_the_page_draws(voice, measured):
    assert measured["duration_s"] == voice.audio.duration_s
    spec = measured["spectrogram"]
    import base64

    pixels = np.frombuffer(base64.b64decode(spec["data"]), dtype=np.uint8)
    assert pixels.size == spec["rows"] * spec["columns"] and pixels.max() == 255
    assert spec["top_hz"] == min(8000.0, voice.audio.sample_rate / 2)
    times = np.array(measured["f0"]["times_s"])
    hz = np.array([np.nan if v is None else v for v in measured["f0"]["hz"]], dtype=float)
    ok = np.isfinite(hz)
    assert np.median(np.abs(1200 * np.log2(hz[ok] / voice.f0_at(times[ok])))) < 30  # cents


def test_a_long_voice_is_tracked_with_fewer_frames(voice, monkeypatch):
    monkeypatch.setattr(audition, "_F0_FRAMES", 50)
    sparse = analysis(voice.audio)
    times = np.array(sparse["f0"]["times_s"])
    assert len(times) <= 51 and np.diff(times).min() == pytest.approx(voice.audio.duration_s / 50, abs=1e-3)
    hz = np.array([np.nan if v is None else v for v in sparse["f0"]["hz"]], dtype=float)
    ok = np.isfinite(hz)
    assert ok.sum() > 30
    assert np.median(np.abs(1200 * np.log2(hz[ok] / voice.f0_at(times[ok])))) < 30  # cents


def test_an_upload_stands_in_for_a_data_file_and_keeps_its_name(tmp_path):
    rng = np.random.default_rng(0)
    ir = rng.standard_normal(800).astype(np.float32) * np.exp(-np.arange(800) / 100).astype(np.float32)
    stored = tmp_path / "0-hall, large.wav"
    vcfx.Audio(ir[None, :] / np.abs(ir).max(), 16000).save(stored)
    chain = web_chain('reverb=ir="hall, large.wav":wet=0.5', {"hall, large.wav": stored})
    assert chain[0].ir == str(stored)
    assert audition._as_given(chain.to_spec(), {"hall, large.wav": stored}) == 'reverb=ir="hall, large.wav":wet=0.5'


def test_code_is_refused_even_when_uploaded(tmp_path):
    plugin = tmp_path / "x.vst3"
    plugin.write_bytes(b"\0" * 16)
    with pytest.raises(Refused, match="would be loaded and run") as info:
        web_chain("pedalboard=path=x.vst3", {"x.vst3": plugin})
    assert (info.value.status, info.value.field, info.value.index, info.value.param) == (400, "chain", 0, "path")


def test_items_of_a_preset_and_of_a_spec():
    name = sorted(vcfx.presets())[0]
    assert [i["effect"] for i in web_items(name)] == [e.name for e in vcfx.preset(name)]
    (item,) = web_items("noise=snr_db=uniform(10,20)")
    assert item == {"effect": "noise", "values": {"snr_db": "uniform(10,20)", "amount": "", "color": "white"}}
    with pytest.raises(Refused, match="names a file on the server"):
        web_items("reverb=ir=../rooms/hall.wav")
    with pytest.raises(Refused, match='parameter "ir" of effect "reverb" is given twice'):
        web_items("reverb=ir=a.wav:ir=b.wav")

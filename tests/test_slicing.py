"""The host's slicing API: Slicer, the register_slicers hook, slice_audio, write_segments."""

import csv
import os

import numpy as np
import pytest

import vcfx
from vcfx import plugins


class Pieces(vcfx.Slicer):
    """Equal pieces, leaving an optional gap at the end of each: a slicer whose answer is known."""

    name = "test_pieces"
    params = (
        vcfx.Param("count", int, 2, "Number of pieces", low=1, high=100),
        vcfx.Param("gap_ms", float, 0.0, "Silence left out after each piece", unit="ms", low=0.0, high=1000.0),
    )

    def find(self, audio):
        edges = np.linspace(0, audio.frames, self.count + 1).astype(int)
        gap = round(self.gap_ms * audio.sample_rate / 1000)
        return [(int(a), int(b) - gap) for a, b in zip(edges[:-1], edges[1:])]


class PiecesPlugin:
    @vcfx.hookimpl
    def register_slicers(self, register):
        register(Pieces)


class Jitter(vcfx.Effect):
    """Adds noise drawn from the chain's generator (a real effect, to see per-segment seeding)."""

    name = "test_jitter"

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=audio.samples + ctx.rng.normal(0.0, 0.01, audio.samples.shape))


@pytest.fixture
def pieces():
    plugins.register(PiecesPlugin(), name="test-pieces")
    try:
        yield
    finally:
        plugins.unregister("test-pieces")


def test_hook_register_slicers(fresh_plugins, stereo_voice):
    plugins.register(PiecesPlugin(), name="test-pieces")
    try:
        assert "test_pieces" in vcfx.slicers()
        info = next(p for p in vcfx.list_plugins() if p.name == "test-pieces")
        assert info.slicers == ["test_pieces"] and info.as_dict()["slicers"] == ["test_pieces"]
        segments = vcfx.slice_audio(stereo_voice, "test_pieces", count=4, gap_ms=10)
        assert [s.index for s in segments] == [0, 1, 2, 3]
        rate = stereo_voice.sample_rate
        for seg, (start, end) in zip(segments, Pieces(count=4, gap_ms=10).find(stereo_voice)):
            assert (seg.start_s, seg.end_s) == (start / rate, end / rate)
            assert seg.audio == stereo_voice.replace(samples=stereo_voice.samples[:, start:end])
        assert vcfx.slicer("test_pieces", count=3) == Pieces(count=3)
        assert vcfx.slice_audio(stereo_voice, Pieces(count=4, gap_ms=10)) == segments
    finally:
        plugins.unregister("test-pieces")
    assert "test_pieces" not in vcfx.slicers()
    with pytest.raises(vcfx.PluginError, match='unknown slicer "test_pieces"'):
        vcfx.slice_audio(stereo_voice, "test_pieces")


def test_slicer_declares_params_like_an_effect():
    s = Pieces(count=3)
    assert repr(s) == "Pieces(count=3, gap_ms=0.0)"
    assert s.to_dict() == {"slicer": "test_pieces", "count": 3, "gap_ms": 0.0}
    with pytest.raises(vcfx.ParameterError, match=r"count=0 is outside \[1, 100\]"):
        s.count = 0
    with pytest.raises(vcfx.ParameterError, match=r"gap_ms='x' is not a number"):
        Pieces(gap_ms="x")
    with pytest.raises(vcfx.ParameterError, match='slicer "test_pieces" has no parameter .*count_x.*Known: count, gap_ms'):
        Pieces(count_x=2)


def test_a_broken_slicer_plugin_is_isolated(fresh_plugins, voice):
    class Broken:
        @vcfx.hookimpl
        def register_slicers(self, register):
            register(Pieces)
            raise RuntimeError("boom in register_slicers")

    class NotASlicer:
        @vcfx.hookimpl
        def register_slicers(self, register):
            register(Jitter)

    plugins.register(Broken(), name="test-broken")
    plugins.register(NotASlicer(), name="test-not-a-slicer")
    try:
        with pytest.warns(vcfx.PluginLoadWarning) as caught:
            names = vcfx.slicers()
        messages = " | ".join(str(w.message) for w in caught)
        assert 'plugin "test-broken"' in messages and "boom in register_slicers" in messages
        assert "register_slicers takes vcfx.Slicer subclasses" in messages
        assert "test_pieces" not in names  # dropped with the plugin that failed
        assert "pitch_shift" in vcfx.effects()
    finally:
        plugins.unregister("test-broken")
        plugins.unregister("test-not-a-slicer")


def test_slicer_breaking_the_contract_is_an_effect_error(voice):
    class Overlapping(vcfx.Slicer):
        name = "overlapping"

        def find(self, audio):
            return [(0, 100), (50, 200)]

    class Crashing(vcfx.Slicer):
        name = "crashing"

        def find(self, audio):
            raise ZeroDivisionError("oops")

    class Floats(vcfx.Slicer):
        name = "floats"

        def find(self, audio):
            return [(0.0, 0.5)]

    with pytest.raises(vcfx.EffectError, match=r'slicer "overlapping" returned the span \(50, 200\)'):
        vcfx.slice_audio(voice.audio, Overlapping())
    with pytest.raises(vcfx.EffectError, match='slicer "crashing" failed: ZeroDivisionError: oops'):
        vcfx.slice_audio(voice.audio, Crashing())
    with pytest.raises(vcfx.EffectError, match=r'slicer "floats" returned .*\(start_frame, end_frame\) integers'):
        vcfx.slice_audio(voice.audio, Floats())


def test_slice_audio_refuses_bad_arguments(voice):
    with pytest.raises(vcfx.AudioError, match="slicing takes vcfx.Audio, got ndarray"):
        vcfx.slice_audio(voice.audio.samples, Pieces())
    with pytest.raises(vcfx.ParameterError, match="count go with a slicer name"):
        vcfx.slice_audio(voice.audio, Pieces(), count=3)
    with pytest.raises(vcfx.ParameterError, match="chain='pitch_shift' is not a vcfx.Chain"):
        vcfx.slice_audio(voice.audio, Pieces(), chain="pitch_shift")
    with pytest.raises(vcfx.PluginError, match='unknown slicer "onset"; did you mean "onsets"'):
        vcfx.slice_audio(voice.audio, "onset")


def test_missing_onsets_slicer_is_a_plugin_error(fresh_plugins, monkeypatch, voice):
    monkeypatch.setenv("VCFX_DISABLE_PLUGINS", "onset")
    plugins.reload()
    with pytest.raises(vcfx.PluginError, match=r'unknown slicer "onsets"\. Known: \(none\) .*vcfx plugins'):
        vcfx.slice_onsets(voice.audio)


def test_chain_is_applied_to_each_segment(stereo_voice):
    chain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=4)])
    plain = vcfx.slice_onsets(stereo_voice)
    shifted = vcfx.slice_onsets(stereo_voice, chain=chain)
    assert len(plain) == len(shifted) >= 2
    for a, b in zip(plain, shifted):
        assert (a.index, a.start_s, a.end_s) == (b.index, b.start_s, b.end_s)
        assert b.audio.frames == a.audio.frames and b.audio.channels == 2
        expected = chain(a.audio)  # the chain on the segment alone, not the whole voice then cut
        np.testing.assert_allclose(b.audio.samples, expected.samples, atol=1e-6)
        assert not np.allclose(b.audio.samples, a.audio.samples, atol=1e-3)


def test_each_segment_gets_its_own_seeded_generator():
    silence = vcfx.Audio(np.zeros((1, 8000)), 8000)
    chain = vcfx.Chain([Jitter()], seed=7)
    first = vcfx.slice_audio(silence, Pieces(count=2), chain=chain)
    again = vcfx.slice_audio(silence, Pieces(count=2), chain=chain)
    assert all(a.audio == b.audio for a, b in zip(first, again))  # same seed, same output
    assert not np.allclose(first[0].audio.samples, first[1].audio.samples)  # segments differ


def test_write_segments_writes_files_and_csv(tmp_path, stereo_voice):
    segments = vcfx.slice_audio(stereo_voice, Pieces(count=3, gap_ms=20))
    paths = vcfx.write_segments(segments, tmp_path, stem="syl", subtype="FLOAT")
    assert [p.name for p in paths] == ["syl_000.wav", "syl_001.wav", "syl_002.wav"]
    for seg, path in zip(segments, paths):
        assert vcfx.load(path) == seg.audio  # FLOAT round-trips exactly
    with open(tmp_path / "syl.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["index"]), float(r["start_s"]), float(r["end_s"]), r["path"]) for r in rows] == [
        (s.index, s.start_s, s.end_s, p.name) for s, p in zip(segments, paths)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["syl.csv", "syl_000.wav", "syl_001.wav", "syl_002.wav"]


def test_write_segments_errors_cleanly(tmp_path, voice):
    segments = vcfx.slice_audio(voice.audio, Pieces(count=2))
    loud = [vcfx.Segment(0, 0.0, 0.1, vcfx.Audio(np.full((1, 800), 1.5), 8000))]
    with pytest.raises(vcfx.AudioError, match="would clip"):
        vcfx.write_segments([*segments, loud[0]], tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # the folders it made are gone again with the failure
    assert len(vcfx.write_segments(segments, tmp_path / "new" / "deeper")) == 2
    (tmp_path / "file").write_text("x")
    with pytest.raises(vcfx.AudioError, match="it is not a folder"):
        vcfx.write_segments(segments, tmp_path / "file")
    (tmp_path / "segment_001.wav").mkdir()  # something in the way of the second file
    with pytest.raises(vcfx.AudioError, match="cannot write .*segment_001.wav"):
        vcfx.write_segments(segments, tmp_path)
    assert not (tmp_path / "segment.csv").exists()  # the CSV comes last, only after every file
    assert not (tmp_path / "segment_000.wav").exists()  # all or nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "new", "segment_001.wav"]
    with pytest.raises(vcfx.AudioError, match="would clip in PCM_16.*subtype='FLOAT'"):
        vcfx.write_segments(loud, tmp_path, stem="loud")
    with pytest.raises(vcfx.ParameterError, match=r"stem='\.\./up' must be a plain file name"):
        vcfx.write_segments(segments, tmp_path, stem="../up")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_write_segments_to_a_read_only_folder(tmp_path, voice):
    segments = vcfx.slice_audio(voice.audio, Pieces(count=2))
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(vcfx.AudioError, match="cannot write .*segment_000.wav"):
            vcfx.write_segments(segments, tmp_path)
    finally:
        tmp_path.chmod(0o700)

"""Long input in chunks: joins without seams, identical where the chain is linear."""

import numpy as np
import pytest
import soundfile as sf

import vcfx
from truth import praat_f0
from vcfx.streaming import chunk_bounds, stream_audio, stream_file


@pytest.fixture(scope="module")
def long_voice():
    """20 s of syllables (3 per second) with a wandering f0 contour."""
    return vcfx.synthetic_voice(20.0, 22050, f0_hz=(120, 200, 150, 220, 130), syllable_rate_hz=3).audio


def cuts_of(audio, chunk_s):
    return chunk_bounds(lambda a, b: audio.samples[:, a:b], audio.frames, audio.sample_rate, chunk_s)


def test_cuts_fall_in_quiet_places(long_voice):
    cuts = cuts_of(long_voice, 4.0)
    assert cuts[0] == 0 and cuts[-1] == long_voice.frames and len(cuts) >= 5
    x = long_voice.samples[0]
    hop = 220
    for cut in cuts[1:-1]:
        local = np.sqrt(np.mean(x[cut - hop // 2: cut + hop // 2] ** 2))
        assert local < 0.05 * np.sqrt(np.mean(x**2))  # inside a pause between syllables


@pytest.mark.slow
def test_world_chain_joins_without_seams(long_voice):
    chain = vcfx.Chain.from_spec("pitch_shift=semitones=3,tempo=rate=0.8", seed=1)
    whole = chain(long_voice)
    streamed = stream_audio(chain, long_voice, chunk_s=4.0, workers=2)
    assert streamed.frames == whole.frames == round(long_voice.frames / 0.8)

    # f0: streamed and unchunked agree (Praat, frames voiced in both) around every join
    tw, fw = praat_f0(whole)
    ts, fs = praat_f0(streamed)
    both = (fw > 0) & (fs > 0)
    for cut in cuts_of(long_voice, 4.0)[1:-1]:
        at = cut / long_voice.sample_rate / 0.8
        near = both & (np.abs(tw - at) < 0.5)
        assert near.sum() > 20
        cents = 1200 * np.abs(np.log2(fs[near] / fw[near]))
        assert np.median(cents) < 5.0

    # samples: no click at a join — the largest step there is no larger than anywhere in the unchunked output
    steps_whole = np.abs(np.diff(whole.samples[0])).max()
    for cut in cuts_of(long_voice, 4.0)[1:-1]:
        at = round(cut / 0.8)
        window = streamed.samples[0, at - 2000: at + 2000]
        assert np.abs(np.diff(window)).max() <= steps_whole * 1.05


def test_linear_chain_streams_exactly(long_voice):
    chain = vcfx.Chain.from_spec("reverb=rt60_s=0.8:keep_peak=false", seed=0)
    whole = chain(long_voice)
    streamed = stream_audio(chain, long_voice, chunk_s=3.0, workers=2)
    assert streamed.frames == whole.frames
    np.testing.assert_allclose(streamed.samples, whole.samples, atol=1e-5)


def test_resampling_chain_streams_within_a_fraction_of_a_sample(long_voice):
    """speed resamples each chunk; a chunk may start up to half an output sample off, nothing more."""
    chain = vcfx.Chain.from_spec("speed=rate=1.25,reverb=rt60_s=0.5:keep_peak=false", seed=0)
    whole = chain(long_voice)
    streamed = stream_audio(chain, long_voice, chunk_s=3.0, workers=2)
    assert streamed.frames == whole.frames
    w, s = whole.samples[0].astype(np.float64), streamed.samples[0].astype(np.float64)
    assert np.corrcoef(w, s)[0, 1] > 0.99
    half_sample_shift = np.abs(np.diff(w)).max() / 2
    assert np.abs(s - w).max() <= half_sample_shift * 1.2


def test_stream_file_disk_to_disk(tmp_path, long_voice):
    src = long_voice.save(tmp_path / "long.wav")
    out = stream_file(vcfx.Chain.from_spec("pitch_shift=semitones=-2"), src, tmp_path / "out.wav", chunk_s=5.0)
    info = sf.info(out)
    assert info.frames == long_voice.frames and info.subtype == "FLOAT"
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["long.wav", "out.wav"]
    with pytest.raises(vcfx.AudioError, match="is the input file"):
        stream_file(vcfx.Chain.from_spec("pitch_shift=semitones=1"), src, src)
    with pytest.raises(vcfx.AudioError, match="no such file"):
        stream_file(vcfx.Chain.from_spec("pitch_shift=semitones=1"), tmp_path / "nope.wav", tmp_path / "o.wav")


@pytest.mark.slow
def test_cli_apply_streams_with_chunk_s(tmp_path, long_voice):
    import subprocess
    import sys

    src = long_voice.save(tmp_path / "long.wav")
    preset = tmp_path / "run.toml"
    command = [sys.executable, "-m", "vcfx.cli", "apply", str(src), str(tmp_path / "out.wav"),
               "--chain", "pitch_shift=semitones=uniform(-3,3),tempo=rate=1.25", "--seed", "4",
               "--chunk-s", "5", "--save-preset", str(preset)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "streamed in chunks of about 5 s" in result.stdout
    streamed = vcfx.load(tmp_path / "out.wav")
    assert streamed.frames == round(long_voice.frames / 1.25)
    # the preset records the drawn shift; streaming it again gives the same bytes
    again = subprocess.run([sys.executable, "-m", "vcfx.cli", "apply", str(src), str(tmp_path / "again.wav"),
                            "--chain", str(preset), "--chunk-s", "5"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "out.wav").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.wav", "long.wav", "out.wav", "run.toml"]


class Counted(vcfx.Effect):
    """Counts its runs; its output length is known only when ``known`` is true."""

    name = "test_counted"
    summary = "Counts runs"
    params = (vcfx.Param("known", bool, True, "Whether expected_frames answers"),)
    runs = 0

    def expected_frames(self, frames, sample_rate):
        return frames if self.known else None

    def process_waveform(self, audio, ctx):
        type(self).runs += 1
        return audio


def test_check_free_space_names_path_need_and_room(tmp_path):
    import shutil

    from vcfx.files import check_free_space

    free = shutil.disk_usage(tmp_path).free
    check_free_space(tmp_path / "out.wav", 1)
    with pytest.raises(vcfx.AudioError, match=r"out\.wav: it needs about [\d.]+ MB and only [\d.]+ MB are free"):
        check_free_space(tmp_path / "out.wav", free + 10**12)


def test_stream_file_refuses_before_the_first_chunk(tmp_path, long_voice, monkeypatch):
    import shutil
    from collections import namedtuple

    src = long_voice.save(tmp_path / "long.wav")
    calls = []
    Counted.runs = 0
    with pytest.raises(vcfx.EffectError, match="not known in advance"):
        stream_file(vcfx.Chain([Counted(known=False)]), src, tmp_path / "out.wav", chunk_s=5.0,
                    progress=lambda *a: calls.append(a))
    assert Counted.runs == 0 and calls == []

    # a disk without room for the output (20 s of float32 needs 1.8 MB): refused, naming the numbers
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(vcfx.AudioError, match=r"out\.wav: it needs about 1\.8 MB and only 1\.0 MB are free"):
        stream_file(vcfx.Chain([Counted()]), src, tmp_path / "out.wav", chunk_s=5.0,
                    progress=lambda *a: calls.append(a))
    assert Counted.runs == 0 and calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav"]
    # compressed formats are not estimated: FLAC goes ahead on the same disk
    stream_file(vcfx.Chain([Counted()]), src, tmp_path / "out.flac", chunk_s=5.0, subtype="PCM_16")
    assert Counted.runs == len(cuts_of(long_voice, 5.0)) - 1

"""One rule in one place: saving, ``apply_file``, streaming, batch and slicing refuse the same outputs the same way."""

import numpy as np
import pytest
import soundfile as sf

import vcfx
from vcfx import files
from vcfx.streaming import stream_file


@pytest.fixture
def loud_wav(tmp_path):
    """A float WAV peaking at 1.5: fine as FLOAT, clips in any integer or companded subtype."""
    path = tmp_path / "loud.wav"
    t = np.arange(22050) / 22050
    sf.write(path, 1.5 * np.sin(2 * np.pi * 220 * t), 22050, subtype="FLOAT")
    return path


@pytest.mark.parametrize("subtype", ["PCM_16", "ULAW", "ALAW"])
def test_every_writer_refuses_clipping_in_a_unit_range_subtype(loud_wav, tmp_path, subtype):
    chain = vcfx.Chain.from_spec("noise=snr_db=80", seed=0)
    loud = vcfx.load(loud_wav)
    writers = {
        "save": lambda out: loud.save(out, subtype=subtype),
        "apply_file": lambda out: vcfx.apply_file(loud_wav, out, chain, subtype=subtype),
        "stream_file": lambda out: stream_file(chain, loud_wav, out, subtype=subtype, chunk_s=1.0),
    }
    for name, write in writers.items():
        out = tmp_path / f"{name}.wav"
        with pytest.raises(vcfx.AudioError, match=f"would clip in {subtype}"):
            write(out)
        assert not out.exists(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loud.wav"]  # no temporary file left either


def test_streaming_and_apply_refuse_the_input_as_output(loud_wav):
    chain = vcfx.Chain.from_spec("noise=snr_db=80", seed=0)
    before = loud_wav.read_bytes()
    for write in (lambda: vcfx.apply_file(loud_wav, loud_wav, chain), lambda: stream_file(chain, loud_wav, loud_wav)):
        with pytest.raises(vcfx.AudioError, match="is the input file"):
            write()
    assert loud_wav.read_bytes() == before


def test_apply_file_checks_everything_before_reading(tmp_path, loud_wav):
    chain = vcfx.Chain.from_spec("noise=snr_db=80", seed=0)
    with pytest.raises(vcfx.AudioError, match='unknown audio extension ".xyz"'):
        vcfx.apply_file(loud_wav, tmp_path / "o.xyz", chain)
    with pytest.raises(vcfx.AudioError, match="subtype='PCM_99' is not available for WAV"):
        vcfx.apply_file(loud_wav, tmp_path / "o.wav", chain, subtype="pcm_99")
    with pytest.raises(vcfx.SpecError, match=r"end in \.toml or \.json"):
        vcfx.apply_file(loud_wav, tmp_path / "o.wav", chain, save_preset=tmp_path / "p.yaml")
    with pytest.raises(vcfx.AudioError, match="does not exist"):
        vcfx.apply_file(loud_wav, tmp_path / "no" / "o.wav", chain)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loud.wav"]


def test_apply_file_writes_float_with_a_note_when_the_default_would_clip(loud_wav, tmp_path):
    with pytest.raises(vcfx.AudioError, match=r"would clip in PCM_16.*a format that holds 32-bit float"):
        vcfx.apply_file(loud_wav, tmp_path / "o.flac", "noise=snr_db=80", seed=0)  # FLAC holds no float
    out = tmp_path / "o.wav"
    result = vcfx.apply_file(loud_wav, out, "noise=snr_db=80", seed=0)
    assert result.subtype == "FLOAT" and sf.info(str(out)).subtype == "FLOAT"
    assert "peaks at 1.5" in result.notes[0]


def test_apply_file_does_not_change_the_callers_chain(loud_wav, tmp_path):
    chain = vcfx.Chain.from_spec("noise=snr_db=uniform(30,40)")
    result = vcfx.apply_file(loud_wav, tmp_path / "o.wav", chain, save_preset=tmp_path / "p.toml")
    assert chain.seed is None and chain[0].is_random()
    assert result.chain.seed is not None and not result.chain[0].is_random()
    again = vcfx.apply_file(loud_wav, tmp_path / "again.wav", str(tmp_path / "p.toml"))
    assert (tmp_path / "o.wav").read_bytes() == (tmp_path / "again.wav").read_bytes()
    assert again.chain == result.chain


def test_batch_refuses_a_subtype_before_the_first_file(tmp_path, loud_wav):
    clips = tmp_path / "clips"
    clips.mkdir()
    loud_wav.rename(clips / "a.wav")
    with pytest.raises(vcfx.AudioError, match="subtype='PCM_99' is not available for WAV"):
        vcfx.batch(clips, tmp_path / "out", "noise=snr_db=80", subtype="PCM_99")
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_one_reader_refuses_a_truncated_wav_for_load_and_streaming(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, np.zeros(8000), 8000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(vcfx.AudioError, match="is truncated"):
        vcfx.load(path)
    with pytest.raises(vcfx.AudioError, match="is truncated"):
        stream_file(vcfx.Chain.from_spec("noise=snr_db=80"), path, tmp_path / "o.wav")
    assert not (tmp_path / "o.wav").exists()


def test_subtype_for_keeps_a_choice_and_floats_only_what_would_clip(tmp_path):
    wav = tmp_path / "o.wav"
    assert files.subtype_for(wav, "PCM_24", peak=3.0) == ("PCM_24", None)
    assert files.subtype_for(wav, None, peak=0.5) == (None, None)
    assert files.subtype_for(wav, None, peak=None) == ("FLOAT", None)
    chosen, note = files.subtype_for(wav, None, peak=1.25)
    assert chosen == "FLOAT" and "1.250" in note
    assert files.subtype_for(tmp_path / "o.ogg", None, peak=2.0) == (None, None)  # Vorbis holds any level


def test_apply_file_refuses_to_stream_and_resample_at_once(loud_wav, tmp_path):
    with pytest.raises(vcfx.ParameterError, match="cannot be combined"):
        vcfx.apply_file(loud_wav, tmp_path / "o.wav", "noise=snr_db=80", chunk_s=2.0, sample_rate=16000)
    assert not (tmp_path / "o.wav").exists()

"""The vcfx command, driven through its real entry point (vcfx.cli.main) and as a subprocess."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import vcfx
from vcfx import plugins
from vcfx.cli import main
from vcfx.plotting import analyze_figure


def run(capsys, *args):
    """Run ``vcfx ARGS`` in process; return (status, stdout, stderr)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err: str, phrase: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vcfx: error: ") and phrase in lines[0], lines[0]


@pytest.fixture
def voice_wav(tmp_path, voice) -> Path:
    path = tmp_path / "in" / "voice.wav"
    path.parent.mkdir()
    voice.audio.save(path, subtype="FLOAT")
    return path


@pytest.fixture
def outdir(tmp_path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


# -- apply ---------------------------------------------------------------------

def test_apply_writes_what_the_python_api_gives(capsys, voice_wav, outdir):
    status, out, err = run(capsys, "apply", voice_wav, outdir / "up.wav", "--chain", "pitch_shift=semitones=3",
                           "--subtype", "FLOAT")
    assert status == 0, err
    assert "wrote" in out and err == ""
    expected = vcfx.Chain.from_spec("pitch_shift=semitones=3")(vcfx.load(voice_wav))
    assert vcfx.load(outdir / "up.wav") == expected


def test_apply_quiet_prints_nothing_and_works_after_the_subcommand(capsys, voice_wav, outdir):
    status, out, err = run(capsys, "apply", voice_wav, outdir / "a.wav", "--chain", "pitch_shift", "-q")
    assert (status, out, err) == (0, "", "")
    status, out, err = run(capsys, "-q", "apply", voice_wav, outdir / "b.wav", "--chain", "pitch_shift")
    assert (status, out, err) == (0, "", "")


def test_apply_never_clips_a_default_pcm_file(capsys, tmp_path, outdir):
    loud = tmp_path / "loud.wav"
    vcfx.Audio(np.full((1, 4000), 0.5, dtype=np.float32), 8000).save(loud)
    status, _, err = run(capsys, "apply", loud, outdir / "o.wav", "--chain", "noise=amount=1", "--seed", "1")
    assert status == 0 and "32-bit float" in err
    assert sf.info(str(outdir / "o.wav")).subtype == "FLOAT"
    status, _, err = run(capsys, "apply", loud, outdir / "o.flac", "--chain", "noise=amount=1", "--seed", "1")
    assert status == 1
    assert_one_line_error(err, "would clip")
    assert not (outdir / "o.flac").exists()


@pytest.mark.parametrize("chain", ["pitch_shift=semitones=2,noise=snr_db=uniform(10,30)",
                                   "pitch_shift=semitones=-1"])
def test_save_preset_round_trips_to_identical_bytes(capsys, voice_wav, outdir, chain):
    status, _, err = run(capsys, "apply", voice_wav, outdir / "first.wav", "--chain", chain,
                         "--save-preset", outdir / "run.toml")
    assert status == 0, err
    status, _, err = run(capsys, "apply", voice_wav, outdir / "again.wav", "--chain", outdir / "run.toml")
    assert status == 0, err
    assert (outdir / "first.wav").read_bytes() == (outdir / "again.wav").read_bytes()
    status, _, err = run(capsys, "apply", voice_wav, outdir / "j.wav", "--chain", chain, "--seed", "5",
                         "--save-preset", outdir / "run.json")
    assert status == 0, err
    assert json.loads((outdir / "run.json").read_text())["seed"] == 5


def test_voice_changer_matches_the_python_api_bit_for_bit(capsys, voice_wav, outdir):
    status, _, err = run(capsys, "apply", voice_wav, outdir / "vc.wav", "--chain", "voice_changer", "--seed", "3")
    assert status == 0, err
    chain = vcfx.preset("voice_changer")
    chain.seed = 3
    expected = chain(vcfx.load(voice_wav))
    subtype = sf.info(str(outdir / "vc.wav")).subtype
    expected.save(outdir / "api.wav", subtype=subtype)
    assert (outdir / "vc.wav").read_bytes() == (outdir / "api.wav").read_bytes()
    if subtype == "FLOAT":
        assert vcfx.load(outdir / "vc.wav") == expected


def test_voice_changer_on_real_speech(capsys, speech_path, outdir):
    status, _, err = run(capsys, "apply", speech_path, outdir / "vc.wav", "--chain", "voice_changer",
                         "--seed", "3", "--subtype", "FLOAT")
    assert status == 0, err
    chain = vcfx.preset("voice_changer")
    chain.seed = 3
    assert vcfx.load(outdir / "vc.wav") == chain(vcfx.load(speech_path))


# -- bad input: one line, documented status, nothing written ----------------------

USAGE, FAILURE = 2, 1


@pytest.mark.parametrize("args, status, phrase", [
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "revrb"], USAGE, 'unknown effect "revrb"'),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift=semitones=40"], USAGE, "semitones=40 is outside"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift=semitones=high"], USAGE, "semitones=high"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift=smitones=1"], USAGE, "smitones"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "{OUT}/missing.toml"], USAGE, "no such preset file"),
    (["apply", "{OUT}/missing.wav", "{OUT}/o.wav", "--chain", "pitch_shift"], USAGE, "does not exist"),
    (["apply", "{IN}", "{IN}", "--chain", "pitch_shift"], USAGE, "is the input file"),
    (["apply", "{IN}", "{INDIR}/../in/voice.wav", "--chain", "pitch_shift"], USAGE, "is the input file"),
    (["apply", "{IN}", "{OUT}/o.xyz", "--chain", "pitch_shift"], USAGE, 'unknown audio extension ".xyz"'),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift", "--subtype", "PCM_99"], USAGE, "PCM_99"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift", "--sample-rate", "5"], USAGE, "--sample-rate"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift", "--seed", "x"], USAGE, "--seed"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift", "--save-preset", "{OUT}/p.yaml"], USAGE, ".toml"),
    (["apply", "{IN}", "{OUT}/o.wav"], USAGE, "Missing option '--chain'"),
    (["apply", "{IN}", "{OUT}/no/such/folder/o.wav", "--chain", "pitch_shift"], FAILURE, "does not exist"),
    (["apply", "{IN}", "{OUT}/o.wav", "--chain", "pitch_shift", "--save-preset", "{OUT}/no/p.toml"], FAILURE,
     "does not exist"),
    (["apply", "{NOTAUDIO}", "{OUT}/o.wav", "--chain", "pitch_shift"], FAILURE, "cannot read"),
    (["analyze", "{IN}", "-o", "{OUT}/fig.wav"], USAGE, "cannot draw a figure"),
    (["analyze", "{IN}", "-o", "{IN}"], USAGE, "is the input file"),
    (["compare", "{IN}", "{IN}", "-o", "{IN}"], USAGE, "is the input file"),
    (["analyze", "{OUT}/missing.wav", "-o", "{OUT}/fig.png"], USAGE, "does not exist"),
    (["analyze", "{IN}"], USAGE, "Missing option"),
    (["analyze", "{IN}", "-o", "{OUT}/no/fig.png"], FAILURE, "does not exist"),
    (["compare", "{IN}", "{OUT}/missing.wav", "-o", "{OUT}/fig.png"], USAGE, "does not exist"),
    (["slice", "{IN}", "{FILE}/sub"], FAILURE, "cannot create"),
    (["slice", "{IN}", "{FILE}"], USAGE, "is a file"),
    (["slice", "{IN}", "{OUT}/s", "-p", "bogus=1"], USAGE, "min_segment_ms"),
    (["slice", "{IN}", "{OUT}/s", "-p", "min_segment_ms=0"], USAGE, "min_segment_ms=0 is outside"),
    (["slice", "{IN}", "{OUT}/s", "--chain", "revrb"], USAGE, 'unknown effect "revrb"'),
    (["demo", "{FILE}/sub"], FAILURE, "cannot create"),
    (["frobnicate"], USAGE, "No such command"),
    (["apply", "--bogus"], USAGE, "No such option"),
])
def test_bad_input_is_one_line_with_the_documented_status(capsys, voice_wav, outdir, tmp_path, args, status, phrase):
    (tmp_path / "file.txt").write_text("not a folder")
    (tmp_path / "notaudio.wav").write_text("not audio")
    slots = {"IN": voice_wav, "INDIR": voice_wav.parent, "OUT": outdir, "FILE": tmp_path / "file.txt",
             "NOTAUDIO": tmp_path / "notaudio.wav"}
    before = sorted(tmp_path.rglob("*"))
    got, out, err = run(capsys, *[a.format(**slots) for a in args])
    assert got == status, err
    assert_one_line_error(err, phrase)
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == before  # no output, partial or otherwise, and no temp files


def test_debug_shows_the_traceback(capsys, voice_wav, outdir):
    status, _, err = run(capsys, "--debug", "apply", voice_wav, outdir / "o.wav", "--chain", "revrb")
    assert status == USAGE
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("vcfx: error: ")
    status, _, err = run(capsys, "apply", voice_wav, outdir / "o.wav", "--chain", "pitch_shift",
                         "--sample-rate", "5", "--debug")
    assert status == USAGE and "Traceback" in err


class Explodes(vcfx.Effect):
    name = "explodes_in_test"
    summary = "Fails with a non-vcfx exception, as a buggy plugin would"

    def process_waveform(self, audio, ctx):
        raise ZeroDivisionError("division by zero")


class ExplodingPlugin:
    @vcfx.hookimpl
    def register_effects(self, register):
        register(Explodes)


@pytest.fixture
def exploding_plugin():
    plugins.register(ExplodingPlugin(), name="explodes_in_test")
    try:
        yield
    finally:
        plugins.unregister("explodes_in_test")


def test_a_failing_effect_is_one_line_naming_it_and_leaves_no_output(capsys, exploding_plugin, voice_wav, outdir):
    status, out, err = run(capsys, "apply", voice_wav, outdir / "o.wav", "--chain", "explodes_in_test",
                           "--save-preset", outdir / "p.toml")
    assert status == FAILURE
    assert_one_line_error(err, 'effect "explodes_in_test"')
    assert "ZeroDivisionError" in err
    assert list(outdir.iterdir()) == []
    status, _, err = run(capsys, "slice", voice_wav, outdir / "segs", "--chain", "explodes_in_test")
    assert status == FAILURE
    assert_one_line_error(err, "explodes_in_test")
    assert list(outdir.iterdir()) == []  # the folder slice created is gone again


def test_no_arguments_prints_the_help(capsys):
    status, out, err = run(capsys)
    assert status == USAGE and "Commands:" in err and "apply" in err


# -- the real entry point -----------------------------------------------------------

def vcfx_subprocess(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "vcfx.cli", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def test_subprocess_exit_statuses_and_no_progress_bar_on_a_pipe(voice_wav, outdir):
    done = vcfx_subprocess("apply", voice_wav, outdir / "o.wav", "--chain", "pitch_shift=semitones=1",
                           "--subtype", "FLOAT")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # stderr is a pipe: no progress bar, no noise
    done = vcfx_subprocess("apply", voice_wav, voice_wav, "--chain", "pitch_shift")
    assert done.returncode == USAGE
    assert_one_line_error(done.stderr, "is the input file")
    done = vcfx_subprocess("apply", voice_wav, outdir / "x.wav", "--chain", "pitch_shift=semitones=99")
    assert done.returncode == USAGE and done.stdout == ""
    assert_one_line_error(done.stderr, "semitones=99")


def test_version_and_listings(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and vcfx.__version__ in out
    status, out, _ = run(capsys, "effects", "--json")
    table = json.loads(out)
    assert status == 0 and {e["effect"] for e in table["effects"]} == set(vcfx.effects())
    status, out, _ = run(capsys, "plugins")
    assert status == 0 and "world" in out


# -- analyze, compare -----------------------------------------------------------------

def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def panel_titles(fig) -> list[str]:
    return [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]


def test_analyze_writes_a_png_with_the_named_panels(capsys, speech_path, outdir):
    fig_path = outdir / "speech.png"
    status, out, err = run(capsys, "analyze", speech_path, "-o", fig_path)
    assert status == 0, err
    assert str(fig_path) in out
    width, height = png_size(fig_path)
    assert width >= 1000 and height >= 600 and fig_path.stat().st_size > 100_000
    fig = analyze_figure(vcfx.load(speech_path), title=speech_path.name)
    titles = panel_titles(fig)
    assert [t.split(" ")[0] for t in titles] == ["Waveform", "Spectrogram", "RMS", "f0"]
    assert "pYIN" in titles[3]
    assert "mono mix" in fig._suptitle.get_text()


def test_analyze_world_adds_envelope_and_aperiodicity(capsys, voice_wav, outdir):
    status, _, err = run(capsys, "analyze", voice_wav, "-o", outdir / "w.png", "--world")
    assert status == 0, err
    _, h_world = png_size(outdir / "w.png")
    run(capsys, "analyze", voice_wav, "-o", outdir / "plain.png")
    _, h_plain = png_size(outdir / "plain.png")
    assert h_world > h_plain * 1.3
    titles = panel_titles(analyze_figure(vcfx.load(voice_wav), world=True))
    assert any(t.startswith("WORLD spectral envelope") for t in titles)
    assert any(t.startswith("WORLD aperiodicity") for t in titles)


def test_compare_writes_a_png(capsys, voice_wav, outdir):
    shifted = outdir / "shifted.wav"
    assert run(capsys, "apply", voice_wav, shifted, "--chain", "pitch_shift=semitones=4", "--subtype", "FLOAT")[0] == 0
    status, out, err = run(capsys, "compare", voice_wav, shifted, "-o", outdir / "cmp.png")
    assert status == 0, err
    width, height = png_size(outdir / "cmp.png")
    assert width >= 1000 and height >= 600


# -- slice ---------------------------------------------------------------------------

def test_slice_writes_one_file_per_onset_segment_and_a_csv(capsys, speech_path, tmp_path):
    outdir = tmp_path / "new" / "syllables"
    status, out, err = run(capsys, "slice", speech_path, outdir)
    assert status == 0, err
    expected = vcfx.slice_onsets(vcfx.load(speech_path))
    with open(outdir / "segment.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(expected) > 5
    assert f"{len(expected)} segments" in out
    for row, seg in zip(rows, expected):
        assert float(row["start_s"]) == pytest.approx(seg.start_s) and float(row["end_s"]) == pytest.approx(seg.end_s)
        assert vcfx.load(outdir / row["path"]).frames == seg.audio.frames
    assert sorted(p.name for p in outdir.iterdir()) == sorted([r["path"] for r in rows] + ["segment.csv"])


def test_slice_parameters_and_stem(capsys, voice_wav, outdir):
    status, _, err = run(capsys, "slice", voice_wav, outdir, "-p", "min_segment_ms=400", "--stem", "syl")
    assert status == 0, err
    n = len(vcfx.slice_onsets(vcfx.load(voice_wav), min_segment_ms=400))
    assert len(list(outdir.glob("syl_*.wav"))) == n
    assert (outdir / "syl.csv").is_file()


# -- demo -------------------------------------------------------------------------------

def test_demo_writes_audio_and_figures_and_says_where(capsys, tmp_path):
    outdir = tmp_path / "demo"
    status, out, err = run(capsys, "demo", outdir)
    assert status == 0, err
    assert str(outdir.resolve()) in out
    assert (outdir / "original.wav").is_file()
    png_size(outdir / "analysis_original.png")
    for name in vcfx.presets():
        assert (outdir / f"preset_{name}.wav").is_file()
        png_size(outdir / f"compare_preset_{name}.png")
    examples = sum(len(vcfx.effect_class(n).examples) for n in vcfx.effects())
    assert len(list(outdir.glob("*.wav"))) == 1 + len(vcfx.presets()) + examples
    for path in outdir.iterdir():
        assert path.name in out

"""Batch processing: resumable after SIGKILL, identical on the local and Dask executors, reproducible."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

import vcfx
from vcfx.batching import MANIFEST_NAME, batch, reproduce

CHAIN = "pitch_shift=semitones=uniform(-2,2)"


def make_inputs(folder: Path, count: int, seconds: float = 0.3) -> list[Path]:
    paths = []
    for i in range(count):
        sub = folder / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        voice = vcfx.synthetic_voice(seconds, 16000, f0_hz=120.0 + 5 * i).audio
        paths.append(voice.save(sub / f"clip{i:02d}.wav"))
    return paths


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def test_batch_mirrors_folders_and_records_draws(tmp_path):
    make_inputs(tmp_path / "in", 4)
    result = batch(tmp_path / "in", tmp_path / "out", CHAIN, copies=2, seed=7, quiet=True)
    assert (result.done, result.skipped, result.failed) == (8, 0, [])
    records = manifest(tmp_path / "out")
    assert sorted(r["output"] for r in records) == sorted(
        f"{d}/clip{i:02d}.{k}.wav" for i, d in [(0, "b"), (1, "a"), (2, "b"), (3, "a")] for k in (0, 1)
    )
    drawn = [r["effects"][0]["semitones"] for r in records]
    assert len(set(drawn)) == 8 and all(-2 <= s <= 2 for s in drawn)
    again = batch(tmp_path / "in", tmp_path / "out", CHAIN, copies=2, seed=7, quiet=True)
    assert (again.done, again.skipped) == (0, 8)


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path):
    make_inputs(tmp_path / "in", 3)
    (tmp_path / "in" / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "in" / "empty.wav").write_bytes(b"")
    result = batch(tmp_path / "in", tmp_path / "out", CHAIN, quiet=True)
    assert result.done == 3
    failed = {r["input"]: r["error"] for r in result.failed}
    assert set(failed) == {"corrupt.wav", "empty.wav"}
    assert all("cannot read" in e for e in failed.values())
    assert not (tmp_path / "out" / "corrupt.wav").exists()
    assert {r["status"] for r in manifest(tmp_path / "out")} == {"ok", "failed"}


def test_bad_arguments(tmp_path):
    make_inputs(tmp_path / "in", 1)
    with pytest.raises(vcfx.ParameterError, match="executor='spark' is not one of local, dask"):
        batch(tmp_path / "in", tmp_path / "out", CHAIN, executor="spark")
    with pytest.raises(vcfx.AudioError, match="is the input folder"):
        batch(tmp_path / "in", tmp_path / "in", CHAIN)
    with pytest.raises(vcfx.AudioError, match='no files match "\\*\\*/\\*.flac"'):
        batch(tmp_path / "in", tmp_path / "out", CHAIN, pattern="**/*.flac")
    with pytest.raises(vcfx.ParameterError, match="copies=0"):
        batch(tmp_path / "in", tmp_path / "out", CHAIN, copies=0)


@pytest.mark.slow
def test_sigkill_midway_then_rerun(tmp_path):
    inputs = make_inputs(tmp_path / "in", 40)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vcfx.cli", "batch", str(tmp_path / "in"), str(out),
               "--chain", CHAIN, "--seed", "3", "-j", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log = out / MANIFEST_NAME
        if log.is_file() and len(log.read_text().splitlines()) >= 8:
            break
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = len((out / MANIFEST_NAME).read_text().splitlines())
    assert 8 <= first < 40, "the batch should have been killed midway"
    assert len(workers) == 2
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "the killed batch's workers must not outlive it"

    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    done, skipped = map(int, re.match(r"(\d+) written, (\d+) already done, 0 failed", rerun.stdout).groups())
    assert skipped >= 8 and done + skipped == 40
    records = manifest(out)
    assert sorted(r["input"] for r in records) == sorted(p.relative_to(tmp_path / "in").as_posix() for p in inputs)
    for record in records:
        audio = vcfx.load(out / record["output"])
        assert audio.frames == 4800
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def test_dask_executor_matches_local_executor_byte_for_byte(tmp_path):
    make_inputs(tmp_path / "in", 6)
    batch(tmp_path / "in", tmp_path / "local", CHAIN, copies=2, seed=11, jobs=1, quiet=True)
    batch(tmp_path / "in", tmp_path / "dask", CHAIN, copies=2, seed=11, jobs=2, executor="dask", quiet=True)
    local = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.wav"))
    assert len(local) == 12
    assert local == sorted(p.relative_to(tmp_path / "dask") for p in (tmp_path / "dask").rglob("*.wav"))
    for rel in local:
        assert (tmp_path / "local" / rel).read_bytes() == (tmp_path / "dask" / rel).read_bytes()


def test_one_manifest_entry_reproduces_alone(tmp_path):
    make_inputs(tmp_path / "in", 3)
    batch(tmp_path / "in", tmp_path / "out", CHAIN, copies=2, seed=5, quiet=True)
    record = manifest(tmp_path / "out")[3]
    rebuilt = reproduce(record, tmp_path / "in", tmp_path / "again.wav")
    assert rebuilt.read_bytes() == (tmp_path / "out" / record["output"]).read_bytes()
    assert not np.array_equal(vcfx.load(rebuilt).samples, vcfx.load(tmp_path / "in" / record["input"]).samples)


def test_cli_batch_reports_failures_in_its_exit_status(tmp_path):
    make_inputs(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.wav").write_text("not audio")
    command = [sys.executable, "-m", "vcfx.cli", "batch", str(tmp_path / "in"), str(tmp_path / "out"),
               "--chain", "noise=snr_db=choice(10,20)", "--copies", "2"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.startswith("4 written, 0 already done, 2 failed")
    assert "vcfx: warning: broken.wav: cannot read" in result.stderr
    snrs = {r["effects"][0]["snr_db"] for r in manifest(tmp_path / "out") if r["status"] == "ok"}
    assert snrs <= {10.0, 20.0}


def test_worker_processes_after_world_work_in_the_parent(tmp_path):
    """A process pool forked after the parent ran WORLD effects must not wait on the parent's threads."""
    make_inputs(tmp_path / "in", 4, seconds=1.5)
    script = f"""
import vcfx
from vcfx.batching import batch
vcfx.effect("pitch_shift", semitones=1)(vcfx.synthetic_voice(1.5, 16000).audio)  # starts WORLD's threads
result = batch({str(tmp_path / "in")!r}, {str(tmp_path / "out")!r}, {CHAIN!r}, jobs=2, quiet=True)
print(result.done)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"

"""`vcfx live` and `vcfx devices`: from a file at real-time pace, Ctrl-C, bad arguments, and a real audio device.

The device tests go through PulseAudio null sinks (a loopback whose monitor
can be recorded); .ci/run starts PulseAudio. Where no PulseAudio server
answers they are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import vcfx
from vcfx.cli import main

from truth import praat_f0

RATE = 48000


def vcfx_live(*args, env=None, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "vcfx.cli", "live", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


@pytest.fixture
def voice_48k(tmp_path) -> Path:
    path = tmp_path / "voice.wav"
    vcfx.synthetic_voice(3.0, RATE, f0_hz=(150.0, 150.0)).audio.save(path)
    return path


def wait_for_first_block(run: subprocess.Popen, give_up_s: float = 120.0) -> None:
    """Read ``vcfx live``'s stderr until it counts a first block (not "0 blocks"): the stream has started."""
    seen, give_up = "", time.monotonic() + give_up_s
    while not re.search(r"\r[1-9]\d* blocks", seen) and time.monotonic() < give_up:
        part = os.read(run.stderr.fileno(), 256)
        if not part:
            return
        seen += part.decode(errors="replace")


def pitch_cents(path: Path, reference_hz: float = 150.0) -> tuple[float, int]:
    _, f0 = praat_f0(vcfx.load(path))
    voiced = f0[f0 > 0]
    return (float(np.median(1200 * np.log2(voiced / reference_hz))) if len(voiced) else np.nan), len(voiced)


def test_live_from_a_file_writes_the_output_laid_against_the_input(voice_48k, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert main(["live", str(voice_48k), str(out), "--chain", "pitch_shift=semitones=4", "--fast"]) == 0
    printed = capsys.readouterr().out
    assert "latency 44.8 ms; 563 blocks" in printed and " late" in printed  # how many are late is not asserted
    result = vcfx.load(out)
    assert result.frames == vcfx.load(voice_48k).frames
    cents, voiced = pitch_cents(out)
    assert voiced > 200 and cents == pytest.approx(400, abs=10)


def test_ctrl_c_stops_a_realtime_run_and_writes_what_was_produced(tmp_path):
    long_voice = tmp_path / "long.wav"
    vcfx.synthetic_voice(8.0, RATE, f0_hz=(150.0, 150.0)).audio.save(long_voice)
    out = tmp_path / "out.wav"
    run = vcfx_live(long_voice, out, "--chain", "pitch_shift=semitones=4", "--realtime")
    wait_for_first_block(run)
    time.sleep(1.0)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 0, stderr
    assert "(stopped)" in stdout and f"wrote {out}" in stdout
    written = vcfx.load(out).duration_s
    assert 0.5 < written < 7.0  # what was produced before Ctrl-C, and its flush
    assert not list(tmp_path.glob(".*tmp*"))


def test_bad_arguments_are_one_line_errors(voice_48k, tmp_path, capsys):
    assert main(["live", str(voice_48k), str(tmp_path / "o.wav"), "--chain", "tempo=rate=0.8"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'effect "tempo" cannot stream live: it changes the length' in err
    assert main(["live", str(voice_48k), str(voice_48k), "--chain", "pitch_shift"]) == 2
    assert main(["live", str(voice_48k), "--chain", "pitch_shift"]) == 2
    assert "give both IN and OUT" in capsys.readouterr().err


# -- a real audio device: PulseAudio null sinks ----------------------------------------------------------------

def pulse_running() -> bool:
    if not shutil.which("pactl"):
        return False
    return subprocess.run(["pactl", "info"], capture_output=True).returncode == 0


needs_pulse = pytest.mark.skipif(not pulse_running(), reason="no PulseAudio server (.ci/run starts one)")


@pytest.fixture
def null_sinks():
    """Two null sinks: vcfx_in (its monitor is the stream's microphone) and vcfx_out (the stream's speakers)."""
    modules = [subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}", f"rate={RATE}"],
                              capture_output=True, text=True, check=True).stdout.strip()
               for name in ("vcfx_in", "vcfx_out")]
    env = dict(os.environ, PULSE_SOURCE="vcfx_in.monitor", PULSE_SINK="vcfx_out")
    yield env
    for module in modules:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)


@needs_pulse
def test_devices_lists_the_pulse_device(capsys):
    assert main(["devices"]) == 0
    assert "pulse" in capsys.readouterr().out


@needs_pulse
def test_a_device_that_does_not_exist_is_a_one_line_error(capsys):
    assert main(["live", "--chain", "pitch_shift=semitones=4", "--input-device", "99", "--duration", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "input device 99 does not exist; input devices: 0 (pulse)" in err


@needs_pulse
def test_live_through_a_real_audio_device(voice_48k, tmp_path, null_sinks):
    """The voice played into one null sink comes out of the other 4 semitones up, as recorded from its monitor."""
    monitor, played = tmp_path / "monitor.wav", tmp_path / "played.wav"
    recorder = subprocess.Popen(["parecord", "--device=vcfx_out.monitor", "--file-format=wav", f"--rate={RATE}",
                                 "--channels=1", str(monitor)])
    run = vcfx_live("--chain", "pitch_shift=semitones=4", "--sample-rate", RATE, "--duration", 10, "--record", played,
                    env=null_sinks)
    wait_for_first_block(run)  # the stream takes audio from the device now: on a busy machine, seconds after start
    for _ in range(3):  # PortAudio's ALSA-to-PulseAudio path can stall for a second or two: the voice goes by again
        subprocess.run(["paplay", "--device=vcfx_in", str(voice_48k)], check=True, timeout=30)
    stdout, stderr = run.communicate(timeout=60)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=10)
    assert run.returncode == 0, stderr
    assert "latency 44.8 ms" in stdout
    for path in (played, monitor):
        cents, voiced = pitch_cents(path)
        assert voiced >= 150, f"{path.name}: {voiced} voiced frames reached the device; vcfx live said {stdout!r}"
        assert cents == pytest.approx(400, abs=15)

"""A live stream between sound devices (``sounddevice``, the ``live`` extra), or from a file at real-time pace."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .chain import Chain
from .errors import AudioError, StreamError, VcfxError
from .files import check_output_path, open_audio, output_format, read_block, write_audio
from .live import Stream

__all__ = ["LiveReport", "devices", "run_devices", "run_file"]

MAX_STOPS_WITHOUT_A_BLOCK = 3
"""Times in a row the device stream may stop on its own, no block between, before a live run gives up."""


@dataclass
class LiveReport:
    """What a live run did.

    Attributes
    ----------
    latency_ms : float
        The stream's latency (the sound card's buffers come on top).
    blocks : int
        Blocks processed.
    late_blocks : int
        Blocks whose processing ended after their deadline (or that the
        sound card reported as an underflow or overflow).
    frames : int
        Input frames processed.
    output : Path or None
        The file written, if any.
    restarts : int
        Times the sound card's stream stopped on its own (its driver gave up
        after an overrun, say) and was opened again; the input in between is lost.
    interrupted : bool
        Whether Ctrl-C ended the run.
    """

    latency_ms: float
    blocks: int = 0
    late_blocks: int = 0
    restarts: int = 0
    frames: int = 0
    output: Path | None = None
    interrupted: bool = False
    block_times: list[float] = field(default_factory=list, repr=False)


def _sounddevice():
    try:
        import sounddevice
    except ImportError:
        raise VcfxError("live audio devices need the optional extra: pip install 'vcfx[live]'") from None
    except OSError as exc:  # sounddevice found no PortAudio library
        raise VcfxError(f"sounddevice cannot load PortAudio ({exc}); install it, e.g. apt-get install "
                        "libportaudio2") from None
    return sounddevice


def devices() -> list[dict[str, Any]]:
    """Every audio device: ``index``, ``name``, ``inputs``, ``outputs``, ``sample_rate`` (its default)."""
    sd = _sounddevice()
    return [{"index": i, "name": d["name"], "inputs": d["max_input_channels"], "outputs": d["max_output_channels"],
             "sample_rate": int(d["default_samplerate"])} for i, d in enumerate(sd.query_devices())]


def _device(index: int | None, kind: str, channels: int) -> int | None:
    """``index`` when it names a device with ``channels`` of ``kind`` (``"inputs"``/``"outputs"``); None: the default."""
    found = devices()
    usable = [d for d in found if d[kind] >= channels]
    if index is None:
        if not usable:
            raise AudioError(f"there is no audio device with {channels} {kind[:-1]} channel(s); see `vcfx devices`")
        return None
    listing = ", ".join(f"{d['index']} ({d['name']})" for d in usable) or "(none)"
    if not any(d["index"] == index for d in usable):
        what = "does not exist" if not any(d["index"] == index for d in found) else \
            f"has fewer than {channels} {kind[:-1]} channel(s)"
        raise AudioError(f"{kind[:-1]} device {index} {what}; {kind[:-1]} devices: {listing}")
    return index


def _aligned(stream: Stream, blocks: list[np.ndarray], tail: np.ndarray) -> np.ndarray:
    """The output laid against the input: the first ``latency_frames`` (silence) dropped, the tail kept."""
    y = np.concatenate(blocks + [tail], axis=1) if blocks else tail
    return y[:, stream.latency_frames:]


def _check_output(path: Path | None, inputs=()) -> None:
    if path is not None:
        check_output_path(path, inputs)
        output_format(path)


def run_file(chain: Chain, input_path: Path, output_path: Path, *, block_frames: int = 256, realtime: bool = True,
             on_block: Callable[[LiveReport], None] | None = None) -> LiveReport:
    """Drive a :class:`Stream` from ``input_path`` block by block and write ``output_path``.

    With ``realtime`` each block waits for its moment, as a sound card
    would deliver it. Ctrl-C stops the run; the output produced so far
    (and the stream's flush) is written, atomically, laid against the input.

    Raises
    ------
    VcfxError
        A chain that cannot stream, an input that cannot be read, an
        output path that cannot be written, before anything is processed.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    _check_output(output_path, [input_path])
    with open_audio(input_path) as source:
        stream = Stream(chain, sample_rate=source.samplerate, channels=source.channels, block_frames=block_frames)
        report = LiveReport(stream.latency_ms)
        gc.freeze()  # the collector would walk every object made so far, in the middle of a block
        blocks: list[np.ndarray] = []
        duration = block_frames / source.samplerate
        start_time = time.perf_counter()
        try:
            for start in range(0, source.frames, block_frames):
                x = read_block(source, start, min(start + block_frames, source.frames))
                if realtime:
                    due = start_time + (start + x.shape[1]) / source.samplerate
                    time.sleep(max(0.0, due - time.perf_counter()))
                began = time.perf_counter()
                blocks.append(stream.process(x))
                spent = time.perf_counter() - began
                report.block_times.append(spent)
                report.blocks += 1
                report.frames += x.shape[1]
                report.late_blocks += spent > duration * x.shape[1] / block_frames
                if on_block is not None:
                    on_block(report)
        except KeyboardInterrupt:
            report.interrupted = True
        y = _aligned(stream, blocks, stream.flush())
    report.output = write_audio(y, source.samplerate, output_path)
    return report


def run_devices(chain: Chain, *, input_device: int | None = None, output_device: int | None = None,
                block_frames: int = 256, sample_rate: int | None = None, channels: int = 1,
                duration_s: float | None = None, record: Path | None = None,
                on_tick: Callable[[LiveReport], None] | None = None) -> LiveReport:
    """Microphone to speakers through a :class:`Stream`, until ``duration_s`` or Ctrl-C.

    Parameters
    ----------
    chain : Chain
    input_device, output_device : int, optional
        Device indices (:func:`devices`); the system's defaults when omitted.
    block_frames : int
        The sound card's buffer, and the stream's block.
    sample_rate : int, optional
        The input device's default rate when omitted.
    channels : int
    duration_s : float, optional
        Stop this long after the first block (or after the devices opened,
        if none comes); without it, run until Ctrl-C.
    record : Path, optional
        Also write what was played (atomically, laid against the input) when the run ends.
    on_tick : callable, optional
        Called about ten times a second with the report so far (late blocks, ...).

    Raises
    ------
    VcfxError
        Devices that do not exist or cannot be opened; a stream that stops
        on its own and cannot be opened again (a device unplugged); an effect
        that fails in the middle of the run. ``record`` is written first.
    """
    sd = _sounddevice()
    _check_output(record)
    inp = _device(input_device, "inputs", channels)
    out = _device(output_device, "outputs", channels)
    if sample_rate is None:
        info = sd.query_devices(inp if inp is not None else sd.default.device[0])
        sample_rate = int(info["default_samplerate"])
    stream = Stream(chain, sample_rate=sample_rate, channels=channels, block_frames=block_frames)
    report = LiveReport(stream.latency_ms)
    gc.freeze()  # the collector would walk every object made so far, in the middle of a block
    played: list[np.ndarray] = []
    failure: list[BaseException] = []
    duration = block_frames / sample_rate
    first_block: list[float] = []  # when the device delivered it: ``duration_s`` counts from then

    def callback(indata, outdata, frames, when, status):
        began = time.perf_counter()
        if not first_block:
            first_block.append(time.monotonic())
        try:
            y = stream.process(np.ascontiguousarray(indata.T))
        except VcfxError as exc:
            failure.append(exc)
            raise sd.CallbackAbort from None
        outdata[:] = y.T
        if record is not None:
            played.append(y)
        report.blocks += 1
        report.frames += frames
        report.late_blocks += bool(status) or time.perf_counter() - began > duration * frames / block_frames

    def opened(what: str):
        try:
            audio = sd.Stream(device=(inp, out), samplerate=sample_rate, blocksize=block_frames, channels=channels,
                              dtype="float32", callback=callback)
            audio.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise StreamError(f"{what} the audio devices (input {inp}, output {out}) at {sample_rate} Hz, "
                              f"blocks of {block_frames}: {exc}") from None
        return audio

    audio, started = opened("cannot open"), time.monotonic()
    blocks_then, stops_in_a_row = 0, 0
    try:
        while not failure and (duration_s is None or time.monotonic() < (first_block or [started])[0] + duration_s):
            time.sleep(0.1)
            if on_tick is not None:
                on_tick(report)
            if audio.active or failure:
                continue
            audio.close()  # the driver gave up (an overrun it did not recover from, a device unplugged): reopen
            stops_in_a_row = stops_in_a_row + 1 if report.blocks == blocks_then else 1
            if stops_in_a_row > MAX_STOPS_WITHOUT_A_BLOCK:
                raise StreamError(f"the audio stream stopped {stops_in_a_row} times in a row without delivering a "
                                  f"block (input {inp}, output {out}, {sample_rate} Hz)")
            report.restarts += 1
            audio, blocks_then = opened("the audio stream stopped and cannot reopen"), report.blocks
    except KeyboardInterrupt:
        report.interrupted = True
    except StreamError as exc:
        failure.append(exc)
    finally:
        audio.close()
    if record is not None:  # what was played is kept, even when the run failed
        tail = np.zeros((channels, 0), dtype=np.float32) if failure else stream.flush()
        report.output = write_audio(_aligned(stream, played, tail), sample_rate, Path(record))
    if failure:
        raise failure[0]
    return report

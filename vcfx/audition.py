"""What the audition page (``vcfx serve``) asks of the library, without the web.

Chains from text a web request sends, where parameters that name files on
the server are refused (:attr:`vcfx.Param.file`); the measurements the page
draws (waveform, spectrogram, f0 by pYIN) and the change it reports; and a
render, done by :func:`vcfx.apply_file` as ``vcfx apply`` does it. Every
refusal is a :class:`Refused`, a :class:`~vcfx.VcfxError` that also names the
form field at fault and an HTTP status. :mod:`vcfx.serving` puts this on the web.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import plugins as plugin_host
from .applying import apply_file
from .audio import Audio, load
from .chain import Chain, check_engine
from .errors import VcfxError
from .files import open_audio, subtype_for
from .params import Param
from .plotting import F0_METHOD, f0_track
from .presets import preset_text
from .spec import parse_params, split_top

__all__ = ["Refused", "Render", "render", "web_chain", "web_items", "analysis", "measured_change", "check_voice",
           "load_voice", "voice_analysis", "example_voice_path"]

_WAVE_COLUMNS = 1000
_SPEC_ROWS = 160
_SPEC_TOP_HZ = 8000.0
_F0_FRAMES = 3000  # f0 frames drawn at most: a 10 ms hop up to 30 s, wider beyond (pYIN's work grows with frames)


class Refused(VcfxError):
    """A request the server refuses, with its HTTP status and the form field at fault."""

    def __init__(self, message: str, status: int = 400, field: str | None = None, index: int | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.field, self.index, self.param = status, field, index, param

    def as_json(self) -> dict[str, Any]:
        return {"error": str(self), "field": self.field, "index": self.index, "param": self.param}



# -- chains from the web: spec strings and preset names, never files on the server ---------------------------

def _unquoted(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _file_value(name: str, index: int, param: Param, text: str, uploads: dict[str, Path]) -> str | None:
    """The path an uploaded file stands in for, or None for "no file"; Refused for any file on the server."""
    value = _unquoted(text)
    if param.optional and value.lower() in ("", "none"):
        return None
    if param.file == "code":
        raise Refused(f'{name}: {param.name}={value} names a file that would be loaded and run (a plugin '
                      f'binary); the page never loads one. Run it with `vcfx apply` on your own machine',
                      field="chain", index=index, param=param.name)
    if value not in uploads:
        offered = ", ".join(sorted(uploads)) or "none"
        raise Refused(f'{name}: {param.name}={value} names a file on the server, which the page never reads; '
                      f'upload the file instead (a "files" form field whose file name is the value; uploaded: '
                      f'{offered})', field="chain", index=index, param=param.name)
    return str(uploads[value])


def web_items(text: str) -> list[dict[str, Any]]:
    """The effects a web chain names, each with every parameter's value as spec text, checked but not built.

    What the page turns back into its controls (for a link or a preset). A
    preset name gives the preset's chain. Values of parameters that name data
    files are kept when they are bare file names (they will have to come as
    uploads of that name); paths, and parameters that name code, are refused
    as :func:`web_chain` refuses them.

    Returns
    -------
    list of dict
        ``{"effect": name, "values": {param: text}}`` in chain order.

    Raises
    ------
    Refused
    """
    text = (text or "").strip()
    if text in plugin_host.registry().presets:
        try:
            text = plugin_host.preset(text).to_spec()
        except VcfxError as exc:
            raise Refused(str(exc), field="chain") from None
    items = []
    for index, name, cls, pairs in _spec_items(text):
        declared = {p.name: p for p in cls.params}
        given: dict[str, str] = {}
        for pair in pairs:
            key, eq, value = pair.partition("=")
            param = declared.get(key.strip())
            if eq and param is not None and param.file:
                bare = _unquoted(value)
                if param.file == "code" or bare != Path(bare.replace("\\", "/")).name:
                    _file_value(name, index, param, value, {})  # code, or a path no upload's name can be
                given[param.name] = bare
                continue
            try:
                parsed = parse_params(cls.params, [pair], f'effect "{name}"')
            except VcfxError as exc:
                raise Refused(str(exc), field="chain", index=index,
                              param=param.name if param is not None else None) from None
            given.update({k: declared[k].format(v) for k, v in parsed.items()})
        try:
            parse_params(cls.params, pairs, f'effect "{name}"')  # repeated keys; reads no file
        except VcfxError as exc:
            raise Refused(str(exc), field="chain", index=index) from None
        values = {p.name: given.get(p.name, "" if p.default is None else p.format(p.default)) for p in cls.params}
        items.append({"effect": name, "values": values})
    if not items:
        raise Refused("the chain spec is empty; e.g. pitch_shift=semitones=4,tempo=rate=0.8", field="chain")
    return items


def _spec_items(text: str):
    """(index, name, effect class, ``key=value`` texts) of every item of a spec string; Refused naming the item."""
    try:
        items = [i for i in split_top(text, ",") if i.strip()]
    except VcfxError as exc:
        raise Refused(str(exc), field="chain") from None
    for index, item in enumerate(items):
        name, _, rest = item.strip().partition("=")
        name = name.strip()
        try:
            cls = plugin_host.effect_class(name)
            pairs = split_top(rest, ":") if rest else []
        except VcfxError as exc:
            raise Refused(str(exc), field="chain", index=index) from None
        yield index, name, cls, [p.strip() for p in pairs if p.strip()]


def web_chain(text: str, uploads: dict[str, Path] | None = None) -> Chain:
    """The chain a web request names: a spec string or a registered preset name.

    Parameters whose declaration names a file (:attr:`Param.file`) are
    refused unless their value is the file name of an upload, which they then
    read; nothing on the server is opened for them. Each error names the
    effect's place in the chain and the parameter.

    Parameters
    ----------
    text : str
    uploads : dict of str to Path
        Uploaded files by their file names.

    Raises
    ------
    Refused
    """
    uploads = uploads or {}
    text = (text or "").strip()
    if text in plugin_host.registry().presets:
        return plugin_host.preset(text)
    rewritten = []
    for index, name, cls, pairs in _spec_items(text):
        declared = {p.name: p for p in cls.params}
        kept = []
        for pair in pairs:
            key, eq, value = pair.partition("=")
            param = declared.get(key.strip())
            if eq and param is not None and param.file:
                path = _file_value(name, index, param, value, uploads)
                pair = f"{param.name}={'none' if path is None else param.format(path)}"
            try:
                parse_params(cls.params, [pair], f'effect "{name}"')
            except VcfxError as exc:
                raise Refused(str(exc), field="chain", index=index,
                              param=param.name if param is not None else None) from None
            kept.append(pair)
        rewritten.append(name + ("=" + ":".join(kept) if kept else ""))
    try:
        return Chain.from_spec(",".join(rewritten))
    except VcfxError as exc:
        raise Refused(str(exc), field="chain", index=0 if len(rewritten) == 1 else None) from None


def _as_given(text: str, uploads: dict[str, Path]) -> str:
    """``text`` with every upload's server path written as the file name it was uploaded as."""
    for name, path in uploads.items():
        text = text.replace(json.dumps(str(path)), json.dumps(name)).replace(str(path), name)
    return text


# -- measurements --------------------------------------------------------------------------------------------

def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]


def analysis(audio: Audio) -> dict[str, Any]:
    """What the page draws of one voice: waveform peaks, a spectrogram and the f0 track, on seconds.

    Returns
    -------
    dict
        ``duration_s``, ``sample_rate``, ``channels``, ``level_dbfs`` (RMS);
        ``waveform`` (``min``/``max`` per column); ``spectrogram`` (``rows``
        and ``columns`` of dB, 0 to -80 below the loudest bin (``peak_db``, so two
        spectrograms can share one colour scale), as base64 bytes, rows
        from 0 Hz up to ``top_hz``, columns spanning ``duration_s``); ``f0``
        (``times_s``, ``hz`` with null where unvoiced, ``method``).
    """
    from scipy import signal

    mono = audio.to_mono()
    x = mono.samples[0].astype(np.float64)
    sr = audio.sample_rate
    columns = min(_WAVE_COLUMNS, len(x))
    edges = np.linspace(0, len(x), columns + 1).astype(int)
    lows = np.minimum.reduceat(x, edges[:-1])
    highs = np.maximum.reduceat(x, edges[:-1])
    n_fft = int(2 ** round(math.log2(0.032 * sr)))
    hop = max(n_fft // 4, math.ceil(len(x) / 800))
    padded = np.pad(x, (0, max(0, n_fft - len(x))))
    freqs, _, z = signal.stft(padded, fs=sr, nperseg=n_fft, noverlap=n_fft - min(hop, n_fft - 1),
                              boundary=None, padded=True)
    power = np.abs(z) ** 2
    top = min(_SPEC_TOP_HZ, sr / 2)
    keep = freqs <= top
    power, freqs = power[keep], freqs[keep]
    rows = np.linspace(0, len(freqs) - 1, min(_SPEC_ROWS, len(freqs))).astype(int)
    db = 10 * np.log10(np.maximum(power[rows], 1e-20))
    peak_db = float(db.max())
    db = np.clip(db - peak_db, -80.0, 0.0)
    pixels = np.round((db + 80.0) * (255 / 80.0)).astype(np.uint8)
    f0_t, f0 = f0_track(audio, hop_s=max(0.01, audio.duration_s / _F0_FRAMES))
    rms = float(np.sqrt(np.mean(x**2)))
    return {
        "duration_s": audio.duration_s, "sample_rate": sr, "channels": audio.channels,
        "level_dbfs": round(20 * math.log10(max(rms, 1e-10)), 2),
        "waveform": {"min": _rounded(lows, 4), "max": _rounded(highs, 4)},
        "spectrogram": {"rows": int(pixels.shape[0]), "columns": int(pixels.shape[1]), "top_hz": float(top),
                        "db_range": 80.0, "peak_db": round(peak_db, 2), "data": base64.b64encode(pixels.tobytes()).decode()},
        "f0": {"times_s": _rounded(f0_t, 3), "hz": _rounded(f0, 1), "method": F0_METHOD},
    }


def measured_change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Median pitch change in cents, durations and levels of two :func:`analysis` results.

    The pitch change is the median over frames voiced in both when the tracks
    have one length, else the change of the medians; None without voiced frames.
    """
    f0_in = np.array([np.nan if v is None else v for v in before["f0"]["hz"]], dtype=float)
    f0_out = np.array([np.nan if v is None else v for v in after["f0"]["hz"]], dtype=float)
    cents, how = None, "no voiced frames to compare"
    both = np.isfinite(f0_in) & np.isfinite(f0_out) if len(f0_in) == len(f0_out) else None
    if both is not None and both.sum() >= 10:
        cents, how = float(np.median(1200 * np.log2(f0_out[both] / f0_in[both]))), "median over frames voiced in both"
    elif np.isfinite(f0_in).any() and np.isfinite(f0_out).any():
        cents, how = float(1200 * np.log2(np.nanmedian(f0_out) / np.nanmedian(f0_in))), "change of the medians"
    return {
        "pitch_cents": None if cents is None else round(cents, 1), "pitch_how": how,
        "duration_in_s": round(before["duration_s"], 4), "duration_out_s": round(after["duration_s"], 4),
        "duration_ratio": round(after["duration_s"] / before["duration_s"], 4),
        "level_in_dbfs": before["level_dbfs"], "level_out_dbfs": after["level_dbfs"],
        "level_change_db": round(after["level_dbfs"] - before["level_dbfs"], 2),
    }


# -- voices -----------------------------------------------------------------------------

def example_voice_path() -> Path:
    """The built-in example voice's file, as ``vcfx apply`` would read it."""
    return Path(str(resources.files("vcfx") / "data" / "example_voice.flac"))


_analyses: OrderedDict[str, dict[str, Any]] = OrderedDict()
_analyses_lock = threading.Lock()


def voice_analysis(path: Path, audio: Audio) -> dict[str, Any]:
    """:func:`analysis` of a voice file, remembered by content for the next renders of the same voice."""
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    with _analyses_lock:
        if key in _analyses:
            _analyses.move_to_end(key)
            return _analyses[key]
    found = analysis(audio)
    with _analyses_lock:
        _analyses[key] = found
        while len(_analyses) > 16:
            _analyses.popitem(last=False)
    return found


def check_voice(path: Path, shown: str, max_duration_s: float) -> None:
    """Refuse a voice file that cannot be read or is longer than ``max_duration_s``, naming it as ``shown``."""
    try:
        with open_audio(path) as source:
            duration = source.frames / source.samplerate
    except VcfxError as exc:
        raise Refused(str(exc).replace(str(path), shown), field="audio") from None
    if duration > max_duration_s:
        raise Refused(f"{shown} is {duration:.1f} s long; this server takes voices up to "
                      f"{max_duration_s:g} s (vcfx serve --max-duration-s)", status=413, field="audio")


def load_voice(path: Path, shown: str) -> Audio:
    """:func:`vcfx.load`, with errors that name the file as ``shown`` (the server's paths stay private)."""
    try:
        return load(path)
    except VcfxError as exc:
        raise Refused(str(exc).replace(str(path), shown), field="audio") from None


# -- a render ------------------------------------------------------------------------------------------------

@dataclass
class Render:
    """One render the page asks for.

    Attributes
    ----------
    voice : Path
        The voice file.
    shown : str
        Its name in messages (the uploaded file's name, or "the example voice").
    chain : str
        A spec string or a preset name, as :func:`web_chain` takes it.
    seed : int or None
        None draws a random one, which the answer reports.
    engine : str or None
    uploads : dict of str to Path
        Uploaded data files by their file names.
    """

    voice: Path
    shown: str
    chain: str
    seed: int | None = None
    engine: str | None = None
    uploads: dict[str, Path] = field(default_factory=dict)


def render(job: Render, folder: Path, max_duration_s: float, stage=lambda name: None) -> dict[str, Any]:
    """Run ``job`` as ``vcfx apply`` does, into ``folder``; measure both voices.

    Writes ``folder/result.wav`` (by :func:`vcfx.apply_file`: the bytes
    ``vcfx apply`` writes) and ``folder/original.wav`` (for playback: 16-bit,
    or 32-bit float where 16 bits would clip).

    Parameters
    ----------
    job : Render
    folder : Path
        An existing, empty folder.
    max_duration_s : float
        Longest voice accepted.
    stage : callable
        Called with the name of each step as it starts.

    Returns
    -------
    dict
        ``chain`` (spec string, or None where a spec string cannot hold the
        chain), ``preset`` (TOML text), ``seed``, ``engine``, ``notes``,
        ``result`` (duration, rate, channels, subtype), ``change``
        (:func:`measured_change`) and ``analysis`` of ``original`` and ``result``.

    Raises
    ------
    Refused
    """
    stage("checking the chain")
    chain = web_chain(job.chain, job.uploads)
    try:
        engine = check_engine(job.engine)
    except VcfxError as exc:
        raise Refused(str(exc), field="engine") from None
    check_voice(job.voice, job.shown, max_duration_s)
    seed = secrets.randbelow(2**31) if job.seed is None and chain.seed is None else job.seed
    stage("rendering")
    out = folder / "result.wav"
    try:
        done = apply_file(job.voice, out, chain, seed=seed, engine=engine)
    except VcfxError as exc:
        raise Refused(_as_given(str(exc).replace(str(job.voice), job.shown), job.uploads), field="chain") from None
    stage("measuring the original")
    original = load_voice(job.voice, job.shown)
    playback = folder / "original.wav"
    original.save(playback, subtype=subtype_for(playback, None, float(np.abs(original.samples).max()))[0])
    before = voice_analysis(job.voice, original)
    stage("measuring the result")
    after = analysis(load(out))
    ran = done.chain
    try:
        spec = _as_given(ran.to_spec(), job.uploads)
    except VcfxError:
        spec = None  # a chain a spec string cannot hold (a preset with nested options): the preset text can
    return {
        "chain": spec, "preset": _as_given(preset_text(ran), job.uploads), "seed": ran.seed,
        "engine": ran.engine, "notes": done.notes,
        "result": {"duration_s": done.duration_s, "sample_rate": done.sample_rate, "channels": done.channels,
                   "subtype": done.subtype},
        "change": measured_change(before, after), "analysis": {"original": before, "result": after},
    }

"""``vcfx serve``: the audition page and the HTTP API it uses.

The page (``vcfx/static/serve/``, plain HTML, CSS and JavaScript) builds a
chain from the declarations the registry lists, renders it on a voice and
shows original and result side by side. Everything it does goes through the
API below, which does every check in the library functions it calls:

``GET /api/effects``
    The declarations, as ``vcfx effects --json`` prints them.
``GET /api/presets``
    Every registered preset: name, summary and its chain as a spec string.
``GET /api/config``
    Engines, upload and duration limits, version.
``POST /api/render``
    Multipart form: ``audio`` (a file) or ``voice=example``, ``chain`` (a spec
    string or a preset name), ``seed``, ``engine``, ``files`` (uploads named by
    file-valued parameters), ``job`` (a name for ``/api/progress``). Runs
    :func:`vcfx.apply_file`, as ``vcfx apply`` does, on a worker thread;
    answers the chain as run, as a spec string and a TOML preset, the measured
    change, both analyses and the URLs of both sounds.
``POST /api/analyze``
    ``audio`` or ``voice=example``: duration, waveform, spectrogram, f0 track.
``GET /api/results/{id}/{original,result}.wav``, ``GET /api/progress/{job}``

A request needs the server's token (the ``token`` query parameter, or the
cookie set when the page is opened with it) and no foreign ``Origin``. Bad
input is a 4xx JSON answer ``{"error": message, "field": ..., "index": ...,
"param": ...}`` whose message is the :class:`~vcfx.VcfxError`'s.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from . import plugins as plugin_host
from .applying import apply_file
from .audio import Audio, load
from .chain import Chain, check_engine, engines
from .errors import SpecError, VcfxError
from .files import open_audio
from .params import Param
from .plotting import F0_METHOD, f0_track
from .presets import preset_text
from .spec import parse_params, split_top

__all__ = ["ServeConfig", "Refused", "create_app", "serve", "EXAMPLE_VOICE", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_MAX_DURATION_S = 600.0
RESULTS_KEPT = 32
"""Renders kept for playback and download; older ones are deleted."""

STATIC = Path(__file__).parent / "static" / "serve"
EXAMPLE_VOICE = "example"
_FORM_OVERHEAD = 1 << 20  # boundaries, headers and text fields on top of the files
_COOKIE = "vcfx_token"
_WAVE_COLUMNS = 1000
_SPEC_ROWS = 160
_SPEC_TOP_HZ = 8000.0


class Refused(VcfxError):
    """A request the server refuses, with its HTTP status and the form field at fault."""

    def __init__(self, message: str, status: int = 400, field: str | None = None, index: int | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.field, self.index, self.param = status, field, index, param

    def as_json(self) -> dict[str, Any]:
        return {"error": str(self), "field": self.field, "index": self.index, "param": self.param}


@dataclass(frozen=True)
class ServeConfig:
    """How a server runs.

    Attributes
    ----------
    token : str or None
        Every request must carry it; None lets anyone who can reach the port in.
    max_upload_mb : float
        Largest request body; a larger one is refused with 413 as it streams in.
    max_duration_s : float
        Longest voice accepted.
    workers : int
        Renders that run at once; more wait their turn.
    local_only : bool
        Answer only requests whose ``Host`` names the loopback (``localhost``,
        ``127.0.0.1``, ``[::1]``), so a web page whose own name resolves to
        127.0.0.1 (DNS rebinding) cannot reach the server. ``vcfx serve``
        sets it when it listens on a loopback address.
    """

    token: str | None = None
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    workers: int = 2
    local_only: bool = True

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


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
        and ``columns`` of dB, 0 to -80 below the peak, as base64 bytes, rows
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
    db = np.clip(db - db.max(), -80.0, 0.0)
    pixels = np.round((db + 80.0) * (255 / 80.0)).astype(np.uint8)
    f0_t, f0 = f0_track(audio)
    rms = float(np.sqrt(np.mean(x**2)))
    return {
        "duration_s": audio.duration_s, "sample_rate": sr, "channels": audio.channels,
        "level_dbfs": round(20 * math.log10(max(rms, 1e-10)), 2),
        "waveform": {"min": _rounded(lows, 4), "max": _rounded(highs, 4)},
        "spectrogram": {"rows": int(pixels.shape[0]), "columns": int(pixels.shape[1]), "top_hz": float(top),
                        "db_range": 80.0, "data": base64.b64encode(pixels.tobytes()).decode()},
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


# -- the work, on worker threads -----------------------------------------------------------------------------

def example_voice_path() -> Path:
    """The built-in example voice's file, as ``vcfx apply`` would read it."""
    return Path(str(resources.files("vcfx") / "data" / "example_voice.flac"))


_analyses: OrderedDict[str, dict[str, Any]] = OrderedDict()
_analyses_lock = threading.Lock()


def _analysis_of(path: Path, audio: Audio) -> dict[str, Any]:
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


def _check_voice(path: Path, shown: str, config: ServeConfig) -> None:
    try:
        with open_audio(path) as source:
            duration = source.frames / source.samplerate
    except VcfxError as exc:
        raise Refused(str(exc).replace(str(path), shown), field="audio") from None
    if duration > config.max_duration_s:
        raise Refused(f"{shown} is {duration:.1f} s long; this server takes voices up to "
                      f"{config.max_duration_s:g} s (vcfx serve --max-duration-s)", status=413, field="audio")


def _load_voice(path: Path, shown: str) -> Audio:
    try:
        return load(path)
    except VcfxError as exc:
        raise Refused(str(exc).replace(str(path), shown), field="audio") from None


class _Results:
    """Rendered sounds on disk, the newest :data:`RESULTS_KEPT` kept."""

    def __init__(self, root: Path):
        self.root = root
        self._order: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> tuple[str, Path]:
        rid = secrets.token_hex(8)
        folder = self.root / rid
        folder.mkdir()
        return rid, folder

    def keep(self, rid: str, folder: Path) -> None:
        with self._lock:
            self._order[rid] = folder
            while len(self._order) > RESULTS_KEPT:
                _, old = self._order.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)

    def file(self, rid: str, name: str) -> Path | None:
        with self._lock:
            folder = self._order.get(rid)
        path = None if folder is None else folder / name
        return path if path is not None and path.is_file() else None


@dataclass
class _Render:
    voice: Path
    shown: str
    chain: str
    seed: int | None
    engine: str | None
    uploads: dict[str, Path]


def _render(job: _Render, config: ServeConfig, results: _Results, stage) -> dict[str, Any]:
    stage("checking the chain")
    chain = web_chain(job.chain, job.uploads)
    try:
        engine = check_engine(job.engine)
    except VcfxError as exc:
        raise Refused(str(exc), field="engine") from None
    _check_voice(job.voice, job.shown, config)
    seed = secrets.randbelow(2**31) if job.seed is None and chain.seed is None else job.seed
    rid, folder = results.new()
    try:
        stage("rendering")
        out = folder / "result.wav"
        try:
            done = apply_file(job.voice, out, chain, seed=seed, engine=engine)
        except VcfxError as exc:
            raise Refused(_as_given(str(exc).replace(str(job.voice), job.shown), job.uploads),
                          field="chain") from None
        stage("measuring the original")
        original = _load_voice(job.voice, job.shown)
        original.save(folder / "original.wav", subtype="FLOAT")
        before = _analysis_of(job.voice, original)
        stage("measuring the result")
        after = analysis(load(out))
        ran = done.chain
        try:
            spec = _as_given(ran.to_spec(), job.uploads)
        except VcfxError:
            spec = None  # a chain a spec string cannot hold (a preset with nested options): the preset text can
        response = {
            "id": rid, "original_url": f"/api/results/{rid}/original.wav",
            "result_url": f"/api/results/{rid}/result.wav",
            "chain": spec, "preset": _as_given(preset_text(ran), job.uploads), "seed": ran.seed,
            "engine": ran.engine, "notes": done.notes,
            "result": {"duration_s": done.duration_s, "sample_rate": done.sample_rate, "channels": done.channels,
                       "subtype": done.subtype},
            "change": measured_change(before, after), "analysis": {"original": before, "result": after},
        }
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    results.keep(rid, folder)
    return response


# -- the web application -------------------------------------------------------------------------------------

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _host_name(host: str) -> str:
    """``host`` of a ``Host`` header without its port (``[::1]:8765`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _same_origin(origin: str, host: str | None) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and host is not None and parts.netloc.lower() == host.lower()


class _Guard:
    """Refuses requests without the token and requests from another origin; sets the token cookie."""

    def __init__(self, app, token: str | None, local_only: bool):
        self.app, self.token, self.local_only = app, token, local_only

    async def __call__(self, scope, receive, send):
        from starlette.datastructures import Headers, QueryParams
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.local_only and _host_name(host) not in _LOOPBACK:
            refused = Refused(f"requests for host {host!r} are refused: this server answers only on "
                              f"{', '.join(sorted(_LOOPBACK))} (vcfx serve --host to listen elsewhere)", status=403)
            return await JSONResponse(refused.as_json(), status_code=403)(scope, receive, send)
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, headers.get("host")):
            refused = Refused(f"requests from {origin} are refused: only the page this server serves may use "
                              "its API", status=403)
            return await JSONResponse(refused.as_json(), status_code=403)(scope, receive, send)
        if self.token is None:
            return await self.app(scope, receive, send)
        given = QueryParams(scope.get("query_string", b"").decode("latin-1")).get("token")
        cookie = _cookie(headers.get("cookie", ""))
        if not any(v is not None and hmac.compare_digest(v.encode(), self.token.encode()) for v in (given, cookie)):
            refused = Refused("this server needs its token: open the URL `vcfx serve` printed (it ends in "
                              "?token=…), or add ?token=… to the request", status=403)
            return await JSONResponse(refused.as_json(), status_code=403)(scope, receive, send)
        if given is None:
            return await self.app(scope, receive, send)

        async def with_cookie(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (b"set-cookie", f"{_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode())]
            await send(message)

        return await self.app(scope, receive, with_cookie)


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == _COOKIE:
            return value
    return None


class _TooLarge(Exception):
    pass


def _limited(request, limit: int):
    """``request`` whose body raises _TooLarge once more than ``limit`` bytes came in (the rest is never held)."""
    from starlette.requests import Request

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    count = 0

    async def receive():
        nonlocal count
        message = await request.receive()
        if message["type"] == "http.request":
            count += len(message.get("body", b""))
            if count > limit:
                raise _TooLarge
        return message

    return Request(request.scope, receive)


def _safe_name(name: str | None, fallback: str) -> str:
    base = Path((name or "").replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    return base[:100] or fallback


def create_app(config: ServeConfig | None = None):
    """The Starlette application ``vcfx serve`` runs.

    Parameters
    ----------
    config : ServeConfig, optional

    Returns
    -------
    starlette.applications.Starlette
        Wrapped in the token and Origin check.
    """
    try:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.responses import FileResponse, JSONResponse
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise VcfxError(f'vcfx serve needs the "serve" extra: pip install "vcfx[serve]" ({exc})') from None

    config = config or ServeConfig()
    root = Path(tempfile.mkdtemp(prefix="vcfx-serve-"))
    results = _Results(root)
    pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="vcfx-render")
    progress: dict[str, dict[str, Any]] = {}
    upload_mb = f"{config.max_upload_mb:g} MB"

    def refused(exc: Refused) -> JSONResponse:
        return JSONResponse(exc.as_json(), status_code=exc.status)

    def answers(endpoint):
        async def run(request):
            try:
                return await endpoint(request)
            except Refused as exc:
                return refused(exc)
            except _TooLarge:
                return refused(Refused(f"the upload is larger than this server's limit of {upload_mb} "
                                       "(vcfx serve --max-upload-mb)", status=413, field="audio"))
            except VcfxError as exc:
                return refused(Refused(str(exc)))
            except HTTPException as exc:
                return refused(Refused(str(exc.detail), status=exc.status_code))
            except Exception as exc:  # a bug, not the user's input: still JSON, and the server keeps serving
                return JSONResponse({"error": f"unexpected {type(exc).__name__}: {exc}", "field": None,
                                     "index": None, "param": None}, status_code=500)
        return run

    async def in_worker(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def form_of(request):
        """The form, with every upload saved under a folder of its own (removed by the caller)."""
        if not request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                                    "application/x-www-form-urlencoded")):
            raise Refused("send a form (multipart/form-data with a file field audio, or voice=example; "
                          "chain, seed, engine)")
        limited = _limited(request, config.max_upload_bytes + _FORM_OVERHEAD)
        try:
            form = await limited.form(max_files=16, max_fields=32)
        except (_TooLarge, HTTPException):
            raise
        except Exception as exc:
            raise Refused(f"the form cannot be read: {exc}") from None
        folder = Path(tempfile.mkdtemp(dir=root))
        return form, folder

    async def saved(upload, folder: Path, fallback: str) -> tuple[Path, str]:
        shown = _safe_name(upload.filename, fallback)
        path = folder / f"{len(list(folder.iterdir()))}-{shown}"
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise _TooLarge
                out.write(chunk)
        if size == 0:
            raise Refused(f"{shown} is empty (0 bytes)", field="audio")
        return path, shown

    async def voice_of(form, folder: Path) -> tuple[Path, str]:
        upload = form.get("audio")
        if upload is not None and not isinstance(upload, str):
            return await saved(upload, folder, "upload.wav")
        voice = form.get("voice")
        if voice == EXAMPLE_VOICE:
            return example_voice_path(), "the example voice"
        raise Refused(f'give a voice: a file field "audio", or voice={EXAMPLE_VOICE}'
                      + (f' (got voice={voice!r})' if voice else ""), field="audio")

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def effects(request):
        return JSONResponse({"effects": plugin_host.describe_effects(), "presets": plugin_host.presets(),
                             "slicers": plugin_host.describe_slicers()})

    async def presets(request):
        rows = []
        for name, summary in plugin_host.presets().items():
            try:
                chain = plugin_host.preset(name)
                spec, error = chain.to_spec(), None
            except VcfxError as exc:
                spec, error = None, str(exc)
            rows.append({"name": name, "summary": summary, "chain": spec, "error": error})
        return JSONResponse({"presets": rows})

    async def settings(request):
        from importlib.metadata import PackageNotFoundError, version

        try:
            ours = version("vcfx")
        except PackageNotFoundError:  # pragma: no cover - a source tree
            ours = "0+unknown"
        return JSONResponse({"engines": engines(), "max_upload_mb": config.max_upload_mb,
                             "max_duration_s": config.max_duration_s, "version": ours,
                             "example_voice": EXAMPLE_VOICE})

    async def render(request):
        form, folder = await form_of(request)
        try:
            voice, shown = await voice_of(form, folder)
            uploads = {}
            for upload in form.getlist("files"):
                if isinstance(upload, str):
                    raise Refused('"files" holds uploaded files, not text', field="files")
                path, name = await saved(upload, folder, "file")
                uploads[Path((upload.filename or "").replace("\\", "/")).name or name] = path
            seed_text = (form.get("seed") or "").strip()
            seed = None
            if seed_text:
                if not seed_text.isdigit():
                    raise Refused(f"seed={seed_text!r} is not a whole number >= 0", field="seed")
                seed = int(seed_text)
            engine = (form.get("engine") or "").strip() or None
            job_name = (form.get("job") or "").strip()[:64] or secrets.token_hex(4)
            job = _Render(voice, shown, form.get("chain") or "", seed, engine, uploads)
            started = time.monotonic()
            progress[job_name] = {"stage": "waiting for a worker", "started": started}

            def stage(name: str) -> None:
                progress[job_name] = {"stage": name, "started": started}

            try:
                answer = await in_worker(_render, job, config, results, stage)
            finally:
                progress.pop(job_name, None)
            return JSONResponse(answer)
        finally:
            await form.close()
            shutil.rmtree(folder, ignore_errors=True)

    async def check(request):
        chain = request.query_params.get("chain")
        if chain is None:
            form, folder = await form_of(request)
            try:
                chain = form.get("chain") or ""
            finally:
                await form.close()
                shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse({"effects": web_items(chain)})

    async def analyze(request):
        form, folder = await form_of(request)
        try:
            voice, shown = await voice_of(form, folder)

            def work():
                _check_voice(voice, shown, config)
                return _analysis_of(voice, _load_voice(voice, shown))

            return JSONResponse(await in_worker(work))
        finally:
            await form.close()
            shutil.rmtree(folder, ignore_errors=True)

    async def result_file(request):
        rid, name = request.path_params["rid"], request.path_params["name"]
        path = results.file(rid, name) if name in ("original.wav", "result.wav") else None
        if path is None:
            raise Refused(f"no render {rid}/{name} here (the newest {RESULTS_KEPT} are kept)", status=404)
        return FileResponse(path, media_type="audio/wav", filename=name if name == "result.wav" else None)

    async def job_progress(request):
        job = progress.get(request.path_params["job"])
        if job is None:
            return JSONResponse({"stage": None, "elapsed_s": None})
        return JSONResponse({"stage": job["stage"], "elapsed_s": round(time.monotonic() - job["started"], 1)})

    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        message = {404: f"no such page or API: {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(status, str(exc))
        return JSONResponse(Refused(message, status=status).as_json(), status_code=status)

    async def lifespan(app):
        try:
            yield
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            shutil.rmtree(root, ignore_errors=True)

    routes = [
        Route("/", index),
        Route("/api/effects", answers(effects)),
        Route("/api/presets", answers(presets)),
        Route("/api/config", answers(settings)),
        Route("/api/render", answers(render), methods=["POST"]),
        Route("/api/analyze", answers(analyze), methods=["POST"]),
        Route("/api/check", answers(check), methods=["GET", "POST"]),
        Route("/api/results/{rid:str}/{name:str}", answers(result_file)),
        Route("/api/progress/{job:str}", answers(job_progress)),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan_context(lifespan),
                    exception_handlers={404: not_found, 405: not_found})
    return _Guard(app, config.token, config.local_only)


def _lifespan_context(generator):
    from contextlib import asynccontextmanager

    return asynccontextmanager(generator)


def page_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: ``http://HOST:PORT/?token=…``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, token: str | None = "",
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, max_duration_s: float = DEFAULT_MAX_DURATION_S,
          workers: int | None = None, ready=None) -> None:
    """Run the audition page's server until interrupted.

    Parameters
    ----------
    host, port
        Where to listen; ``127.0.0.1`` keeps other machines out.
    token : str or None
        ``""`` makes a random one; None turns the check off.
    max_upload_mb, max_duration_s : float
        Limits of one upload and of one voice.
    workers : int, optional
        Renders at once (default: the number of cores, at least 2).
    ready : callable, optional
        Called with the page's URL once the server listens.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise VcfxError(f'vcfx serve needs the "serve" extra: pip install "vcfx[serve]" ({exc})') from None
    if not (max_upload_mb > 0 and max_duration_s > 0):
        raise SpecError(f"max_upload_mb={max_upload_mb!r} and max_duration_s={max_duration_s!r} must be > 0")
    token = secrets.token_urlsafe(24) if token == "" else token
    config = ServeConfig(token=token, max_upload_mb=max_upload_mb, max_duration_s=max_duration_s,
                         workers=workers or max(2, os.cpu_count() or 2),
                         local_only=host in _LOOPBACK or host.startswith("127."))
    plugin_host.registry()  # load plugins now: a broken one warns before the URL is printed
    server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=port, http="h11",
                                           log_level="warning", lifespan="on"))
    if ready is not None:
        started = server.startup

        async def startup(sockets=None):
            await started(sockets=sockets)
            if server.started:
                ready(page_url(host, port, token))

        server.startup = startup
    server.run()

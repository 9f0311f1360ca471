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
``GET /api/check?chain=…``
    The chain's effects with every parameter as text, or the error.
``GET /api/results/{id}/{original,result}.wav``, ``GET /api/progress/{job}``

A request needs the server's token (the ``token`` query parameter, or the
cookie set when the page is opened with it), no foreign ``Origin`` and, on a
loopback address, a loopback ``Host``. The work is :mod:`vcfx.audition`'s. Bad
input is a 4xx JSON answer ``{"error": message, "field": ..., "index": ...,
"param": ...}`` whose message is the :class:`~vcfx.VcfxError`'s.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import plugins as plugin_host
from . import audition
from .audition import Refused, Render, check_voice, example_voice_path, load_voice, voice_analysis, web_items
from .chain import check_engine, engines
from .errors import ParameterError, VcfxError

__all__ = ["ServeConfig", "create_app", "serve", "page_url", "EXAMPLE_VOICE", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_MAX_DURATION_S = 600.0
RESULTS_KEPT = 32
"""Renders kept for playback and download; older ones are deleted."""
RESULTS_BYTES = 2 * 1024**3
"""Disk the kept renders may take; past it the oldest go first (the newest is always kept)."""

STATIC = Path(__file__).parent / "static" / "serve"
EXAMPLE_VOICE = "example"
_FORM_OVERHEAD = 1 << 20  # boundaries, headers and text fields on top of the files
_COOKIE = "vcfx_token_{port}"  # one per port: cookies do not tell ports apart


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
    engine : str or None
        The engine the page's engine choice starts at (None: the chain's
        own choice); a link that names one still wins.
    """

    token: str | None = None
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    workers: int = 2
    local_only: bool = True
    engine: str | None = None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


# -- renders kept for playback ---------------------------------------------------------------------------

class _Results:
    """Rendered sounds on disk: the newest :data:`RESULTS_KEPT`, within :data:`RESULTS_BYTES`."""

    def __init__(self, root: Path):
        self.root = root
        self._order: OrderedDict[str, tuple[Path, int]] = OrderedDict()  # id -> (folder, bytes)
        self._lock = threading.Lock()

    def new(self) -> tuple[str, Path]:
        rid = secrets.token_hex(8)
        folder = self.root / rid
        folder.mkdir()
        return rid, folder

    def keep(self, rid: str, folder: Path) -> None:
        size = sum(f.stat().st_size for f in folder.iterdir())
        with self._lock:
            self._order[rid] = (folder, size)
            while len(self._order) > 1 and (len(self._order) > RESULTS_KEPT
                                            or sum(s for _, s in self._order.values()) > RESULTS_BYTES):
                _, (old, _) = self._order.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)

    def file(self, rid: str, name: str) -> Path | None:
        with self._lock:
            folder, _ = self._order.get(rid, (None, 0))
        path = None if folder is None else folder / name
        return path if path is not None and path.is_file() else None


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
        name = _COOKIE.format(port=(scope.get("server") or ("", 0))[1])
        cookie = _cookie(headers.get("cookie", ""), name)
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
                    (b"set-cookie", f"{name}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode())]
            await send(message)

        return await self.app(scope, receive, with_cookie)


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
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

    async def saved(upload, folder: Path, fallback: str, field: str = "audio") -> tuple[Path, str]:
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
            raise Refused(f"{shown} is empty (0 bytes)", field=field)
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
        return JSONResponse({"engines": engines(), "engine": config.engine, "max_upload_mb": config.max_upload_mb,
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
                path, name = await saved(upload, folder, "file", field="files")
                uploads[Path((upload.filename or "").replace("\\", "/")).name or name] = path
            seed_text = (form.get("seed") or "").strip()
            seed = None
            if seed_text:
                if not seed_text.isdigit():
                    raise Refused(f"seed={seed_text!r} is not a whole number >= 0", field="seed")
                seed = int(seed_text)
            engine = (form.get("engine") or "").strip() or None
            job_name = (form.get("job") or "").strip()[:64] or secrets.token_hex(4)
            job = Render(voice, shown, form.get("chain") or "", seed, engine, uploads)
            started = time.monotonic()
            progress[job_name] = {"stage": "waiting for a worker", "started": started}

            def stage(name: str) -> None:
                progress[job_name] = {"stage": name, "started": started}

            rid, kept = results.new()
            try:
                answer = await in_worker(audition.render, job, kept, config.max_duration_s, stage)
            except BaseException:
                shutil.rmtree(kept, ignore_errors=True)
                raise
            finally:
                progress.pop(job_name, None)
            results.keep(rid, kept)
            return JSONResponse({"id": rid, "original_url": f"/api/results/{rid}/original.wav",
                                 "result_url": f"/api/results/{rid}/result.wav"} | answer)
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
                check_voice(voice, shown, config.max_duration_s)
                return voice_analysis(voice, load_voice(voice, shown))

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


def _check_address(host: str, port: int) -> None:
    """Refuse, before anything starts, an address this machine cannot listen on (in use, not its own)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        raise VcfxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; another program (or another "
                        "vcfx serve) may be using it: give another --port, or a --host of this machine") from None


def page_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: ``http://HOST:PORT/?token=…``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, token: str | None = "",
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, max_duration_s: float = DEFAULT_MAX_DURATION_S,
          workers: int | None = None, engine: str | None = None, ready=None) -> None:
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
    engine : str, optional
        The engine the page starts with (see :attr:`ServeConfig.engine`).
    ready : callable, optional
        Called with the page's URL once the server listens.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise VcfxError(f'vcfx serve needs the "serve" extra: pip install "vcfx[serve]" ({exc})') from None
    if not (max_upload_mb > 0 and max_duration_s > 0):
        raise ParameterError(f"max_upload_mb={max_upload_mb!r} and max_duration_s={max_duration_s!r} must be > 0")
    _check_address(host, port)
    token = secrets.token_urlsafe(24) if token == "" else token
    config = ServeConfig(token=token, max_upload_mb=max_upload_mb, max_duration_s=max_duration_s,
                         workers=workers or max(2, os.cpu_count() or 2),
                         local_only=host in _LOOPBACK or host.startswith("127."), engine=check_engine(engine))
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

"""`vcfx serve`'s HTTP API, without a browser: the same bytes as `vcfx apply`, the checks, the limits.

A real server (`vcfx serve` in a process of its own, tests/servers.py) answers where the process
matters (memory, concurrency, the printed URL); Starlette's TestClient drives the same application in
this process elsewhere.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import vcfx
from vcfx import plugins
from vcfx.audition import example_voice_path
from vcfx.cli import cli, main
from vcfx.serving import RESULTS_KEPT, ServeConfig, create_app

from servers import start, stop

http_get = partial(httpx.get, timeout=300)  # a busy machine, a first render: time is no test here
http_post = partial(httpx.post, timeout=300)
TOKEN = "test-token-1234"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def app():
    return create_app(ServeConfig(token=TOKEN, max_upload_mb=2, max_duration_s=5.0))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        c.get("/", params={"token": TOKEN})  # as the page does: the cookie stands for the token from now on
        yield c


def stranger(app):
    """A client of the same server that holds no cookie."""
    return TestClient(app, base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def server():
    running = start("--max-upload-mb", "50")
    try:
        yield running
    finally:
        stop(running)


@pytest.fixture(scope="module")
def short_voice(tmp_path_factory) -> tuple[Path, vcfx.synthetic.SyntheticVoice]:
    """A 0.7 s synthetic voice (known f0 150 -> 190 Hz) as a 16-bit WAV file."""
    truth = vcfx.synthetic_voice(0.7, 16000, f0_hz=(150.0, 190.0))
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    truth.audio.save(path)
    return path, truth


def post(c, path, data=None, files=None, **kw):
    return c.post(path, params={"token": TOKEN}, data=data or {}, files=files, **kw)


def cli_apply(tmp_path, source, spec, seed, extra=()):
    out = tmp_path / f"cli-{abs(hash((spec, seed))) % 10**8}.wav"
    assert main(["apply", str(source), str(out), "--chain", spec, "--seed", str(seed), *extra]) == 0
    return out


# -- the page's data ---------------------------------------------------------------------------------------

def test_effects_are_what_vcfx_effects_lists(client):
    answer = client.get("/api/effects")
    printed = CliRunner().invoke(cli, ["effects", "--json"])
    assert answer.status_code == 200
    assert answer.json() == json.loads(printed.output)
    assert {e["effect"] for e in answer.json()["effects"]} == set(vcfx.effects())


def test_presets_and_engines_come_from_the_registry(client):
    presets = {p["name"]: p for p in client.get("/api/presets").json()["presets"]}
    assert set(presets) == set(vcfx.presets())
    for name, row in presets.items():
        assert row["chain"] == vcfx.preset(name).to_spec()
    config = client.get("/api/config").json()
    assert config["engines"] == vcfx.chain.engines()
    assert config["engine"] is None
    assert config["max_upload_mb"] == 2


def test_the_page_can_start_at_an_engine():
    with TestClient(create_app(ServeConfig(token=TOKEN, engine="psola")), base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/config", params={"token": TOKEN}).json()["engine"] == "psola"


def test_serve_refuses_an_unknown_engine_before_it_starts():
    result = CliRunner().invoke(cli, ["serve", "--engine", "wrold", "--port", "1"])
    assert result.exit_code != 0
    assert "wrold" in result.output and "world" in result.output


def test_declarations_say_which_parameters_name_files(client):
    params = {(e["effect"], p["name"]): p for e in client.get("/api/effects").json()["effects"] for p in e["params"]}
    assert params[("reverb", "ir")]["file"] == "data"
    assert params[("pedalboard", "path")]["file"] == "code"
    assert params[("pitch_shift", "semitones")]["file"] is None


def test_a_param_file_kind_is_checked():
    with pytest.raises(vcfx.ParameterError, match="file='script' is not one of None, 'data', 'code'"):
        vcfx.Param("x", str, None, "doc", file="script")


# -- renders -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, seed, engine", [
    ("pitch_shift=semitones=4", 0, None),
    ("pitch_variance=factor=0.5,noise=snr_db=uniform(10,30),tempo=rate=1.2", 7, None),
    ("pitch_shift=semitones=-3,formant_shift=ratio=1.1", 2, "psola"),
])
def test_render_gives_the_bytes_vcfx_apply_writes(client, short_voice, tmp_path, spec, seed, engine):
    path, _ = short_voice
    if engine is not None and engine not in vcfx.chain.engines():
        pytest.fail(f"the {engine} engine is not registered")
    answer = post(client, "/api/render", {"chain": spec, "seed": str(seed), "engine": engine or ""},
                  files={"audio": ("voice.wav", path.read_bytes(), "audio/wav")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rendered = client.get(body["result_url"])
    assert rendered.status_code == 200 and rendered.headers["content-type"] == "audio/wav"
    preset = tmp_path / "run.toml"
    expected = cli_apply(tmp_path, path, spec, seed,
                         ["--save-preset", str(preset)] + (["--engine", engine] if engine else []))
    assert rendered.content == expected.read_bytes()
    assert body["engine"] == engine
    assert body["preset"] == preset.read_text()  # the same text --save-preset writes
    assert vcfx.load_chain(body["chain"]).to_spec() == body["chain"]
    assert body["seed"] == seed


def test_the_example_voice_renders_as_vcfx_apply_does_on_its_file(client, tmp_path):
    answer = post(client, "/api/render", {"voice": "example", "chain": "pitch_shift=semitones=4", "seed": "0"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = cli_apply(tmp_path, example_voice_path(), "pitch_shift=semitones=4", 0)
    assert client.get(body["result_url"]).content == expected.read_bytes()
    original = client.get(body["original_url"])
    np.testing.assert_array_equal(_wav(original.content, tmp_path).samples, vcfx.example_voice().samples)
    change = body["change"]
    # pYIN judges the change: +4 semitones is +400 cents (tolerance 20 cents)
    assert abs(change["pitch_cents"] - 400) < 20
    assert change["duration_in_s"] == change["duration_out_s"] == pytest.approx(vcfx.example_voice().duration_s, abs=1e-3)


def _wav(content: bytes, tmp_path: Path) -> vcfx.Audio:
    path = tmp_path / f"got-{len(content)}.wav"
    path.write_bytes(content)
    return vcfx.load(path)


def test_analyze_measures_a_voice_with_known_f0(client, short_voice):
    path, truth = short_voice
    answer = post(client, "/api/analyze", files={"audio": ("voice.wav", path.read_bytes(), "audio/wav")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["duration_s"] == pytest.approx(0.7, abs=1e-3)
    times = np.array(body["f0"]["times_s"])
    hz = np.array([np.nan if v is None else v for v in body["f0"]["hz"]], dtype=float)
    voiced = np.isfinite(hz)
    assert voiced.mean() > 0.7
    err = np.abs(1200 * np.log2(hz[voiced] / truth.f0_at(times[voiced])))
    assert np.median(err) < 30  # cents, pYIN against the known contour
    assert len(body["waveform"]["min"]) == len(body["waveform"]["max"]) == 1000


def test_an_uploaded_impulse_response_is_read_and_named_as_given(client, short_voice, tmp_path):
    path, _ = short_voice
    rng = np.random.default_rng(3)
    ir = (rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600)).astype(np.float32)
    room = tmp_path / "room.wav"
    vcfx.Audio(ir[None, :] * 0.5 / np.abs(ir).max(), 16000).save(room)
    answer = post(client, "/api/render", {"chain": "reverb=ir=room.wav:wet=0.5", "seed": "1"},
                  files=[("audio", ("voice.wav", path.read_bytes(), "audio/wav")),
                         ("files", ("room.wav", room.read_bytes(), "audio/wav"))])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["chain"] == "reverb=ir=room.wav:wet=0.5"
    assert 'ir = "room.wav"' in body["preset"]
    expected = cli_apply(tmp_path, path, f"reverb=ir={room}:wet=0.5", 1)
    assert client.get(body["result_url"]).content == expected.read_bytes()


def test_sixteen_concurrent_renders_each_get_their_own_result(server, short_voice, tmp_path):
    path, _ = short_voice
    shifts = list(range(-8, 8))
    data = path.read_bytes()

    def render(semitones):
        spec = f"pitch_shift=semitones={semitones}"
        r = http_post(server.api("/api/render"), data={"chain": spec, "seed": "5"},
                       files={"audio": ("voice.wav", data, "audio/wav")}, timeout=300)
        assert r.status_code == 200, r.text
        return r.json(), http_get(server.api(r.json()["result_url"]), timeout=60).content

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(render, shifts))
    for semitones, (body, audio) in zip(shifts, answers):
        assert body["chain"] == (f"pitch_shift=semitones={semitones}" if semitones else "pitch_shift")
        expected = vcfx.apply_file(path, tmp_path / f"{semitones}.wav", f"pitch_shift=semitones={semitones}", seed=5)
        assert audio == expected.path.read_bytes(), semitones
        # pYIN judges each result on its own: within 25 cents of the shift asked for
        assert abs(body["change"]["pitch_cents"] - 100 * semitones) < 25, (semitones, body["change"])
    worst = max(abs(body["change"]["pitch_cents"] - 100 * k) for k, (body, _) in zip(shifts, answers))
    print(f"16 concurrent renders: all byte-identical to apply_file; pitch change off by {worst:.1f} cents at most")
    assert len({body["id"] for body, _ in answers}) == 16 <= RESULTS_KEPT


@pytest.mark.parametrize("limit", ["RESULTS_KEPT", "RESULTS_BYTES"])
def test_old_renders_go_when_the_store_is_full(monkeypatch, short_voice, limit):
    from vcfx import serving

    monkeypatch.setattr(serving, limit, 1)
    path, _ = short_voice
    with TestClient(create_app(ServeConfig(token=TOKEN)), base_url="http://127.0.0.1:8765") as c:
        urls = [post(c, "/api/render", {"chain": f"pitch_shift=semitones={k}", "seed": "0"},
                     files={"audio": ("voice.wav", path.read_bytes(), "audio/wav")}).json()["result_url"]
                for k in (1, 2)]
        assert c.get(urls[0], params={"token": TOKEN}).status_code == 404
        assert c.get(urls[1], params={"token": TOKEN}).status_code == 200  # the newest stays


def test_a_render_runs_off_the_event_loop_and_reports_its_progress(fresh_plugins, client):
    """While an effect holds a render, the server answers other requests and says which step it is at."""
    release = threading.Event()

    class Hold(vcfx.Effect):
        name = "test_hold"
        params = ()

        def process_waveform(self, audio, ctx):
            release.wait(120)
            return audio

    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            register(Hold)

    plugins.register(Plugin(), name="test-hold")
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(post, client, "/api/render", {"voice": "example", "chain": "test_hold",
                                                                "job": "held"})
            stage = None
            for _ in range(600):
                stage = client.get("/api/progress/held").json()["stage"]
                if stage == "rendering":
                    break
                time.sleep(0.05)
            assert stage == "rendering"
            assert client.get("/api/effects").status_code == 200  # answered while the render waits
            assert not pending.done()
            release.set()
            answer = pending.result(120)
        assert answer.status_code == 200, answer.text
        assert answer.json()["chain"] == "test_hold"
        assert client.get("/api/progress/held").json() == {"stage": None, "elapsed_s": None}
    finally:
        release.set()
        plugins.unregister("test-hold")


# -- who may ask -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/effects", "/api/presets", "/static/app.js"])
def test_no_token_no_answer(app, path):
    for params in ({}, {"token": "wrong"}):
        answer = stranger(app).get(path, params=params)
        assert answer.status_code == 403
        assert "needs its token" in answer.json()["error"]
    assert stranger(app).get(path, params={"token": TOKEN}).status_code == 200


def test_a_render_without_the_token_is_refused(app):
    answer = stranger(app).post("/api/render", data={"voice": "example", "chain": "pitch_shift=semitones=4"})
    assert answer.status_code == 403


def test_the_page_sets_a_cookie_that_then_stands_for_the_token():
    app = create_app(ServeConfig(token=TOKEN))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/effects").status_code == 403
        page = c.get("/", params={"token": TOKEN})
        assert page.status_code == 200 and "<title>vcfx audition</title>" in page.text
        assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Strict" in page.headers["set-cookie"]
        assert c.get("/api/effects").status_code == 200  # the cookie now


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "null", "file://"])
def test_a_foreign_origin_is_refused_even_with_the_token(client, origin):
    answer = client.post("/api/render", data={"voice": "example", "chain": "pitch_shift"},
                         headers={"origin": origin}, params={"token": TOKEN})
    assert answer.status_code == 403
    assert "refused" in answer.json()["error"]
    assert client.get("/api/effects", headers={"origin": "http://127.0.0.1:8765"}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "192.168.1.20:8765", ""])
def test_a_host_that_is_not_the_loopback_is_refused(client, host):
    """A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host."""
    answer = client.get("/api/effects", params={"token": TOKEN}, headers={"host": host})
    assert answer.status_code == 403 and "answers only on" in answer.json()["error"]
    for ok in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert client.get("/api/effects", params={"token": TOKEN}, headers={"host": ok}).status_code == 200


def test_the_printed_url_holds_the_token_and_no_token_warns(server):
    assert server.url.startswith(f"{server.base}/?token=") and len(server.token) >= 24
    assert http_get(server.base + "/api/effects").status_code == 403
    assert http_get(server.api("/api/effects")).status_code == 200
    open_server = start("--no-token")
    try:
        assert "?token=" not in open_server.url
        assert http_get(open_server.base + "/api/effects").status_code == 200
    finally:
        err = stop(open_server)
    assert "warning: --no-token: anyone who can reach 127.0.0.1" in err


def test_a_port_in_use_is_one_line_naming_it(server, capsys):
    port = server.base.rsplit(":", 1)[1]
    assert main(["serve", "--port", port]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"vcfx: error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "give another --port" in err and len(err.strip().splitlines()) == 1


# -- files on the server are never read ---------------------------------------------------------------------

@pytest.mark.parametrize("spec, message", [
    ("reverb=ir={path}", "names a file on the server, which the page never reads"),
    ('reverb=ir="{path}":wet=0.5', "names a file on the server, which the page never reads"),
    ("pedalboard=path={path}", "names a file that would be loaded and run"),
    ("pitch_shift,pedalboard=path={path}:plugin_name=x", "names a file that would be loaded and run"),
])
def test_parameters_that_name_server_files_are_refused_and_nothing_is_read(server, short_voice, tmp_path, spec,
                                                                           message):
    """The path is a FIFO: opening it to read would block (no writer), so an answer proves nobody opened it."""
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    path, _ = short_voice
    for route in ("/api/render", "/api/check"):
        answer = http_post(server.api(route), data={"chain": spec.format(path=fifo)},
                            files={"audio": ("voice.wav", path.read_bytes(), "audio/wav")}, timeout=120)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"] and answer.json()["field"] == "chain"
    with pytest.raises(OSError):  # ENXIO: no process holds it open for reading
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    for known in ("/etc/passwd", "../shared/audio/reverb.wav"):
        answer = http_post(server.api("/api/render"), data={"voice": "example", "chain": f"reverb=ir={known}"})
        assert answer.status_code == 400 and "never reads" in answer.json()["error"]
    answer = http_post(server.api("/api/render"), data={"voice": "example", "chain": f"{fifo}.toml"})
    assert answer.status_code == 400  # a preset file path is no preset name


def test_a_third_party_file_parameter_is_refused_by_its_declaration(fresh_plugins, client):
    class Sampler(vcfx.Effect):
        name = "test_sampler"
        params = (vcfx.Param("sample", str, None, "A sound file to mix in", optional=True, file="data"),)

        def process_waveform(self, audio, ctx):
            return audio

    class Plugin:
        @vcfx.hookimpl
        def register_effects(self, register):
            register(Sampler)

    plugins.register(Plugin(), name="test-sampler")
    try:
        answer = post(client, "/api/render", {"voice": "example", "chain": "test_sampler=sample=/etc/hosts"})
        assert answer.status_code == 400
        assert answer.json()["param"] == "sample" and "never reads" in answer.json()["error"]
    finally:
        plugins.unregister("test-sampler")


# -- bad input: 4xx with the library's message, never a 500 --------------------------------------------------

def _tally(bad_inputs, what: str, answer) -> None:
    """Count a bad web input in the session's tally (tests/conftest.py); a 5xx is a crash."""
    bad_inputs.tried += 1
    if answer.status_code >= 500:
        bad_inputs.crashes.append(f"{what}: {answer.status_code} {answer.text[:200]}")


SPEC_PIECES = st.sampled_from(["pitch_shift", "reverb", "noise", "tempo", "pedalboard", "revrb", "=", ":", ",",
                               "semitones", "ir", "rate", "wet", "color", "path", "4", "-1e309", "nan", "40",
                               "curve(", ")", "0:1;", "uniform(1,", "choice(a,b)", '"', "/etc/passwd", "none", " "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SPEC_PIECES, max_size=12).map("".join))
def test_chain_text_never_gets_a_5xx(client, bad_inputs, spec):
    answer = client.get("/api/check", params={"chain": spec, "token": TOKEN})
    _tally(bad_inputs, f"GET /api/check chain={spec!r}", answer)
    assert answer.status_code in (200, 400), answer.text
    body = answer.json()
    if answer.status_code == 400:
        assert body["error"] and body["field"] == "chain"
    else:
        rebuilt = ",".join(e["effect"] for e in body["effects"])
        assert rebuilt and all(e["effect"] in vcfx.effects() for e in body["effects"])


def _library_message(spec: str) -> str:
    with pytest.raises(vcfx.VcfxError) as info:
        vcfx.Chain.from_spec(spec)
    return str(info.value)


@pytest.mark.parametrize("spec, param", [
    ("pitch_shift=semitones=40", "semitones"),
    ("pitch_shift=semitones=four", "semitones"),
    ("revrb=wet=0.5", None),
    ("pitch_shift=semitone=4", None),
    ("noise=color=purple", "color"),
    ("pitch_shift=semitones=4,tempo=rate=(", None),
    ("pitch_shift=semitones=curve(0:0;0:4)", "semitones"),
    (",,", None),
    ("pitch_shift=semitones=1:semitones=2", None),
])
def test_a_bad_chain_is_a_400_with_the_library_message(client, bad_inputs, spec, param):
    answer = post(client, "/api/render", {"voice": "example", "chain": spec})
    _tally(bad_inputs, f"POST /api/render chain={spec}", answer)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == _library_message(spec)
    assert body["field"] == "chain" and body["param"] == param
    checked = client.get("/api/check", params={"chain": spec, "token": TOKEN})
    assert checked.status_code == 400 and checked.json()["error"] == body["error"]


def test_the_error_names_the_effect_it_belongs_to(client):
    body = post(client, "/api/render", {"voice": "example", "chain": "pitch_shift=semitones=2,tempo=rate=9"}).json()
    assert (body["index"], body["param"]) == (1, "rate")


@pytest.mark.parametrize("case", ["text", "empty", "too long", "no voice", "bad voice", "seed", "engine", "not a form"])
def test_bad_input_is_a_4xx_and_the_server_keeps_serving(client, bad_inputs, tmp_path, case):
    chain = {"chain": "pitch_shift=semitones=2"}
    long_voice = tmp_path / "long.wav"
    vcfx.synthetic_voice(6.0, 8000).audio.save(long_voice)
    requests = {
        "text": (chain, {"audio": ("notes.wav", b"these are my notes, not audio\n" * 20, "audio/wav")},
                 400, "cannot read notes.wav as audio"),
        "empty": (chain, {"audio": ("silence.wav", b"", "audio/wav")}, 400, "silence.wav is empty"),
        "too long": (chain, {"audio": ("long.wav", long_voice.read_bytes(), "audio/wav")}, 413,
                     "long.wav is 6.0 s long; this server takes voices up to 5 s"),
        "no voice": (chain, None, 400, 'give a voice: a file field "audio", or voice=example'),
        "bad voice": (chain | {"voice": "/etc/passwd"}, None, 400, "got voice='/etc/passwd'"),
        "seed": (chain | {"voice": "example", "seed": "-1"}, None, 400, "seed='-1' is not a whole number"),
        "engine": (chain | {"voice": "example", "engine": "wrld"}, None, 400, "engine='wrld' is not a registered engine"),
    }
    if case == "not a form":
        answer = client.post("/api/render", params={"token": TOKEN}, content=b"{}",
                             headers={"content-type": "application/json"})
        status, message = 400, "send a form"
    else:
        data, files, status, message = requests[case]
        answer = post(client, "/api/render", data, files=files)
    _tally(bad_inputs, f"POST /api/render: {case}", answer)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert str(tmp_path) not in answer.text and "/tmp/vcfx-serve" not in answer.text  # no server paths shown
    assert client.get("/api/effects").status_code == 200


def test_unknown_routes_and_methods_are_json(client):
    assert client.get("/api/nothing").json()["error"] == "no such page or API: /api/nothing"
    answer = client.get("/api/render")
    assert answer.status_code == 405 and "GET is not allowed" in answer.json()["error"]
    assert client.get("/api/results/0123/result.wav").status_code == 404
    assert client.get("/api/results/0123/..%2f..%2fetc%2fpasswd").status_code == 404


# -- uploads past the limit ----------------------------------------------------------------------------------

def _upload(server, total: int, chunked: bool) -> tuple[int, dict]:
    """POST a multipart body of ``total`` bytes of audio field from a generator, 1 MB at a time."""
    host, port = server.base.removeprefix("http://").split(":")
    boundary = "vcfxtestboundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"\r\n'
            f"Content-Type: audio/wav\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + total + len(tail)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    request = (f"POST /api/render?token={server.token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n{framing}\r\n\r\n").encode()
    block = bytes(range(256)) * 4096  # 1 MB

    def pieces():
        yield head
        for offset in range(0, total, len(block)):
            yield block[: min(len(block), total - offset)]
        yield tail

    with socket.create_connection((host, int(port)), timeout=120) as s:
        s.sendall(request)
        for piece in pieces():
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            s.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += s.recv(65536)
        header, _, body = answer.partition(b"\r\n\r\n")
        size = int(next(line.split(b":")[1] for line in header.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(body) < size:
            body += s.recv(65536)
    return int(header.split()[1]), json.loads(body)


@pytest.mark.parametrize("chunked", [True, False], ids=["streamed", "content-length"])
def test_a_200_mb_upload_is_refused_without_being_held(server, chunked):
    process = psutil.Process(server.process.pid)
    assert http_post(server.api("/api/render"), data={"voice": "example", "chain": "pitch_shift"}).status_code == 200
    before = process.memory_info().rss
    peak, done = [before], threading.Event()

    def watch():
        while not done.is_set():
            peak.append(process.memory_info().rss)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        status, body = _upload(server, 200 * MB, chunked)
    finally:
        done.set()
        watcher.join()
    growth = (max(peak + [process.memory_info().rss]) - before) / MB
    print(f"RSS {before / MB:.0f} MB before, grew by {growth:.1f} MB at most during a 200 MB upload")
    assert status == 413
    assert "larger than this server's limit of 50 MB" in body["error"]
    assert growth < 20
    assert http_get(server.api("/api/effects")).status_code == 200


# -- shipping --------------------------------------------------------------------------------------------------

def test_the_page_ships_inside_the_wheel(tmp_path):
    root = Path(__file__).resolve().parents[1]
    from hatchling.builders.wheel import WheelBuilder

    wheel = Path(next(WheelBuilder(str(root)).build(directory=str(tmp_path), versions=["standard"])))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("index.html", "app.js", "style.css"):
        assert f"vcfx/static/serve/{name}" in names

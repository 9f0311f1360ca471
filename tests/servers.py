"""A real ``vcfx serve`` in a process of its own, for the API and browser tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Server:
    process: subprocess.Popen
    url: str          # as printed, ?token=… included
    base: str         # http://127.0.0.1:PORT
    token: str | None

    def api(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return self.base + path + (f"{sep}token={self.token}" if self.token else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*options: str, cwd: Path | None = None) -> Server:
    """Run ``vcfx serve --port P OPTIONS`` and wait for the URL it prints (up to 120 s)."""
    port = free_port()
    command = [sys.executable, "-c", "import sys, vcfx.cli; sys.exit(vcfx.cli.main())", "serve", "--port", str(port),
               *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                               env=os.environ | {"PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "http://" in line or process.poll() is not None:
            break
    found = re.search(r"(http://\S+)", line)
    if not found:
        stop(Server(process, "", "", None))
        raise RuntimeError(f"vcfx serve did not start: {line!r} {process.stderr.read()}")
    url = found.group(1)
    parts = urlsplit(url)
    token = parse_qs(parts.query).get("token", [None])[0]
    return Server(process, url, f"{parts.scheme}://{parts.netloc}", token)


def stop(server: Server) -> str:
    """Stop the server with Ctrl+C, as a user would; returns what it wrote on stderr."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.stderr.read()

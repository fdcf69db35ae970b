"""A real Varnish (Debian's ``varnishd``) in front of the app, with the shipped VCL.

The app is served on a free loopback port (a thread per request) and counts every
request that reaches it; ``varnishd`` runs as a child in the foreground with
``deploy/varnish/default.vcl``, its backend pointed at that port, and the app's
``PAYWALL_PURGE_URLS`` pointed at the cache. Without ``varnishd`` these tests skip and
say why, unless ``PAYWALL_REQUIRE_VARNISH=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import free_port
from tests.live import serving

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
BACKEND_PORT_LINE = '.port = "8000";'
CACHE_SECONDS = 3600  # so long that only a purge can explain a fresh page


def varnishd_path() -> str | None:
    found = shutil.which("varnishd") or "/usr/sbin/varnishd"
    return found if os.access(found, os.X_OK) else None


class CountedRequests:
    """WSGI middleware: notes each request that reaches the app (path, with a cookie?)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            self.seen.append((environ.get("PATH_INFO", ""), "HTTP_COOKIE" in environ))
        return self.app(environ, start_response)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for seen, _ in self.seen if seen == path)


@dataclass
class Edge:
    """The app (``app``, its requests ``reached``) and the cache in front (``url``)."""

    app: Flask
    url: str
    reached: CountedRequests
    log: Path

    def get(self, path: str, cookie_jar: Any = None, **headers: str) -> Reply:
        """GET ``path`` through the cache, as a browser with ``cookie_jar`` (None: a
        browser with no cookies at all)."""
        handlers: list[Any] = [NoRedirects()]
        if cookie_jar is not None:
            handlers.append(urllib.request.HTTPCookieProcessor(cookie_jar))
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with opener.open(request, timeout=30) as response:
                return Reply(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode(), dict(error.headers))


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str]

    @property
    def cache(self) -> str:
        return self.headers.get("X-Cache", "")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60  # the VCL is compiled with cc first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"varnishd stopped:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"varnishd did not listen on {port}:\n{log.read_text()}")


@pytest.fixture
def edge(make_app: Any, mailbox: Any, tmp_path: Path) -> Iterator[Edge]:
    varnishd = varnishd_path()
    if varnishd is None:
        reason = "Debian's varnish is not installed (apt-get install varnish)"
        if os.environ.get("PAYWALL_REQUIRE_VARNISH") == "1":
            pytest.fail(f"edge cache tests are required here but {reason}")
        pytest.skip(reason)
    app_port, cache_port = free_port(), free_port()
    vcl = VCL.read_text()
    assert vcl.count(BACKEND_PORT_LINE) == 1, "the VCL's backend port line has moved"
    vcl_file = tmp_path / "paywall.vcl"
    vcl_file.write_text(vcl.replace(BACKEND_PORT_LINE, f'.port = "{app_port}";'))
    app = make_app(
        BASE_URL=f"http://127.0.0.1:{cache_port}",
        PURGE_URLS=(f"http://127.0.0.1:{cache_port}",),
        EDGE_MAX_AGE=CACHE_SECONDS,
    )
    reached = CountedRequests(app)
    log = tmp_path / "varnishd.log"
    with serving(reached, "127.0.0.1", app_port), log.open("wb") as output:
        command = [
            varnishd,
            "-F",  # a child of this test, in the foreground
            "-n", str(tmp_path / "varnish"),
            "-a", f"127.0.0.1:{cache_port}",
            "-f", str(vcl_file),
            "-s", "malloc,64m",
            "-j", "none",  # no jail: runs as whoever runs the tests
            "-T", "none",  # no management port
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(cache_port, process, log)
            yield Edge(app=app, url=f"http://127.0.0.1:{cache_port}", reached=reached, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

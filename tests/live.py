"""Talk to the app over real HTTP: a cookie-keeping browser, and requests sent at once.

For the tests where what matters is what many requests do at the same time, against a
server (``paywall.embed.demo_site.serving``) with a thread per request.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.cookiejar import CookieJar
from typing import Any, TypeVar

from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import free_port

T = TypeVar("T")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LiveBrowser:
    """A browser of one person: keeps cookies, fills in forms' CSRF tokens, no redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects()
        )

    def request(
        self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, body, headers or {})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def get(self, path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
        return self.request(path, headers=headers)

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form on ``path``."""
        status, page, _ = self.get(path)
        found = CSRF.search(page)
        assert found, f"no form on {path} ({status})"
        return found.group(1)

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        """Open the form at ``path`` and post it with ``fields``."""
        return self.request(path, {"csrf_token": self.csrf_token(path), **fields})


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call on its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class _RequestThreads:
    """A WSGI app that notes the thread of each request (the dev server runs one thread
    per connection and closes it after one response, work after the response included)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        self.threads.add(threading.current_thread())
        return self.app(environ, start_response)

    def join(self, timeout: float) -> list[str]:
        """Wait for every request thread; the names of those still running."""
        deadline = time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread.name for thread in self.threads if thread.is_alive()]


@contextmanager
def serving(app: Any, host: str, port: int) -> Iterator[str]:
    """Serve a WSGI app on a thread, a thread per request; yields its base URL.

    On leaving, waits for the requests in flight to finish, so no request of one test
    (a late webhook, say) still runs while the next test sets up.
    """
    requests = _RequestThreads(app)
    server = make_server(host, port, requests, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        running = requests.join(timeout=30)
        assert not running, f"requests to {host}:{port} still running: {running}"


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` on a free loopback port, a thread per request; yields its base URL."""
    with serving(app, "127.0.0.1", free_port()) as url:
        yield url

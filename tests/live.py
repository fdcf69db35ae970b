"""Talk to the app over real HTTP: a cookie-keeping browser, and requests sent at once.

For the tests where what matters is what many requests do at the same time, against a
server (``paywall.embed.demo_site.serving``) with a thread per request.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.cookiejar import CookieJar
from typing import Any, TypeVar

from flask import Flask

from paywall.embed.demo_site import serving
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


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` on a free loopback port, a thread per request; yields its base URL."""
    with serving(app, "127.0.0.1", free_port()) as url:
        yield url

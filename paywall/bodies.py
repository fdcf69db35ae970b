"""Request bodies are bounded before the app sees them, chunked ones included.

``MAX_CONTENT_LENGTH`` makes Werkzeug refuse a body whose ``Content-Length`` is too
large. A chunked body has no such header: Werkzeug then stops reading at the limit
and hands the view a silently truncated body, and any view that checks
``request.content_length`` itself (the Stripe webhook's smaller limit) sees None.

:class:`SizedChunkedBodies` reads a chunked body up to one byte past the limit. Within
the limit, the request goes on as if it had been sent with that ``Content-Length``
(so every per-view limit applies to it too); past it, the app sees a length over the
limit and an empty body, and answers 413 the usual way. Memory per request stays
bounded by the limit whatever the client sends.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BLOCK = 64 * 1024


class SizedChunkedBodies:
    """WSGI middleware: a chunked request body becomes a sized one of at most ``limit``."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get(
            "CONTENT_LENGTH"
        ):
            body = self._read_at_most(environ["wsgi.input"], self.limit + 1)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(b"" if len(body) > self.limit else body)
            # Now an ordinary sized body (Werkzeug ignores Content-Length beside "chunked").
            del environ["HTTP_TRANSFER_ENCODING"]
            environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)

    @staticmethod
    def _read_at_most(stream: Any, most: int) -> bytes:
        """Up to ``most`` bytes of ``stream`` (the server ends it where the body ends)."""
        body = bytearray()
        while len(body) < most:
            block = stream.read(min(BLOCK, most - len(body)))
            if not block:
                break
            body.extend(block)
        return bytes(body)

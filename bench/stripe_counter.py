"""A stand-in Stripe API that counts every request made to it and refuses them all.

The benchmark points the app's ``STRIPE_API_BASE`` here: any call the reading path made
to Stripe would show up in :attr:`StripeCounter.calls` (and fail, loudly).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class StripeCounter:
    """Serves on a free loopback port while used as a context manager."""

    def __init__(self) -> None:
        self.calls = 0
        self.paths: list[str] = []
        lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                with lock:
                    counter.calls += 1
                    counter.paths.append(f"{self.command} {self.path}")
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "benchmark: no Stripe here"}}')

            do_GET = do_POST = do_DELETE = _refuse

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StripeCounter:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

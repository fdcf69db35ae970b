"""A stand-in Stripe API that counts every request made to it.

The reading benchmarks point the app's ``STRIPE_API_BASE`` here with no objects: any call
the reading path made to Stripe would show up in :attr:`StripeCounter.calls` (and fail,
loudly). The webhook benchmark gives it the objects its events are about, as Stripe has
them now, so the webhook's re-reads are answered (``GET /v1/<kind>/<id>``), after
``latency_ms`` like a real network hop.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote


class StripeCounter:
    """Serves on a free loopback port while used as a context manager."""

    def __init__(self, objects: dict[str, Any] | None = None, latency_ms: float = 0) -> None:
        self.calls = 0
        self.paths: list[str] = []
        # "/v1/subscriptions/sub_1" -> the object; filled by the caller, read per request
        self.objects: dict[str, Any] = objects if objects is not None else {}
        lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Stripe's API: no TCP setup per read

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with lock:
                    counter.calls += 1
                    counter.paths.append(f"GET {self.path}")
                path, _, query = self.path.partition("?")
                found = counter.objects.get(path)
                if found is None:
                    self._refuse()
                    return
                if "subscription_details.subscription" in unquote(query):
                    found = counter.expand_subscription(found)
                if latency_ms:
                    time.sleep(latency_ms / 1000)
                self._answer(200, json.dumps(found).encode())

            def _refuse(self) -> None:
                if self.command != "GET":
                    with lock:
                        counter.calls += 1
                        counter.paths.append(f"{self.command} {self.path}")
                self._answer(503, b'{"error": {"message": "benchmark: no Stripe here"}}')

            do_POST = do_DELETE = _refuse

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def expand_subscription(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """``invoice`` with the subscription it bills expanded, as Stripe answers
        ``expand[]=parent.subscription_details.subscription``."""
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        subscription = self.objects.get(f"/v1/subscriptions/{details.get('subscription')}")
        if subscription is None:
            return invoice
        parent = {
            **invoice["parent"],
            "subscription_details": {**details, "subscription": subscription},
        }
        return {**invoice, "parent": parent}

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

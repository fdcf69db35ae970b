"""The development stand-in for Stripe itself: localstripe behind the adapter, strict, as
real processes; requests made the way the SDK makes them (form-encoded, secret key)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devstripe import _forms
from devstripe.emulator import EMULATOR_SECRET_KEY, VISA, Emulator, start_emulator
from tests.conftest import free_port


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Api:
    """Requests as the SDK sends them: form-encoded, with the secret key."""

    base: str

    def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, **headers: str
    ) -> Reply:
        encoded = _forms.encode(params or {})
        url, data = f"{self.base}{path}", None
        if method == "POST":
            data = encoded.encode()
        elif encoded:
            url = f"{url}?{encoded}"
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {EMULATOR_SECRET_KEY}",
                "Content-Type": "application/x-www-form-urlencoded",
                **{name.replace("_", "-"): value for name, value in headers.items()},
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, json.loads(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Reply(error.code, json.loads(error.read()), dict(error.headers))

    def ok(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.call(method, path, params)
        assert reply.status == 200, reply.body
        return reply.body

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.ok("GET", path, params)

    def post(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.ok("POST", path, params)


@pytest.fixture(scope="session")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """localstripe behind a strict adapter, once for these tests."""
    log = tmp_path_factory.mktemp("devstripe") / "stand-in.log"
    running = start_emulator(log_path=log, strict=True)
    yield running
    running.stop()


@pytest.fixture
def api(stand_in: Emulator) -> Api:
    return Api(stand_in.api_base)


@dataclass
class Received:
    """Webhook deliveries that reached a test's endpoint."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.deliveries]


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Received]]:
    """An HTTP endpoint on loopback that takes every POST; its URL and what it received."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with received.lock:
                received.deliveries.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Subscribed:
    customer: str
    plan: str
    subscription: dict[str, Any]


_plans = 0


def a_plan(api: Api, amount: int = 900, interval: str = "month") -> str:
    """A product and a plan (localstripe has Plans; the adapter shows each as a Price)."""
    global _plans
    _plans += 1
    product = api.post("/v1/products", {"id": f"prod_test_{_plans}", "name": "News"})
    plan = api.post("/v1/plans", {
        "id": f"plan_test_{_plans}", "product": product["id"], "amount": amount,
        "currency": "usd", "interval": interval, "metadata": {"paywall_plan": "monthly"},
    })  # fmt: skip
    return plan["id"]


def a_customer(api: Api, number: str = VISA) -> str:
    """A customer whose default card for invoices is ``number``."""
    customer = api.post("/v1/customers", {"email": "reader@example.com"})
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = api.post("/v1/payment_methods", {"type": "card", "card": card})
    api.post(f"/v1/payment_methods/{method['id']}/attach", {"customer": customer["id"]})
    api.post(
        f"/v1/customers/{customer['id']}",
        {"invoice_settings": {"default_payment_method": method["id"]}},
    )
    return customer["id"]


def subscribe(api: Api, number: str = VISA, **params: Any) -> Subscribed:
    """A customer subscribed to a new monthly plan, the way the pinned version asks."""
    plan = a_plan(api)
    customer = a_customer(api, number)
    subscription = api.post("/v1/subscriptions", {
        "customer": customer, "items": [{"price": plan}],
        "payment_behavior": "allow_incomplete", "expand": ["latest_invoice"], **params,
    })  # fmt: skip
    return Subscribed(customer, plan, subscription)

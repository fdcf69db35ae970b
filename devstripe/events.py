"""Webhook endpoints held by the adapter, and events delivered to them as Stripe delivers.

Each event goes, in the order it was published, to every enabled endpoint whose
``enabled_events`` name its type (``*``: all), signed with that endpoint's secret:
``Stripe-Signature: t=<now>,v1=<HMAC-SHA256(secret, "<t>.<payload>")>``. Each endpoint
has a queue of its own, so a slow one holds up no other. Nothing is retried (localstripe
retries nothing either); every attempt is logged for the test controls.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from devstripe.reshape import API_VERSION

log = logging.getLogger("devstripe.adapter")
Obj = dict[str, Any]
DELIVERY_TIMEOUT_SECONDS = 10


def new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "").replace("_", "")[:24]


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload``."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def is_signed(payload: bytes, header: str, secret: str) -> bool:
    """True when ``header`` carries a ``v1`` signature of ``payload`` made with ``secret``."""
    parts = [part.partition("=") for part in header.split(",")]
    timestamp = next((value for name, _, value in parts if name == "t"), "")
    signed = timestamp.encode() + b"." + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(name == "v1" and hmac.compare_digest(value, expected) for name, _, value in parts)


@dataclass(eq=False)
class Endpoint:
    """Where events go: made with ``/v1/webhook_endpoints`` or by a test control."""

    url: str
    secret: str = field(default_factory=lambda: new_id("whsec_"))
    enabled_events: list[str] = field(default_factory=lambda: ["*"])
    id: str = field(default_factory=lambda: new_id("we_"))
    api_version: str | None = None
    status: str = "enabled"
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    created: int = field(default_factory=lambda: int(time.time()))

    def wants(self, event_type: str) -> bool:
        wanted = "*" in self.enabled_events or event_type in self.enabled_events
        return self.status == "enabled" and wanted

    def as_stripe(self, with_secret: bool = False) -> Obj:
        """The WebhookEndpoint object; the secret only as created (Stripe shows it once)."""
        shown = {
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": None,
            "created": self.created,
            "description": self.description,
            "enabled_events": list(self.enabled_events),
            "livemode": False,
            "metadata": dict(self.metadata),
            "status": self.status,
            "url": self.url,
        }
        return {**shown, "secret": self.secret} if with_secret else shown


class Deliveries:
    """The endpoints, their delivery queues, and a log of every attempt."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self.endpoints: dict[str, Endpoint] = {}  # made through the API, by id
        self.named: dict[str, Endpoint] = {}  # made by the test control, by name
        self.emitted: dict[str, Obj] = {}  # events the adapter made itself, by id
        self.log: deque[Obj] = deque(maxlen=2000)
        self._queues: dict[Endpoint, deque[tuple[str, Obj]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Deliveries queued or under way."""
        return self._pending

    async def wait_until_idle(self, timeout: float) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Make an event about ``obj`` (already in the pinned shape) and publish it;
        ``previous``: the values of the fields that changed, before (an ``*.updated``)."""
        data = {"object": obj, **({"previous_attributes": previous} if previous else {})}
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self.emitted[event["id"]] = event
        self.publish(event)
        return event

    def publish(self, event: Obj) -> None:
        """Queue ``event`` for every endpoint that wants it."""
        targets = [
            endpoint
            for endpoint in (*self.named.values(), *self.endpoints.values())
            if endpoint.wants(event["type"])
        ]
        event["pending_webhooks"] = len(targets)
        payload = json.dumps(event, indent=2)
        summary = {"event": event["id"], "type": event["type"]}
        for endpoint in targets:
            self._enqueue(endpoint, payload, summary)

    def _enqueue(self, endpoint: Endpoint, payload: str, summary: Obj) -> None:
        self._pending += 1
        self._idle.clear()
        queue = self._queues.get(endpoint)
        if queue is None:
            queue = self._queues[endpoint] = deque()
            task = asyncio.get_running_loop().create_task(self._drain(endpoint, queue))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        queue.append((payload, summary))

    async def _drain(self, endpoint: Endpoint, queue: deque[tuple[str, Obj]]) -> None:
        try:
            while queue:
                payload, summary = queue.popleft()
                try:
                    await self._post(endpoint, payload, summary)
                finally:
                    self._pending -= 1
                    if not self._pending:
                        self._idle.set()
        finally:
            del self._queues[endpoint]

    async def _post(self, endpoint: Endpoint, payload: str, summary: Obj) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, endpoint.secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        outcome: Obj = {**summary, "url": endpoint.url}
        try:
            async with self._session.post(
                endpoint.url,
                data=payload.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_SECONDS),
            ) as response:
                await response.read()
                outcome["status"] = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            outcome["error"] = f"{type(error).__name__}: {error}"
        self.log.append(outcome)
        log.info("event %(event)s %(type)s to %(url)s: %(result)s", {
            **outcome, "result": outcome.get("status") or outcome.get("error"),
        })  # fmt: skip

"""Pending updates settled by two requests at once: each answers once the update shows.

The request that pays an invoice (``pay``, a 3-D Secure step) and localstripe's
``invoice.*`` event a second later both settle every pending update whose invoice is
paid. Here the adapter runs in the test's process, so two settles can be started at
the same moment, as they meet under load, rather than hoping the timing falls so.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from aiohttp import web

from devstripe.adapter import ADAPTER, Adapter, make_app
from devstripe.emulator import ALWAYS_AUTHENTICATE, EmulatorClient, api_base_for
from devstripe.translations import settle_pending_updates
from tests.conftest import free_port
from tests.devstripe.conftest import Api, a_plan, subscribe
from tests.devstripe.test_plan_changes import price_of, upgrade

T = TypeVar("T")
# Where localstripe's own events would go: nowhere, so only the test settles.
NOBODY = "http://127.0.0.1:9"


@dataclass
class InProcess:
    """An adapter served from a thread of the test's process, localstripe behind it."""

    adapter: Adapter
    loop: asyncio.AbstractEventLoop
    api_base: str

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the adapter's own event loop; its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)


@pytest.fixture
def in_process() -> Iterator[InProcess]:
    upstream_port, port = free_port(), free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(upstream_port), "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    app = make_app(api_base_for(upstream_port), NOBODY, strict=True)
    runner = web.AppRunner(app)
    served = InProcess(app[ADAPTER], loop, api_base_for(port))
    try:
        served.run(runner.setup())  # waits for localstripe to answer
        served.run(web.TCPSite(runner, "127.0.0.1", port).start())
        yield served
    finally:
        served.run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        upstream.terminate()
        upstream.wait(timeout=10)


def test_two_settles_at_once_each_return_with_the_paid_update_applied(in_process: InProcess):
    api, clock = Api(in_process.api_base), EmulatorClient(in_process.api_base)
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    clock.add_default_card(subscribed.customer, ALWAYS_AUTHENTICATE)
    updated = upgrade(api, subscribed, dearer)
    assert updated["pending_update"] is not None
    intent = clock.payment_intent_of(updated["latest_invoice"]["id"])
    assert intent is not None and intent["status"] == "requires_action"
    adapter = in_process.adapter
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"

    async def pay_then_settle_twice() -> list[dict[str, Any]]:
        paid = await adapter.upstream.call(  # the reader passes 3-D Secure at Stripe
            "POST", f"/v1/payment_intents/{intent['id']}/_authenticate",
            {"client_secret": intent["client_secret"], "success": True},
        )  # fmt: skip
        assert paid.ok, paid.body

        async def settle_then_look() -> dict[str, Any]:
            await settle_pending_updates(adapter)
            return adapter.shaped(await adapter.upstream.get(path))

        return list(await asyncio.gather(settle_then_look(), settle_then_look()))

    seen = in_process.run(pay_then_settle_twice())

    assert [(price_of(s), s["pending_update"]) for s in seen] == [(dearer, None)] * 2
    assert price_of(api.get(path)) == dearer

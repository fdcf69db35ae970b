"""``pause_collection`` on a subscription, held by the adapter (localstripe has none)."""

from __future__ import annotations

import time

from devstripe import contract
from devstripe.emulator import Emulator
from tests.devstripe.conftest import Api, Received, subscribe


def test_pause_collection_is_shown_until_unset_and_told_by_events(
    api: Api, stand_in: Emulator, endpoint: tuple[str, Received]
):
    url, received = endpoint
    subscribed = subscribe(api)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"
    resumes_at = int(time.time()) + 30 * 86_400
    stand_in.let_deliveries_pass()
    stand_in.register_webhook("pauses", url, "whsec_pauses")
    try:
        paused = api.post(path, {
            "pause_collection": {"behavior": "mark_uncollectible", "resumes_at": resumes_at},
        })  # fmt: skip
        shown = api.get(path)
        unset = api.post(path, {"pause_collection": ""})
        stand_in.let_deliveries_pass()
    finally:
        stand_in.register_webhook("pauses", "http://127.0.0.1:9/", "whsec_pauses")

    held = {"behavior": "mark_uncollectible", "resumes_at": resumes_at}
    assert paused["pause_collection"] == shown["pause_collection"] == held
    assert paused["status"] == "active"  # collection is paused, not the subscription
    assert unset["pause_collection"] is None and api.get(path)["pause_collection"] is None
    assert contract.check_object(paused) == []
    updates = [
        event for event in received.events()
        if event["type"] == "customer.subscription.updated"
        and event["data"]["object"]["id"] == subscribed.subscription["id"]
    ]  # fmt: skip
    assert [e["data"]["object"]["pause_collection"] for e in updates] == [held, None]
    assert [e["data"]["previous_attributes"] for e in updates] == [
        {"pause_collection": None},
        {"pause_collection": held},
    ]

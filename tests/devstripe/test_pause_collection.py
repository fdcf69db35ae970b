"""``pause_collection`` on a subscription, held by the adapter (localstripe has none)."""

from __future__ import annotations

import time

import pytest

from devstripe import contract
from devstripe.emulator import Emulator, EmulatorClient
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
        stand_in.forget_webhook("pauses")

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


@pytest.mark.parametrize(
    ("behavior", "status"),
    [("keep_as_draft", "draft"), ("void", "void"), ("mark_uncollectible", "uncollectible")],
)
def test_a_renewal_while_collection_is_paused_collects_nothing(
    api: Api, stand_in: Emulator, behavior: str, status: str
):
    subscribed = subscribe(api)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"
    api.post(path, {"pause_collection": {"behavior": behavior}})

    renewal = EmulatorClient(stand_in.api_base).bill_renewal(
        subscribed.customer, subscribed.subscription["id"]
    )

    assert (renewal["status"], renewal["amount_paid"]) == (status, 0)
    assert renewal["billing_reason"] == "subscription_cycle"
    assert api.get(f"/v1/invoices/{renewal['id']}")["status"] == status
    assert api.get(path)["status"] == "active"


def test_a_pause_whose_resume_date_passed_collects_again(api: Api, stand_in: Emulator):
    subscribed = subscribe(api)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"
    resumes_at = int(time.time()) + 1
    api.post(path, {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}})
    while time.time() <= resumes_at:
        time.sleep(0.1)

    renewal = EmulatorClient(stand_in.api_base).bill_renewal(
        subscribed.customer, subscribed.subscription["id"]
    )

    assert (renewal["status"], renewal["amount_paid"]) == ("paid", 900)
    assert api.get(path)["pause_collection"] is None

"""Price changes as Stripe bills them: previews, prorations invoiced at once, pending
updates that wait for their invoice to be paid."""

from __future__ import annotations

import time
from typing import Any

from devstripe import contract
from devstripe.emulator import (
    ALWAYS_AUTHENTICATE,
    DECLINED_ON_CHARGE,
    VISA,
    Emulator,
    EmulatorClient,
)
from devstripe.prorations import prorated
from tests.devstripe.conftest import Api, Received, Subscribed, a_plan, subscribe


def period_of(subscribed: Subscribed) -> tuple[str, int, int]:
    item = subscribed.subscription["items"]["data"][0]
    return item["id"], item["current_period_start"], item["current_period_end"]


def preview(api: Api, subscribed: Subscribed, price: str, **details: Any) -> dict[str, Any]:
    item_id, _, _ = period_of(subscribed)
    return api.post("/v1/invoices/create_preview", {
        "customer": subscribed.customer, "subscription": subscribed.subscription["id"],
        "subscription_details": {
            "items": [{"id": item_id, "price": price}], "proration_behavior": "always_invoice",
            **details,
        },
    })  # fmt: skip


def upgrade(api: Api, subscribed: Subscribed, price: str, **params: Any) -> dict[str, Any]:
    """The product's upgrade: prorations invoiced at once, applied once paid."""
    item_id, _, _ = period_of(subscribed)
    return api.post(f"/v1/subscriptions/{subscribed.subscription['id']}", {
        "items": [{"id": item_id, "price": price}], "proration_behavior": "always_invoice",
        "payment_behavior": "pending_if_incomplete", "expand": ["latest_invoice"], **params,
    })  # fmt: skip


def price_of(subscription: dict[str, Any]) -> str:
    return subscription["items"]["data"][0]["price"]["id"]


def amounts(invoice: dict[str, Any]) -> list[int]:
    return [line["amount"] for line in invoice["lines"]["data"]]


def test_a_preview_bills_the_unused_time_back_and_the_rest_of_the_period_on_the_new_price(
    api: Api,
):
    subscribed = subscribe(api)  # 9.00 a month
    dearer = a_plan(api, amount=1900)
    _, start, end = period_of(subscribed)
    halfway = start + (end - start) // 2

    invoice = preview(api, subscribed, dearer, proration_date=halfway)

    credit, charge = invoice["lines"]["data"]
    assert credit["amount"] == -prorated(900, start, end, halfway) == -450
    assert charge["amount"] == prorated(1900, start, end, halfway) == 950
    assert invoice["amount_due"] == invoice["total"] == invoice["subtotal"] == 500
    assert invoice["currency"] == "usd" and invoice["status"] == "draft"
    assert invoice["id"].startswith("upcoming_in_")  # a preview is not stored
    assert invoice["billing_reason"] == "subscription_update"
    details = invoice["parent"]["subscription_details"]
    assert details["subscription"] == subscribed.subscription["id"]
    assert details["subscription_proration_date"] == halfway
    for line, price in ((credit, subscribed.plan), (charge, dearer)):
        assert line["parent"]["subscription_item_details"]["proration"] is True
        assert line["pricing"]["price_details"]["price"] == price
        assert line["period"] == {"start": halfway, "end": end}
    assert credit["description"].startswith("Unused time on News after ")
    assert charge["description"].startswith("Remaining time on News after ")
    assert contract.check_object(invoice) == []
    # Complete, but for ``payments``, which an invoice shows only when expanded.
    assert contract.missing_fields(invoice) == ["invoice.payments"]
    # Nothing was billed, nothing changed.
    assert len(api.get("/v1/invoices", {"customer": subscribed.customer})["data"]) == 1
    assert (
        price_of(api.get(f"/v1/subscriptions/{subscribed.subscription['id']}")) == subscribed.plan
    )


def test_a_preview_just_after_subscribing_bills_about_the_whole_difference(api: Api):
    subscribed = subscribe(api)
    invoice = preview(api, subscribed, a_plan(api, amount=1900))
    assert amounts(invoice) == [-900, 1900]  # a few seconds of a month round away
    assert invoice["amount_due"] == 1000


def test_a_cheaper_price_previews_a_credit_and_nothing_due(api: Api):
    subscribed = subscribe(api)
    invoice = preview(api, subscribed, a_plan(api, amount=500))
    assert amounts(invoice) == [-900, 500]
    assert invoice["total"] == -400 and invoice["amount_due"] == 0


def test_an_upgrade_is_invoiced_at_once_as_previewed_and_applies_when_paid(api: Api):
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    _, start, end = period_of(subscribed)
    moment = start + (end - start) // 3
    previewed = preview(api, subscribed, dearer, proration_date=moment)

    updated = upgrade(api, subscribed, dearer, proration_date=moment)

    assert price_of(updated) == dearer and updated["pending_update"] is None
    assert updated["status"] == "active"
    invoice = updated["latest_invoice"]
    assert (invoice["status"], invoice["billing_reason"]) == ("paid", "subscription_update")
    assert invoice["amount_paid"] == previewed["amount_due"] > 0
    assert amounts(invoice) == amounts(previewed)
    assert contract.check_object(updated) == []
    listed = api.get("/v1/invoices", {"customer": subscribed.customer})["data"]
    assert sorted(i["amount_paid"] for i in listed) == sorted([previewed["amount_due"], 900])


def test_a_declined_upgrade_keeps_the_old_price_until_its_invoice_is_paid(
    api: Api, stand_in: Emulator
):
    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    clock.add_default_card(subscribed.customer, DECLINED_ON_CHARGE)

    updated = upgrade(api, subscribed, dearer)

    assert updated["status"] == "active" and price_of(updated) == subscribed.plan
    pending = updated["pending_update"]
    assert [item["price"]["id"] for item in pending["subscription_items"]] == [dearer]
    assert pending["expires_at"] > time.time() + 22 * 3600
    invoice = updated["latest_invoice"]
    assert (invoice["status"], invoice["billing_reason"]) == ("open", "subscription_update")
    assert invoice["amount_due"] == 1000
    intent = clock.payment_intent_of(invoice["id"])
    assert intent["last_payment_error"]["code"] == "card_declined"
    assert contract.check_object(updated) == []

    # A card that works pays the invoice: the change applies, the pending update goes.
    clock.add_default_card(subscribed.customer, VISA)
    assert api.post(f"/v1/invoices/{invoice['id']}/pay")["status"] == "paid"
    after = api.get(f"/v1/subscriptions/{subscribed.subscription['id']}")
    assert price_of(after) == dearer and after["pending_update"] is None
    assert after["status"] == "active"


def test_an_upgrade_asking_for_3d_secure_applies_once_the_reader_authenticates(
    api: Api, stand_in: Emulator
):
    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    clock.add_default_card(subscribed.customer, ALWAYS_AUTHENTICATE)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"

    updated = upgrade(api, subscribed, dearer)
    assert price_of(updated) == subscribed.plan and updated["pending_update"] is not None
    intent = clock.payment_intent_of(updated["latest_invoice"]["id"])
    assert intent["status"] == "requires_action"

    # A failed challenge leaves the subscription as it was: active, the update pending.
    clock.authenticate_payment(intent["client_secret"], success=False)
    failed = api.get(path)
    assert failed["status"] == "active" and failed["pending_update"] is not None

    # Paid with a new card's challenge passed: the update applies.
    clock.add_default_card(subscribed.customer, ALWAYS_AUTHENTICATE)
    invoice_id = updated["latest_invoice"]["id"]
    api.call("POST", f"/v1/invoices/{invoice_id}/pay")  # 402: it asks for 3-D Secure again
    intent = clock.payment_intent_of(invoice_id)
    clock.authenticate_payment(intent["client_secret"], success=True)
    after = api.get(path)
    assert price_of(after) == dearer and after["pending_update"] is None


def test_a_pending_update_is_told_by_events(
    api: Api, stand_in: Emulator, endpoint: tuple[str, Received]
):
    url, received = endpoint
    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    clock.add_default_card(subscribed.customer, DECLINED_ON_CHARGE)
    stand_in.let_deliveries_pass()
    stand_in.register_webhook("plan-changes", url, "whsec_plan_changes")
    try:
        invoice_id = upgrade(api, subscribed, dearer)["latest_invoice"]["id"]
        clock.add_default_card(subscribed.customer, VISA)
        api.post(f"/v1/invoices/{invoice_id}/pay")
        stand_in.let_deliveries_pass()
    finally:
        stand_in.forget_webhook("plan-changes")

    ours = [
        event for event in received.events()
        if event["data"]["object"]["id"] in (subscribed.subscription["id"], invoice_id)
    ]  # fmt: skip
    kinds = [event["type"] for event in ours]
    assert "invoice.payment_failed" in kinds and "invoice.paid" in kinds
    assert "customer.subscription.pending_update_applied" in kinds
    updates = [e for e in ours if e["type"] == "customer.subscription.updated"]
    assert updates[0]["data"]["object"]["pending_update"] is not None  # held
    assert updates[-1]["data"]["object"]["pending_update"] is None  # applied
    assert price_of(updates[-1]["data"]["object"]) == dearer
    assert updates[-1]["data"]["previous_attributes"]["pending_update"] is not None
    for event in ours:
        assert contract.check_object(event) == [], event["type"]


def test_prorations_left_for_the_next_invoice_are_billed_with_the_renewal(
    api: Api, stand_in: Emulator
):
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    item_id, _, _ = period_of(subscribed)
    api.post(f"/v1/subscriptions/{subscribed.subscription['id']}", {
        "items": [{"id": item_id, "price": dearer}], "proration_behavior": "create_prorations",
    })  # fmt: skip
    pending = api.get("/v1/invoiceitems", {"customer": subscribed.customer})["data"]
    assert sorted(item["amount"] for item in pending) == [-900, 1900]

    renewal = EmulatorClient(stand_in.api_base).bill_renewal(
        subscribed.customer, subscribed.subscription["id"]
    )
    assert sorted(amounts(renewal)) == [-900, 1900, 1900]
    assert renewal["amount_paid"] == 2900


def test_a_preview_without_always_invoice_is_the_next_renewal(api: Api):
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    _, start, end = period_of(subscribed)
    halfway = start + (end - start) // 2

    as_is = api.post("/v1/invoices/create_preview", {
        "customer": subscribed.customer, "subscription": subscribed.subscription["id"],
    })  # fmt: skip
    prorated_later = preview(
        api, subscribed, dearer, proration_behavior="create_prorations", proration_date=halfway
    )
    not_prorated = preview(api, subscribed, dearer, proration_behavior="none")

    assert as_is["billing_reason"] == "subscription_cycle" and amounts(as_is) == [900]
    [line] = as_is["lines"]["data"]
    assert (
        line["period"]["start"] == end
        and not line["parent"]["subscription_item_details"]["proration"]
    )
    assert amounts(prorated_later) == [-450, 950, 1900]
    assert prorated_later["amount_due"] == 2400
    assert amounts(not_prorated) == [1900]
    for invoice in (as_is, prorated_later, not_prorated):
        assert contract.check_object(invoice) == []

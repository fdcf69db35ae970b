"""States localstripe cannot reach, held by the adapter (``devstripe.states``), and the
events Stripe sends with them, received signed at an endpoint as the product receives them."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from billing.gateway import StripeGateway
from devstripe.contract import check_object, missing_fields
from devstripe.emulator import ALWAYS_AUTHENTICATE, VISA, Emulator, EmulatorClient
from tests.devstripe.conftest import Api, Received, subscribe

SECRET = "whsec_states"


@pytest.fixture
def stripe(stand_in: Emulator) -> EmulatorClient:
    return EmulatorClient(stand_in.api_base)


@pytest.fixture
def events(stand_in: Emulator, endpoint: tuple[str, Received]) -> Iterator[Any]:
    """The events delivered from now on, verified with the endpoint's secret, as a function
    returning those about one of the given object ids."""
    url, received = endpoint
    stand_in.let_deliveries_pass()
    stand_in.register_webhook("devstripe-states", url, SECRET)

    def about(*ids: str) -> list[dict[str, Any]]:
        stand_in.let_deliveries_pass()
        verified = [
            StripeGateway.parse_event(payload, headers["Stripe-Signature"], SECRET)
            for headers, payload in received.deliveries
        ]
        return [event for event in verified if event["data"]["object"].get("id") in ids]

    try:
        yield about
    finally:
        stand_in.forget_webhook("devstripe-states")


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def assert_pinned(events: list[dict[str, Any]]) -> None:
    """Every event and its object have only fields the pinned version defines."""
    for event in events:
        assert check_object(event) == [], event["type"]


def intent_of(api: Api, invoice_id: str) -> dict[str, Any]:
    invoice = api.get(
        f"/v1/invoices/{invoice_id}", {"expand": ["payments.data.payment.payment_intent"]}
    )
    return invoice["payments"]["data"][0]["payment"]["payment_intent"]


def test_a_renewal_needing_3d_secure_waits_past_due_until_the_reader_authenticates(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    invoice = stripe.renew_needing_authentication(subscribed.customer, subscription_id)

    assert invoice["status"] == "open" and invoice["billing_reason"] == "subscription_cycle"
    intent = intent_of(api, invoice["id"])
    assert intent["status"] == "requires_action"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "past_due"
    sent = events(invoice["id"], subscription_id)
    assert {"invoice.payment_action_required", "invoice.payment_failed"} <= set(types_of(sent))
    [updated] = [e for e in sent if e["type"] == "customer.subscription.updated"]
    assert updated["data"]["object"]["status"] == "past_due"
    assert updated["data"]["previous_attributes"] == {"status": "active"}
    assert_pinned(sent)

    stripe.authenticate_payment(intent["client_secret"], success=True)  # Stripe.js, on-session
    assert api.get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    after = [e for e in events(invoice["id"], subscription_id) if e not in sent]
    assert "invoice.paid" in types_of(after)
    [active] = [e for e in after if e["type"] == "customer.subscription.updated"]
    assert active["data"]["object"]["status"] == "active"
    assert active["data"]["previous_attributes"] == {"status": "past_due"}


def test_a_declined_renewal_is_past_due_with_the_banks_reason(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    invoice = stripe.decline_renewal(subscribed.customer, subscription_id)

    assert invoice["status"] == "open"
    error = intent_of(api, invoice["id"])["last_payment_error"]
    assert error["message"] == "Your card has insufficient funds."
    assert error["decline_code"] == "insufficient_funds" and error["type"] == "card_error"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "past_due"
    sent = events(invoice["id"], subscription_id)
    assert "invoice.payment_failed" in types_of(sent)
    assert "invoice.payment_action_required" not in types_of(sent)
    failed = next(e for e in sent if e["type"] == "invoice.payment_failed")["data"]["object"]
    assert failed["status"] == "open" and failed["attempt_count"] >= 1
    assert_pinned(sent)


def test_paying_an_older_invoice_leaves_the_subscription_past_due(
    api: Api, stripe: EmulatorClient, events: Any
):
    """localstripe makes a subscription active when any of its invoices is paid; Stripe
    only when its latest one is."""
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    older = stripe.decline_renewal(subscribed.customer, subscription_id)
    newer = stripe.decline_renewal(subscribed.customer, subscription_id)
    stripe.add_default_card(subscribed.customer, VISA)

    assert api.post(f"/v1/invoices/{older['id']}/pay")["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "past_due"
    assert api.post(f"/v1/invoices/{newer['id']}/pay")["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    updates = [e for e in events(subscription_id) if e["type"] == "customer.subscription.updated"]
    assert [e["data"]["object"]["status"] for e in updates] == ["past_due", "active"]


def test_unpaid_with_an_uncollectible_invoice_is_active_once_that_invoice_is_paid(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    invoice = stripe.decline_renewal(subscribed.customer, subscription_id)
    unpaid = stripe.exhaust_retries(subscription_id, then="unpaid", invoice="uncollectible")

    assert unpaid["status"] == "unpaid"
    assert api.get(f"/v1/invoices/{invoice['id']}")["status"] == "uncollectible"
    sent = events(invoice["id"], subscription_id)
    assert "invoice.marked_uncollectible" in types_of(sent)
    assert_pinned(sent)

    stripe.add_default_card(subscribed.customer, VISA)
    assert api.post(f"/v1/invoices/{invoice['id']}/pay")["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"


def test_a_pause_after_a_failed_payment_stays_until_resumed(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    invoice = stripe.decline_renewal(subscribed.customer, subscription_id)
    paused = stripe.exhaust_retries(subscription_id, then="paused", invoice="open")

    assert paused["status"] == "paused"
    assert paused["status_details"]["paused"]["subscription"]["type"] == "final_payment_failure"
    assert "customer.subscription.paused" in types_of(events(subscription_id))
    stripe.add_default_card(subscribed.customer, VISA)
    assert api.post(f"/v1/invoices/{invoice['id']}/pay")["status"] == "paid"
    assert api.get(f"/v1/subscriptions/{subscription_id}")["status"] == "paused"  # still

    resumed = api.post(f"/v1/subscriptions/{subscription_id}/resume")
    assert resumed["status"] == "active" and resumed["status_details"] is None
    assert "customer.subscription.resumed" in types_of(events(subscription_id))


def test_a_requested_pause_is_its_own_state_until_resumed(
    api: Api, stripe: EmulatorClient, stand_in: Emulator, events: Any
):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    paused = api.post(f"/v1/subscriptions/{subscription_id}/pause")
    assert paused["status"] == "paused"
    assert paused["status_details"]["paused"]["subscription"]["type"] == "pause_requested"
    assert paused["status_details"]["paused"]["type"] == "subscription"
    sent = events(subscription_id)
    assert {"customer.subscription.paused", "customer.subscription.updated"} <= set(types_of(sent))
    assert_pinned(sent)
    listed = api.get("/v1/subscriptions", {"customer": subscribed.customer, "status": "paused"})
    assert [s["id"] for s in listed["data"]] == [subscription_id]
    again = api.call("POST", f"/v1/subscriptions/{subscription_id}/pause")
    assert again.status == 400 and "paused" in again.body["error"]["message"]
    assert api.post(f"/v1/subscriptions/{subscription_id}/resume")["status"] == "active"


def test_a_dispute_is_a_complete_dispute_object_sent_with_charge_dispute_created(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api)
    charge = stripe.charge_of(subscribed.subscription["latest_invoice"]["id"])
    dispute = stripe.dispute(charge, reason="fraudulent")

    assert dispute["object"] == "dispute" and dispute["id"].startswith("dp_")
    assert dispute["charge"] == charge and dispute["amount"] == 900
    assert dispute["status"] == "needs_response" and dispute["reason"] == "fraudulent"
    assert dispute["payment_intent"].startswith("pi_")
    assert check_object(dispute) == [] and missing_fields(dispute) == []
    assert api.get(f"/v1/disputes/{dispute['id']}") == dispute
    assert api.get(f"/v1/charges/{charge}")["disputed"] is True
    [created] = events(dispute["id"])
    assert created["type"] == "charge.dispute.created"
    assert_pinned([created])


def test_a_refund_sends_charge_refunded(api: Api, stripe: EmulatorClient, events: Any):
    subscribed = subscribe(api)
    charge = stripe.charge_of(subscribed.subscription["latest_invoice"]["id"])
    stripe.refund(charge)
    [refunded] = events(charge)
    assert refunded["type"] == "charge.refunded"
    assert refunded["data"]["object"]["refunded"] is True
    assert refunded["data"]["object"]["amount_refunded"] == 900


def test_a_subscription_made_with_a_trial_is_trialing_with_nothing_charged(
    api: Api, stripe: EmulatorClient, events: Any
):
    subscribed = subscribe(api, trial_period_days=14)
    made = subscribed.subscription
    assert made["status"] == "trialing" and made["latest_invoice"] is None
    assert made["trial_end"] - made["trial_start"] == 14 * 86400
    item = made["items"]["data"][0]
    assert item["current_period_end"] == made["trial_end"]
    assert api.get("/v1/invoices", {"customer": subscribed.customer})["data"] == []

    stripe.send_event("customer.subscription.trial_will_end", made["id"])
    sent = events(made["id"])
    assert "customer.subscription.trial_will_end" in types_of(sent)
    assert all(e["data"]["object"]["status"] == "trialing" for e in sent)
    assert_pinned(sent)
    canceled = api.ok("DELETE", f"/v1/subscriptions/{made['id']}")
    assert canceled["status"] == "canceled"


def test_an_event_tells_of_an_object_as_it_is_now(api: Api, stripe: EmulatorClient, events: Any):
    subscribed = subscribe(api)
    subscription_id = subscribed.subscription["id"]
    period_end = subscribed.subscription["items"]["data"][0]["current_period_end"]
    stripe.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at": period_end + 60})
    event = stripe.send_event("customer.subscription.updated", subscription_id)
    assert event["data"]["object"]["cancel_at"] == period_end + 60
    assert event in events(subscription_id)


def test_a_lost_answer_comes_after_stripe_acted(api: Api, stripe: EmulatorClient):
    customer = api.post("/v1/customers", {"email": "lost@example.com"})["id"]
    stripe.lose_answers("POST", "/v1/customers/cus_[^/]+", how="cut")
    with pytest.raises((urllib.error.URLError, ConnectionError, socket.error)):
        api.call("POST", f"/v1/customers/{customer}", {"email": "found@example.com"})
    assert api.get(f"/v1/customers/{customer}")["email"] == "found@example.com"  # it acted

    stripe.lose_answers("POST", "/v1/customers", how="error")
    key = {"Idempotency_Key": "states-lost-1"}
    lost = api.call("POST", "/v1/customers", {"email": "again@example.com"}, **key)
    assert lost.status == 500 and lost.body["error"]["type"] == "api_error"
    replayed = api.call("POST", "/v1/customers", {"email": "again@example.com"}, **key)
    assert replayed.status == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert api.get(f"/v1/customers/{replayed.body['id']}")["email"] == "again@example.com"
    assert stripe.get("/_adapter/losses")["data"] == []


def test_a_card_that_asks_for_3d_secure_is_what_the_renewal_is_billed_on(
    api: Api, stripe: EmulatorClient
):
    """The helper swaps the card on file, as the dashboard would, before the renewal."""
    subscribed = subscribe(api)
    stripe.renew_needing_authentication(subscribed.customer, subscribed.subscription["id"])
    customer = api.get(f"/v1/customers/{subscribed.customer}")
    method = customer["invoice_settings"]["default_payment_method"]
    assert api.get(f"/v1/payment_methods/{method}")["card"]["last4"] == ALWAYS_AUTHENTICATE[-4:]

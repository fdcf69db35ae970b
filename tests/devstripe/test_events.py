"""Webhook endpoints held by the adapter, and events delivered to them as Stripe does."""

from __future__ import annotations

import urllib.request

from billing.gateway import API_VERSION, StripeGateway
from devstripe.emulator import Emulator
from tests.devstripe.conftest import Api, Received, subscribe


def test_an_event_arrives_reshaped_and_signed_with_the_endpoints_secret(
    api: Api, stand_in: Emulator, endpoint: tuple[str, Received]
):
    url, received = endpoint
    stand_in.let_deliveries_pass()  # events of earlier tests go before the endpoint exists
    made = api.post("/v1/webhook_endpoints", {
        "url": url, "enabled_events": ["customer.subscription.created", "invoice.paid"],
    })  # fmt: skip
    try:
        secret = made["secret"]
        assert secret.startswith("whsec_")
        subscribed = subscribe(api)
        stand_in.let_deliveries_pass()
    finally:
        api.ok("DELETE", f"/v1/webhook_endpoints/{made['id']}")

    events = []
    for headers, payload in received.deliveries:
        # The product's own check: Stripe's signature scheme, with this endpoint's secret.
        events.append(StripeGateway.parse_event(payload, headers["Stripe-Signature"], secret))
    assert {event["type"] for event in events} == {"customer.subscription.created", "invoice.paid"}
    [created] = [e for e in events if e["data"]["object"]["id"] == subscribed.subscription["id"]]
    [paid] = [e for e in events if e["type"] == "invoice.paid" and e is not created]
    assert paid["data"]["object"]["id"] == subscribed.subscription["latest_invoice"]["id"]
    assert created["api_version"] == API_VERSION
    assert created["pending_webhooks"] == 1
    subscription = created["data"]["object"]
    assert "current_period_end" not in subscription
    item = subscription["items"]["data"][0]
    assert item["current_period_end"] > item["current_period_start"]
    assert item["price"]["id"] == subscribed.plan


def test_a_test_endpoint_named_by_the_control_gets_every_event(
    api: Api, stand_in: Emulator, endpoint: tuple[str, Received]
):
    url, received = endpoint
    stand_in.register_webhook("devstripe-tests", url, "whsec_named")
    try:
        subscribed = subscribe(api)
        stand_in.let_deliveries_pass()
    finally:
        stand_in.forget_webhook("devstripe-tests")
    events = [
        StripeGateway.parse_event(payload, headers["Stripe-Signature"], "whsec_named")
        for headers, payload in received.deliveries
    ]
    invoice_events = [
        event for event in events
        if event["data"]["object"].get("id") == subscribed.subscription["latest_invoice"]["id"]
    ]  # fmt: skip
    assert {"invoice.created", "invoice.payment_succeeded"} <= {e["type"] for e in invoice_events}
    for event in invoice_events:
        invoice = event["data"]["object"]
        assert (
            invoice["parent"]["subscription_details"]["subscription"]
            == (subscribed.subscription["id"])
        )
        assert "subscription" not in invoice and "charge" not in invoice


def test_webhook_endpoints_are_made_listed_changed_and_deleted(api: Api, stand_in: Emulator):
    made = api.post("/v1/webhook_endpoints", {
        "url": "https://news.example.com/stripe/webhook", "enabled_events": ["*"],
        "description": "the paywall", "metadata": {"site": "news"},
    })  # fmt: skip
    assert made["object"] == "webhook_endpoint" and made["id"].startswith("we_")
    assert made["status"] == "enabled" and made["enabled_events"] == ["*"]
    path = f"/v1/webhook_endpoints/{made['id']}"

    shown = api.get(path)
    assert "secret" not in shown  # shown once, at creation
    assert shown["url"] == made["url"] and shown["metadata"] == {"site": "news"}
    assert made["id"] in [e["id"] for e in api.get("/v1/webhook_endpoints")["data"]]

    changed = api.post(path, {"disabled": True, "enabled_events": ["invoice.paid"]})
    assert changed["status"] == "disabled" and changed["enabled_events"] == ["invoice.paid"]

    gone = api.ok("DELETE", path)
    assert gone == {"id": made["id"], "object": "webhook_endpoint", "deleted": True}
    missing = api.call("GET", path)
    assert missing.status == 404 and missing.body["error"]["code"] == "resource_missing"
    try:
        refused = api.call("POST", "/v1/webhook_endpoints", {"url": "https://x.example.com/"})
        assert refused.status == 400 and refused.body["error"]["param"] == "enabled_events"
    finally:
        stand_in.clear_violations()  # made on purpose: not the product's


def test_stripe_js_is_served_as_the_endive_release(stand_in: Emulator):
    assert stand_in.stripe_js_url.endswith("/endive/stripe.js")
    with urllib.request.urlopen(stand_in.stripe_js_url, timeout=5) as response:
        script = response.read().decode()
        assert response.headers["Content-Type"].startswith("application/javascript")
    assert "confirmCardSetup" in script and "confirmCardPayment" in script
    assert '"handleCardSetup"' in script  # named only to be removed (see the browser test)

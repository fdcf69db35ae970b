"""``POST /stripe/webhook``: signatures, stored once, applied from Stripe's current objects
(so arrival order and the event's own copy never decide), failures kept for a replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import func, select

from billing import webhooks
from billing.models import Subscription, WebhookEvent
from tests.billing.conftest import NOWHERE, WEBHOOK_NAME
from tests.billing.emulated import let_stripe_catch_up, wait_for
from tests.billing.test_renewal_and_card import status_of, stripe_ids
from tests.billing.test_subscribe import snapshot_of


def sign(payload: bytes, secret: str, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header, computed the way Stripe computes it."""
    stamp = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def deliver(live, event: dict, *, signature: str | None = None, raw: bytes | None = None):
    """POST an event like Stripe does; returns (status, body)."""
    payload = raw if raw is not None else json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    header = signature if signature is not None else sign(payload, live.webhook_secret)
    if header:
        headers["Stripe-Signature"] = header
    request = Request(f"{live.url}/stripe/webhook", data=payload, headers=headers, method="POST")
    try:
        with urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def applied(live, event_id: str) -> WebhookEvent | None:
    """The stored event once it has been applied (that happens after the response)."""
    return wait_for(lambda: (row := stored_event(live, event_id)) and row.applied_at and row)


def stored_event(live, event_id: str) -> WebhookEvent | None:
    """The stored event (other tests' late emulator events may arrive too, so count none)."""
    return live.query(
        lambda s: s.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event_id))
    )


def subscription_event(subscription_id, customer_id, status, created, event_id, **extra):
    item = {
        "id": "si_test",
        "object": "subscription_item",
        "current_period_start": created,
        "current_period_end": created + 30 * 86400,
        "price": {"id": "paywall_monthly_900usd_month", "metadata": {"paywall_plan": "monthly"}},
    }
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created,
        "type": "customer.subscription.updated",
        "data": {
            "object": {
                "id": subscription_id,
                "object": "subscription",
                "customer": customer_id,
                "status": status,
                "cancel_at_period_end": False,
                "items": {"object": "list", "data": [item]},
                **extra,
            }
        },
    }


@pytest.fixture
def subscribed(billing_app):
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    let_stripe_catch_up()
    customer_id, subscription_id = stripe_ids(billing_app, reader.email)
    return reader, customer_id, subscription_id


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "v1=abc", "garbage"],
    ids=["missing", "wrong", "no-timestamp", "garbage"],
)
def test_bad_or_missing_signature_is_refused_and_nothing_is_stored(billing_app, signature):
    event = subscription_event("sub_x", "cus_x", "canceled", int(time.time()), "evt_forged")
    status, body = deliver(billing_app, event, signature=signature)
    assert status == 400
    assert body["error"]["code"] == "invalid_signature"
    assert stored_event(billing_app, "evt_forged") is None


def test_a_payload_changed_after_signing_is_refused(billing_app):
    event = subscription_event("sub_x", "cus_x", "active", int(time.time()), "evt_tampered")
    payload = json.dumps(event).encode()
    header = sign(payload, billing_app.webhook_secret)
    tampered = payload.replace(b'"active"', b'"canceled"')
    status, _ = deliver(billing_app, event, signature=header, raw=tampered)
    assert status == 400
    assert (
        billing_app.query(
            lambda s: s.scalar(
                select(WebhookEvent).where(WebhookEvent.stripe_event_id == "evt_tampered")
            )
        )
        is None
    )


def test_an_old_signature_is_refused(billing_app):
    event = subscription_event("sub_x", "cus_x", "active", int(time.time()), "evt_replayed")
    payload = json.dumps(event).encode()
    stale = sign(payload, billing_app.webhook_secret, at=int(time.time()) - 3600)
    assert deliver(billing_app, event, signature=stale, raw=payload)[0] == 400


def test_a_duplicate_delivery_is_acknowledged_and_applied_once(billing_app, subscribed):
    reader, customer_id, subscription_id = subscribed
    created = int(time.time())
    event = subscription_event(subscription_id, customer_id, "active", created, "evt_dup_1")
    assert deliver(billing_app, event) == (200, {"received": True, "status": "stored"})
    assert deliver(billing_app, event) == (200, {"received": True, "status": "duplicate"})
    row = applied(billing_app, "evt_dup_1")
    assert row.attempts == 1
    assert status_of(billing_app, reader.email) == "active"


def test_an_event_is_applied_as_stripe_has_the_object_now_not_as_the_event_says(
    billing_app, subscribed
):
    """Arrival order is not Stripe's order: a late ``past_due`` copy of a subscription
    that Stripe has active again must not gate the reader (it did, until the next event)."""
    reader, customer_id, subscription_id = subscribed
    now = int(time.time())
    stale = subscription_event(subscription_id, customer_id, "past_due", now, "evt_late_copy")
    assert deliver(billing_app, stale)[0] == 200
    applied(billing_app, "evt_late_copy")
    assert status_of(billing_app, reader.email) == "active"


def test_the_events_of_a_failed_renewal_in_any_order_end_in_stripes_state(
    billing_app, subscribed, stripe_side
):
    """The renewal's events, delivered again in every order (and all in one second), leave
    the subscription as Stripe has it: past due, the failed invoice open."""
    reader, customer_id, subscription_id = subscribed
    invoice = stripe_side.fail_renewal(customer_id, subscription_id)
    wait_for(lambda: status_of(billing_app, reader.email) == "past_due")
    now = int(time.time())
    events = [
        subscription_event(subscription_id, customer_id, "active", now, "evt_order_sub"),
        {
            "id": "evt_order_inv",
            "object": "event",
            "created": now,
            "type": "invoice.payment_failed",
            "data": {"object": {**invoice, "status": "paid"}},  # a wrong copy, on purpose
        },
    ]
    for first, second in ((0, 1), (1, 0)):
        for index in (first, second):
            event = {**events[index], "id": f"{events[index]['id']}_{first}{second}"}
            assert deliver(billing_app, event)[0] == 200
            applied(billing_app, event["id"])
        assert status_of(billing_app, reader.email) == "past_due"
    stored = billing_app.query(
        lambda s: s.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.stripe_event_id.like("evt_order_%"))
        )
    )
    assert stored == 4


def test_simultaneous_duplicate_deliveries_apply_once(
    billing_app, subscribed, stripe_side, mailbox
):
    """Eight copies of a failed-renewal event at once: stored once, one email."""
    reader, customer_id, subscription_id = subscribed
    invoice = stripe_side.fail_renewal(customer_id, subscription_id)
    wait_for(lambda: mailbox.to(reader.email))
    mailbox.clear()
    event = {
        "id": "evt_simultaneous",
        "object": "event",
        "created": int(time.time()),
        "type": "invoice.payment_failed",
        "data": {"object": invoice},
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: deliver(billing_app, event), range(8)))

    assert all(status == 200 for status, _ in results), results
    assert sorted(body["status"] for _, body in results) == ["duplicate"] * 7 + ["stored"]
    assert applied(billing_app, "evt_simultaneous").attempts == 1
    assert status_of(billing_app, reader.email) == "past_due"
    let_stripe_catch_up()
    assert mailbox.to(reader.email) == []  # the failed payment was emailed once already


def test_unknown_event_types_are_stored_and_acknowledged(billing_app):
    event = {
        "id": "evt_unknown",
        "object": "event",
        "created": int(time.time()),
        "type": "radar.early_fraud_warning.created",
        "data": {"object": {"id": "issfr_1"}},
    }
    assert deliver(billing_app, event) == (200, {"received": True, "status": "stored"})
    row = applied(billing_app, "evt_unknown")
    assert row.type == "radar.early_fraud_warning.created" and row.payload == event


def test_a_failure_while_applying_keeps_the_event_for_a_replay(
    billing_app, subscribed, stripe_side, monkeypatch
):
    reader, customer_id, subscription_id = subscribed
    # The emulator's own event for this change must not reach the app and apply it.
    billing_app.emulator.register_webhook(WEBHOOK_NAME, NOWHERE, billing_app.webhook_secret)
    stripe_side.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": True})
    event = subscription_event(
        subscription_id, customer_id, "active", int(time.time()), "evt_fails"
    )

    def database_went_away(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setitem(webhooks.HANDLERS, "customer.subscription.*", database_went_away)
    assert deliver(billing_app, event) == (200, {"received": True, "status": "stored"})
    row = wait_for(
        lambda: (found := stored_event(billing_app, "evt_fails")) and found.last_error and found
    )
    assert row.applied_at is None and "database went away" in row.last_error
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False

    monkeypatch.undo()
    result = billing_app.app.test_cli_runner().invoke(args=["replay-events"])
    assert result.exit_code == 0, result.output
    assert "evt_fails: applied" in result.output
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is True
    # Stripe's own retry now finds it stored.
    assert deliver(billing_app, event) == (200, {"received": True, "status": "duplicate"})


def test_events_for_customers_we_do_not_know_change_nothing(billing_app):
    event = subscription_event(
        "sub_stranger", "cus_stranger", "active", int(time.time()), "evt_stranger"
    )
    assert deliver(billing_app, event)[0] == 200
    applied(billing_app, "evt_stranger")
    assert (
        billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Subscription))) == 0
    )

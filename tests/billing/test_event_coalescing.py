"""Stored events about one object that wait together are applied from one re-read of
Stripe, each marked applied once; appliers running at once never apply one twice.

The events are stored as the endpoint stores them and applied as the job applies them,
against the Stripe emulator, with its own deliveries turned away so only ours arrive.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from billing import apply_event, store_event
from billing.models import WebhookEvent
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.conftest import NOWHERE, WEBHOOK_NAME
from tests.billing.emulated import let_stripe_catch_up
from tests.billing.test_renewal_and_card import stripe_ids
from tests.billing.test_subscribe import snapshot_of
from tests.billing.test_webhooks import subscription_event
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def subscribed(billing_app):
    """A reader subscribed through the checkout; (reader, customer, subscription)."""
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    let_stripe_catch_up()
    return reader, *stripe_ids(billing_app, reader.email)


def store_events_about(billing_app, subscription_id: str, customer_id: str, count: int, run: str):
    """``count`` stored, unapplied events about the subscription, each with an old copy
    (active, renewing); returns their ids."""
    now = int(time.time())
    events = [
        subscription_event(subscription_id, customer_id, "active", now - n, f"evt_{run}_{n}")
        for n in range(count)
    ]
    for event in events:
        assert billing_app.query(store_event, event)
    return [event["id"] for event in events]


def rows(billing_app, event_ids):
    return billing_app.query(
        lambda s: {
            row.stripe_event_id: (row.applied_at is not None, row.attempts, row.last_error)
            for row in s.scalars(
                select(WebhookEvent).where(WebhookEvent.stripe_event_id.in_(event_ids))
            )
        }
    )


def test_events_waiting_together_are_applied_once_from_one_re_read(
    billing_app, subscribed, stripe_side
):
    reader, customer_id, subscription_id = subscribed
    billing_app.emulator.register_webhook(WEBHOOK_NAME, NOWHERE, billing_app.webhook_secret)
    stripe_side.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": True})
    event_ids = store_events_about(billing_app, subscription_id, customer_id, 3, "together")

    with billing_app.twin.app_context():
        stripe = gateway()
        reads_before = stripe.calls
        outcome = apply_event(db.session, stripe, event_ids[1])
        reads = stripe.calls - reads_before
        later = [apply_event(db.session, stripe, event_id).status for event_id in event_ids]

    assert outcome.status == "applied"
    assert reads == 1  # one re-read of the subscription for the three events
    assert rows(billing_app, event_ids) == {event_id: (True, 1, None) for event_id in event_ids}
    assert later == ["duplicate"] * 3  # each event's own job finds it applied
    # The newest state, re-read from Stripe, not any event's copy (all say renewing).
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is True


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL")
def test_appliers_running_at_once_apply_each_event_once(billing_app, subscribed, stripe_side):
    reader, customer_id, subscription_id = subscribed
    billing_app.emulator.register_webhook(WEBHOOK_NAME, NOWHERE, billing_app.webhook_secret)
    stripe_side.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": True})
    event_ids = store_events_about(billing_app, subscription_id, customer_id, 24, "racing")

    def applier(seed: int) -> list[str]:
        order = random.Random(seed).sample(event_ids, len(event_ids))
        with billing_app.twin.app_context():
            statuses = [apply_event(db.session, gateway(), event_id).status for event_id in order]
            db.session.remove()
        return statuses

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [status for found in pool.map(applier, range(6)) for status in found]

    assert rows(billing_app, event_ids) == {event_id: (True, 1, None) for event_id in event_ids}
    assert statuses.count("applied") < len(event_ids)  # some re-reads covered several
    assert statuses.count("applied") + statuses.count("duplicate") == len(statuses)
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is True

"""The webhook endpoint only stores and queues: the apply runs as a job. When the queue
is down, the event is kept and Stripe is asked to deliver it again, which queues it."""

from __future__ import annotations

import json

from sqlalchemy import select

from billing.models import WebhookEvent
from paywall.extensions import db
from tests.live import served
from tests.test_malformed_webhooks import EVENT, SECRET, post, signature

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # the discard port: refused at once


def applied_at(event_id: str):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(
        select(WebhookEvent.applied_at).where(WebhookEvent.stripe_event_id == event_id)
    )


def test_an_event_stored_while_the_queue_is_down_is_queued_by_its_redelivery(make_app, app_ctx):
    body = json.dumps({**EVENT, "id": "evt_queue_down"}).encode()
    queue_down = make_app(STRIPE_WEBHOOK_SECRET=SECRET, REDIS_URL=UNREACHABLE_REDIS)
    with served(queue_down) as url:
        status, answer = post(url, body, signature(body))
    assert (status, answer["error"]["code"]) == (503, "queue_unavailable")
    assert db.session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.stripe_event_id == "evt_queue_down")
    )  # kept
    assert applied_at("evt_queue_down") is None

    queue_up = make_app(STRIPE_WEBHOOK_SECRET=SECRET)  # Stripe's next delivery
    with served(queue_up) as url:
        status, answer = post(url, body, signature(body))
    assert (status, answer["status"]) == (200, "duplicate")
    assert applied_at("evt_queue_down") is not None

    with served(queue_up) as url:  # once applied, a duplicate queues nothing
        assert post(url, body, signature(body)) == (200, {"received": True, "status": "duplicate"})

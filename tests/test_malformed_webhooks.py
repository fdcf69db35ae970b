"""A correctly signed webhook whose body is not a Stripe event answers 400 and is kept
for inspection, never applied; a bad signature still stores nothing.

Through a live server, with bodies signed the way Stripe signs them. No Stripe is
needed: nothing here gets as far as re-reading an object.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from billing.models import WebhookEvent
from billing.webhooks import MalformedWebhook
from paywall.extensions import db
from tests.live import served

SECRET = "whsec_malformed_test_secret"
EVENT = {
    "id": "evt_fine",
    "object": "event",
    "created": 1_790_000_000,
    "type": "radar.early_fraud_warning.created",
    "data": {"object": {"id": "issfr_1", "object": "radar.early_fraud_warning"}},
}
MALFORMED = {
    "not JSON": b"this is not json {",
    "a JSON list": b"[1, 2, 3]",
    "JSON without id or type": json.dumps({"object": "event", "data": {}}).encode(),
    "JSON without type": json.dumps({**EVENT, "id": "evt_no_type", "type": None}).encode(),
    "an id that is not text": json.dumps({**EVENT, "id": ["evt_1"]}).encode(),
    "an id too long to store": json.dumps({**EVENT, "id": "evt_" + "x" * 300}).encode(),
    "data that is not an object": json.dumps({**EVENT, "id": "evt_bad_data", "data": "x"}).encode(),
    "a created time that is not one": json.dumps({**EVENT, "created": "yesterday"}).encode(),
    "a created time out of range": json.dumps({**EVENT, "created": 10**20}).encode(),
    "nesting deeper than a parser goes": b"[" * 100_000 + b"]" * 100_000,
    "a NUL in the id": json.dumps({**EVENT, "id": "evt_nul\x00"}).encode(),
}


def signature(body: bytes, secret: str = SECRET) -> str:
    """A ``Stripe-Signature`` header, computed the way Stripe computes it."""
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def post(base: str, body: bytes, header: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/stripe/webhook",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def live(make_app, mailbox):  # type: ignore[no-untyped-def]
    app = make_app(STRIPE_WEBHOOK_SECRET=SECRET)
    with served(app) as base, app.app_context():
        yield base
        db.session.remove()


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_malformed_body_answers_400_and_is_kept_unapplied(live, body):
    status, answer = post(live, body, signature(body))

    assert status == 400, answer
    assert answer["error"]["code"] == "malformed_event"
    kept = db.session.scalars(select(MalformedWebhook)).all()
    assert len(kept) == 1
    assert kept[0].body == body and kept[0].reason and kept[0].received_at
    assert count(WebhookEvent) == 0  # not an event: nothing to apply or replay


@pytest.mark.parametrize("body", list(MALFORMED.values())[:3], ids=list(MALFORMED)[:3])
def test_a_malformed_body_with_a_bad_signature_stores_nothing(live, body):
    status, answer = post(live, body, signature(body, "whsec_someone_else"))
    assert status == 400 and answer["error"]["code"] == "invalid_signature"
    assert count(MalformedWebhook) == count(WebhookEvent) == 0


def test_a_redelivered_malformed_body_is_kept_once(live):
    body = MALFORMED["JSON without type"]
    for _ in range(3):
        assert post(live, body, signature(body))[0] == 400
    assert count(MalformedWebhook) == 1


def test_a_well_formed_event_is_still_stored_and_acknowledged(live):
    body = json.dumps(EVENT).encode()
    assert post(live, body, signature(body)) == (200, {"received": True, "status": "stored"})
    assert count(WebhookEvent) == 1 and count(MalformedWebhook) == 0

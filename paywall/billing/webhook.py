"""``POST /stripe/webhook``: verify, store once, apply, acknowledge.

Answers 400 to a bad or missing signature (nothing stored), 200 to a duplicate, and 500
when applying fails so Stripe retries; the event stays stored for ``replay-events``.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request

from billing.errors import InvalidSignature
from billing.gateway import StripeGateway
from billing.webhooks import EventNotApplied, ingest
from paywall.billing import bp
from paywall.billing.notices import send_failed_payment_notices
from paywall.extensions import csrf, db

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 512 * 1024


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> tuple[Response, int]:
    """Receive one Stripe event."""
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return _error(413, "payload_too_large", "Event too large.")
    payload = request.get_data(cache=False)
    try:
        event = StripeGateway.parse_event(
            payload,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except InvalidSignature as error:
        log.warning("refused a webhook with a bad signature: %s", error.message)
        return _error(400, error.code, "Signature verification failed.")
    try:
        outcome = ingest(db.session, event)
    except EventNotApplied:
        log.exception("webhook event %s stored but not applied", event["id"])
        return _error(500, "event_not_applied", "Stored; applying failed. Stripe will retry.")
    send_failed_payment_notices(outcome.dunning_invoice_ids)
    return jsonify(received=True, status=outcome.status), 200

"""``POST /stripe/webhook``: verify, store once, queue its application, answer.

Answers 400 to a bad or missing signature (nothing stored), 400 to a correctly signed
body that is not a Stripe event (kept for inspection, never applied) and 200 once the
event is stored and queued (a duplicate: 200, stored once; queued again while it is not
applied). When the queue cannot take it (Redis down) the event is stored and the answer
is 503, so Stripe delivers it again later and that delivery queues it. A worker then
applies it by re-reading Stripe (the ``apply_event`` job, retried while Stripe cannot be
read), so Stripe never waits on our reads; an event that could not be applied stays
stored for ``paywall replay-events``.
"""

from __future__ import annotations

import json
import logging

from flask import Response, current_app, jsonify, request

from billing import (
    EventNotApplied,
    InvalidSignature,
    StripeGateway,
    apply_event,
    event_problem,
    is_applied,
    store_event,
    store_malformed,
)
from paywall.billing import bp
from paywall.billing.jobs import send_follow_ups_now
from paywall.billing.support import gateway
from paywall.extensions import csrf, db
from paywall.jobs import JobNotQueued, enqueue

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 512 * 1024


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


def apply_stored_event(event_id: str, *, force: bool = False) -> bool:
    """Apply one stored event in this process and send what it owes (emails) from it;
    False when it failed (``paywall replay-events``)."""
    try:
        outcome = apply_event(db.session, gateway(), event_id, force=force)
    except EventNotApplied:
        log.exception("webhook event %s stored but not applied", event_id)
        return False
    send_follow_ups_now(outcome.follow_ups)
    return True


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> tuple[Response, int]:
    """Receive one Stripe event."""
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return _error(413, "payload_too_large", "Event too large.")
    payload = request.get_data(cache=False)
    header = request.headers.get("Stripe-Signature")
    try:
        event = StripeGateway.parse_event(
            payload, header, current_app.config["STRIPE_WEBHOOK_SECRET"]
        )
    except InvalidSignature as error:
        if not _signed_but_not_an_event(header, error):
            log.warning("refused a webhook with a bad signature: %s", error.message)
            return _error(400, error.code, "Signature verification failed.")
        return _malformed(payload, f"not a Stripe event: {error.message}")
    except RecursionError:  # JSON nested deeper than the parser goes (signature verified)
        return _malformed(payload, "not a Stripe event: JSON nested too deeply")
    problem = event_problem(event)
    if problem:
        return _malformed(payload, problem)
    stored = store_event(db.session, event)
    if stored or not is_applied(db.session, event["id"]):
        try:
            enqueue("apply_event", event["id"])
        except JobNotQueued:
            # Stored, but Stripe is asked to deliver it again; that delivery queues it.
            log.exception("webhook event %s stored but not queued", event["id"])
            return _error(503, "queue_unavailable", "Stored; deliver it again later.")
    return jsonify(received=True, status="stored" if stored else "duplicate"), 200


def _signed_but_not_an_event(header: str | None, error: InvalidSignature) -> bool:
    """Whether the gateway refused the body after its signature verified.

    ``parse_event`` checks the signature first, then parses, and raises InvalidSignature
    for both: a body that is not JSON (chained from the JSON error) or not an event
    (nothing chained) got past the signature check.
    """
    cause = error.__cause__
    return bool(header) and (cause is None or isinstance(cause, json.JSONDecodeError))


def _malformed(payload: bytes, reason: str) -> tuple[Response, int]:
    """Keep a correctly signed body that is not an event, and say so (400)."""
    row_id = store_malformed(db.session, payload, reason)
    log.error("kept a signed webhook that is not a Stripe event (row %s): %s", row_id, reason)
    return _error(400, "malformed_event", "Signed, but not a Stripe event; kept for inspection.")

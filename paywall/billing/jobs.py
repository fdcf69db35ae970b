"""Billing's jobs on the queue (``paywall.jobs``): apply a webhook event, send the emails
it owes, and the daily card reminders and reconciliation. Each is safe to run twice."""

from __future__ import annotations

import logging

from billing import (
    BillingError,
    Email,
    FollowUp,
    change_customer_email,
    customers_to_reconcile,
    refresh_customer,
    utcnow,
)
from billing import apply_event as apply_stored
from paywall.accounts.models import Reader
from paywall.billing import emails
from paywall.billing.support import gateway
from paywall.extensions import db
from paywall.gifts.emails import send_gift_emails
from paywall.jobs import enqueue

log = logging.getLogger(__name__)

SENDERS = {
    Email.PAYMENT_FAILED: emails.send_failed_payment_notice,
    Email.TRIAL_ENDING: emails.send_trial_ending_notice,
    Email.DISPUTE: emails.send_dispute_notice,
    Email.GIFT_PAID: send_gift_emails,
}


def apply_event(event_id: str) -> None:
    """Apply a stored webhook event by re-reading Stripe, then queue the emails it owes.

    Raises ``EventNotApplied`` (the queue retries; the event stays stored for
    ``paywall replay-events`` too) when Stripe could not be read.
    """
    outcome = apply_stored(db.session, gateway(), event_id)
    for follow_up in outcome.follow_ups:
        enqueue("send_billing_email", follow_up.email.value, follow_up.row_id)


def sync_customer_email(reader_id: int) -> None:
    """Give the reader's Stripe customer their current email, after they changed it
    (raises, to be retried, while Stripe cannot be reached)."""
    reader = db.session.get(Reader, reader_id)
    if reader is not None and reader.deleted_at is None:
        change_customer_email(db.session, gateway(), reader.id, reader.email)


def send_billing_email(email: str, row_id: int) -> None:
    """Send one email an applied event owes (raises, to be retried, when it did not go)."""
    SENDERS[Email(email)](row_id)


def send_follow_ups_now(follow_ups: tuple[FollowUp, ...]) -> None:
    """Send what an event owes in this process (``replay-events``); a failure is logged
    (a failed-payment notice then stays owed until the next event about its invoice)."""
    for follow_up in follow_ups:
        try:
            SENDERS[follow_up.email](follow_up.row_id)
        except Exception:
            log.exception("could not send the %s email (row %s)", follow_up.email, follow_up.row_id)


def send_card_reminders() -> None:
    """The daily card reminders (each card once a month)."""
    sent, failed = emails.send_card_reminders(utcnow())
    log.info("card reminders: %s sent, %s failed", sent, failed)


def reconcile_all() -> None:
    """The nightly re-read of every customer from Stripe; what changed is logged."""
    customers = customers_to_reconcile(db.session, None)
    changed = failed = 0
    for customer in customers:
        try:
            result = refresh_customer(db.session, gateway(), customer)
        except BillingError:
            db.session.rollback()
            log.exception("reconcile: %s could not be re-read", customer.email)
            failed += 1
            continue
        changed += bool(result.changes)
        for line in result.changes:
            log.info("reconcile: %s: %s", customer.email, line)
        for line in result.problems:
            log.warning("reconcile: %s: CHECK %s", customer.email, line)
    log.info("reconciled %s customers: %s changed, %s failed", len(customers), changed, failed)

"""Billing emails: a failed renewal or one waiting for 3-D Secure (once per invoice), a
trial about to end, a dispute (to staff), and a card expiring before renewal.

These run on the job queue (``paywall.billing.jobs``). The failed-payment notice and the
card reminder are claimed in the database, sent, and the claim committed only once the
mail server took the message: a mail outage or a worker killed mid-send rolls the claim
back, so the job's retry sends it, once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from billing import (
    cards_expiring_before_renewal,
    claim_card_reminder,
    claim_failed_payment_notice,
    dispute_notice,
    failed_payment_notice,
    trial_ending_notice,
)
from paywall.accounts.models import Reader, Role
from paywall.extensions import db
from paywall.mailer import absolute_url, send_email, send_email_now

log = logging.getLogger(__name__)


def send_failed_payment_notice(invoice_id: int) -> bool:
    """Email the reader whose renewal failed, once per invoice; True when this call sent
    it. Raises (the claim rolled back, the notice still owed) when the mail server
    did not take it."""
    if not claim_failed_payment_notice(db.session, invoice_id):
        db.session.rollback()
        return False
    notice = failed_payment_notice(db.session, invoice_id)
    reader = db.session.get(Reader, notice.reader_id) if notice else None
    if notice is None or reader is None:
        db.session.rollback()  # paid since, or not ours: nothing owed
        return False
    subject = (
        "Please confirm your subscription payment"
        if notice.needs_confirmation
        else "Your payment didn't go through"
    )
    try:
        send_email_now(
            reader.email,
            subject,
            "payment_failed",
            reader=reader,
            notice=notice,
            update_url=absolute_url("billing.update_card"),
            confirm_url=absolute_url("billing.confirm_payment"),
        )
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return True


def send_trial_ending_notice(subscription_id: int) -> bool:
    """Remind the reader that their trial ends, with the date and the amount to come."""
    notice = trial_ending_notice(db.session, subscription_id)
    reader = db.session.get(Reader, notice.reader_id) if notice else None
    if notice is None or reader is None:
        return False
    send_email(
        reader.email,
        "Your free trial ends soon",
        "trial_ending",
        reader=reader,
        notice=notice,
        account_url=absolute_url("billing.account"),
    )
    return True


def send_dispute_notice(subscription_id: int) -> bool:
    """Tell every editor and admin that a reader disputed a payment (a job per email)."""
    notice = dispute_notice(db.session, subscription_id)
    if notice is None:
        return False
    staff = db.session.scalars(select(Reader).where(Reader.role.in_((Role.EDITOR, Role.ADMIN))))
    for member in staff:
        send_email(
            member.email,
            f"A payment was disputed by {notice.email}",
            "dispute_staff",
            notice=notice,
            subscribers_url=absolute_url("billing.subscribers"),
        )
    return True


def send_card_reminders(now: datetime) -> tuple[int, int]:
    """Email subscribers whose card expires before their next renewal, once per card per
    month; (sent, failed). A failed one stays owed for the next run."""
    sent = failed = 0
    for reminder in cards_expiring_before_renewal(db.session, now):
        reader = db.session.get(Reader, reminder.reader_id)
        if reader is None or not claim_card_reminder(db.session, reminder.payment_method_id, now):
            db.session.rollback()
            continue
        try:
            send_email_now(
                reader.email,
                f"Your card ending {reminder.card.last4} expires soon",
                "card_expiring",
                reader=reader,
                reminder=reminder,
                update_url=absolute_url("billing.update_card"),
            )
        except Exception:
            db.session.rollback()
            log.exception("could not email the card reminder to reader %s", reader.id)
            failed += 1
            continue
        db.session.commit()
        sent += 1
    return sent, failed

"""Billing emails: a failed renewal or one waiting for 3-D Secure (once per invoice), a
trial about to end, a dispute (to staff), and a card expiring before renewal."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from billing import dunning
from billing.webhooks import Email, FollowUp
from paywall.accounts.models import Reader, Role
from paywall.extensions import db
from paywall.mailer import absolute_url, send_email

log = logging.getLogger(__name__)


def send_failed_payment_notice(invoice_id: int) -> bool:
    """Email the reader whose renewal failed (the applied event claimed it: once per
    invoice); True when sent. A mail outage leaves it owed again."""
    notice = dunning.failed_payment_notice(db.session, invoice_id)
    reader = db.session.get(Reader, notice.reader_id) if notice else None
    if notice is None or reader is None:
        return False
    subject = (
        "Please confirm your subscription payment"
        if notice.needs_confirmation
        else "Your payment didn't go through"
    )
    try:
        send_email(
            reader.email,
            subject,
            "payment_failed",
            reader=reader,
            notice=notice,
            update_url=absolute_url("billing.update_card"),
            confirm_url=absolute_url("billing.confirm_payment"),
        )
    except Exception:
        dunning.release_failed_payment_notice(db.session, invoice_id)
        raise
    return True


def send_trial_ending_notice(subscription_id: int) -> bool:
    """Remind the reader that their trial ends, with the date and the amount to come."""
    notice = dunning.trial_ending_notice(db.session, subscription_id)
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
    """Tell every editor and admin that a reader disputed a payment."""
    notice = dunning.dispute_notice(db.session, subscription_id)
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


SENDERS = {
    Email.PAYMENT_FAILED: send_failed_payment_notice,
    Email.TRIAL_ENDING: send_trial_ending_notice,
    Email.DISPUTE: send_dispute_notice,
}


def send_follow_ups(follow_ups: tuple[FollowUp, ...]) -> None:
    """Best effort after an event is applied: a mail outage is logged (a failed-payment
    notice then stays owed until the next event about its invoice)."""
    for follow_up in follow_ups:
        try:
            SENDERS[follow_up.email](follow_up.row_id)
        except Exception:
            log.exception("could not send the %s email (row %s)", follow_up.email, follow_up.row_id)


def send_card_reminders(now: datetime) -> tuple[int, int]:
    """Email subscribers whose card expires before their next renewal; (sent, failed)."""
    sent = failed = 0
    for reminder in dunning.cards_expiring_before_renewal(db.session, now):
        reader = db.session.get(Reader, reminder.reader_id)
        if reader is None:
            continue
        try:
            send_email(
                reader.email,
                f"Your card ending {reminder.card.last4} expires soon",
                "card_expiring",
                reader=reader,
                reminder=reminder,
                update_url=absolute_url("billing.update_card"),
            )
        except Exception:
            log.exception("could not email the card reminder to reader %s", reader.id)
            failed += 1
            continue
        dunning.mark_card_reminded(db.session, reminder.payment_method_id, now)
        sent += 1
    return sent, failed

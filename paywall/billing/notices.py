"""Billing emails: a failed renewal (once per invoice) and a card expiring before renewal."""

from __future__ import annotations

import logging
from datetime import datetime

from billing import dunning
from paywall.accounts.models import Reader
from paywall.extensions import db
from paywall.mailer import absolute_url, send_email

log = logging.getLogger(__name__)


def send_failed_payment_notice(invoice_id: int) -> bool:
    """Email the reader whose renewal failed, unless already done; True when sent."""
    notice = dunning.failed_payment_notice(db.session, invoice_id)
    reader = db.session.get(Reader, notice.reader_id) if notice else None
    if notice is None or reader is None:
        return False
    send_email(
        reader.email,
        "Your payment didn't go through",
        "payment_failed",
        reader=reader,
        notice=notice,
        update_url=absolute_url("billing.update_card"),
    )
    dunning.mark_failed_payment_notified(db.session, invoice_id)
    return True


def send_failed_payment_notices(invoice_ids: tuple[int, ...]) -> None:
    """Best effort after a webhook: a mail outage is logged and the notice stays owed."""
    for invoice_id in invoice_ids:
        try:
            send_failed_payment_notice(invoice_id)
        except Exception:
            log.exception("could not email the failed-payment notice for invoice %s", invoice_id)


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

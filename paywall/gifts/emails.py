"""A paid gift's emails: the redeem link to the recipient, then a receipt to the buyer.

Run by the ``send_billing_email`` job, queued by whichever of the buyer's page and the
``payment_intent.succeeded`` webhook saw the payment first (or both): the recipient's
email is claimed in the database, sent, and the claim committed only once the mail
server took it, so it goes once, and a failed send stays owed for the job's retry.
"""

from __future__ import annotations

import logging

from billing import Gift, format_money, issue_gift_link
from paywall.extensions import db
from paywall.mailer import MailNotSent, absolute_url, send_email, send_email_now

log = logging.getLogger(__name__)


def _months(gift: Gift) -> str:
    return f"{gift.months} month{'s' if gift.months > 1 else ''}"


def send_gift_link(gift: Gift, token: str) -> None:
    """Email the recipient the gift's link now (raises when the mail server refuses it)."""
    send_email_now(
        gift.recipient_email,
        f"A gift for you: {_months(gift)} of {gift.plan_name}",
        "gift_received",
        gift=gift,
        months=_months(gift),
        redeem_url=absolute_url("gifts.redeem", token=token),
    )


def send_gift_emails(gift_id: int) -> bool:
    """Email the recipient their link and the buyer a receipt; True when this call sent
    them (False: sent before, or not paid)."""
    issued = issue_gift_link(db.session, gift_id)
    if issued is None:
        db.session.rollback()
        return False
    gift, token = issued
    try:
        send_gift_link(gift, token)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    if not gift.buyer_email:  # the buyer deleted their account meanwhile
        return True
    try:
        send_email(
            gift.buyer_email,
            "Your gift receipt",
            "gift_receipt",
            gift=gift,
            months=_months(gift),
            amount=format_money(gift.amount, gift.currency),
        )
    except MailNotSent:
        log.exception("could not queue the receipt of gift %s", gift.id)
    return True

"""Who is owed a billing email: failed renewals (once per invoice) and expiring cards.

Billing decides who and what; the web layer writes and sends the email, then marks it
sent here, so a mail outage leaves the notice owed rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Customer, Invoice, PaymentMethod, Subscription
from billing.orm import utcnow
from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from billing.state import format_money

REMINDED_STATUSES = ("active", "trialing")


@dataclass(frozen=True, slots=True)
class FailedPaymentNotice:
    """A renewal that could not be collected."""

    invoice_id: int
    reader_id: int
    amount: str
    reason: str


@dataclass(frozen=True, slots=True)
class CardReminder:
    """A card that stops working before the subscription's next renewal."""

    payment_method_id: int
    reader_id: int
    card: CardSnapshot
    renews_at: datetime


def failed_payment_notice(session: Session, invoice_id: int) -> FailedPaymentNotice | None:
    """The notice owed for ``invoice_id``, or None when it was sent or the invoice is paid."""
    row = session.execute(
        select(Invoice, Customer.reader_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.id == invoice_id)
    ).first()
    if row is None:
        return None
    invoice, reader_id = row
    if invoice.dunning_email_sent_at is not None or invoice.status == "paid":
        return None
    return FailedPaymentNotice(
        invoice_id=invoice.id,
        reader_id=reader_id,
        amount=format_money(invoice.amount_due, invoice.currency),
        reason=invoice.failure_message or "Your bank declined the payment.",
    )


def mark_failed_payment_notified(session: Session, invoice_id: int) -> None:
    invoice = session.get(Invoice, invoice_id)
    if invoice is not None:
        invoice.dunning_email_sent_at = utcnow()
        session.commit()


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def cards_expiring_before_renewal(session: Session, now: datetime) -> list[CardReminder]:
    """Default cards that expire before their renewing subscription's next charge,
    not yet reminded this month."""
    rows = session.execute(
        select(PaymentMethod, Subscription, Customer.reader_id)
        .join(Customer, Customer.id == PaymentMethod.customer_id)
        .join(Subscription, Subscription.customer_id == Customer.id)
        .where(
            PaymentMethod.stripe_payment_method_id == Customer.default_payment_method_id,
            Subscription.status.in_(REMINDED_STATUSES),
            Subscription.cancel_at_period_end.is_(False),
        )
        .order_by(PaymentMethod.id)
    )
    reminders = []
    for method, subscription, reader_id in rows:
        if method.expiry_reminder_sent_for == month_of(now):
            continue
        card = CardSnapshot(method.brand, method.last4, method.exp_month, method.exp_year)
        renews = SubscriptionSnapshot(
            status=subscription.status,
            tier="",
            current_period_end=subscription.current_period_end,
            trial_end=subscription.trial_end,
        ).renews_at()
        if renews is not None and card.expires_before(renews):
            reminders.append(CardReminder(method.id, reader_id, card, renews))
    return reminders


def mark_card_reminded(session: Session, payment_method_id: int, now: datetime) -> None:
    method = session.get(PaymentMethod, payment_method_id)
    if method is not None:
        method.expiry_reminder_sent_for = month_of(now)
        session.commit()

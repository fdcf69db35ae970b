"""Who is owed a billing email: failed renewals (once per invoice), trials about to end,
disputes (to staff) and expiring cards.

Billing decides who and what; the web layer's jobs claim a notice here, send the email
and commit the claim only once it went, so a mail outage or a crashed worker leaves the
notice owed rather than lost, and concurrent jobs send it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription
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
    # The bank wants the reader to authenticate the payment (3-D Secure), not a new card.
    needs_confirmation: bool = False


@dataclass(frozen=True, slots=True)
class TrialEndingNotice:
    """A trial whose first charge is coming."""

    reader_id: int
    plan_name: str
    amount: str
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class DisputeNotice:
    """A payment the reader disputed with their bank; their subscription was canceled."""

    reader_id: int
    email: str
    subscription_id: str
    disputed_at: datetime | None


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
    if invoice.status == "paid":
        return None
    return FailedPaymentNotice(
        invoice_id=invoice.id,
        reader_id=reader_id,
        amount=format_money(invoice.amount_due, invoice.currency),
        reason=invoice.failure_message or "Your bank declined the payment.",
        needs_confirmation=invoice.payment_intent_status == "requires_action",
    )


def trial_ending_notice(session: Session, subscription_id: int) -> TrialEndingNotice | None:
    """The reminder owed before a trial's first charge (None once it is not trialing)."""
    row = session.execute(
        select(Subscription, Customer.reader_id, Plan)
        .join(Customer, Customer.id == Subscription.customer_id)
        .outerjoin(Plan, Plan.code == Subscription.plan_code)
        .where(Subscription.id == subscription_id)
    ).first()
    if row is None or row[0].status != "trialing":
        return None
    subscription, reader_id, plan = row
    return TrialEndingNotice(
        reader_id=reader_id,
        plan_name=plan.name if plan else "your plan",
        amount=format_money(plan.amount, plan.currency) if plan else "",
        ends_at=subscription.trial_end,
    )


def dispute_notice(session: Session, subscription_id: int) -> DisputeNotice | None:
    """What staff are told about a dispute on a customer's payment."""
    row = session.execute(
        select(Subscription, Customer)
        .join(Customer, Customer.id == Subscription.customer_id)
        .where(Subscription.id == subscription_id)
    ).first()
    if row is None:
        return None
    subscription, customer = row
    return DisputeNotice(
        reader_id=customer.reader_id,
        email=customer.email,
        subscription_id=subscription.stripe_subscription_id,
        disputed_at=subscription.disputed_at,
    )


def failed_payment_notice_owed(invoice: Invoice) -> bool:
    """Whether the failed-payment email of ``invoice`` has not gone out yet."""
    return invoice.dunning_email_sent_at is None


def claim_failed_payment_notice(session: Session, invoice_id: int) -> bool:
    """Mark the failed-payment email of ``invoice_id`` as sent, in the caller's
    transaction, which commits once the email went (and rolls back if it did not);
    False when it was sent already. Concurrent claims wait on the row: once per invoice,
    however many jobs about it run at once."""
    claimed = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.dunning_email_sent_at.is_(None))
        .values(dunning_email_sent_at=utcnow())
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


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


def claim_card_reminder(session: Session, payment_method_id: int, now: datetime) -> bool:
    """Mark the card's reminder for this month as sent, in the caller's transaction
    (committed once the email went); False when it was already sent this month."""
    month = month_of(now)
    claimed = session.execute(
        update(PaymentMethod)
        .where(
            PaymentMethod.id == payment_method_id,
            or_(
                PaymentMethod.expiry_reminder_sent_for.is_(None),
                PaymentMethod.expiry_reminder_sent_for != month,
            ),
        )
        .values(expiry_reminder_sent_for=month)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]

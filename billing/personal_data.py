"""What billing holds about a reader, for the reader's data rights: a copy of it, their
new email at Stripe, and forgetting the person while the accounting records stay.

Invoices are kept when a reader is forgotten (amounts, dates, Stripe ids: accounting law
asks for them); cards, emails and live subscriptions go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from billing import sync
from billing.gateway import StripeGateway
from billing.models import Invoice, PaymentMethod, Subscription

# Statuses after which Stripe bills nothing more: nothing left to cancel.
ENDED_AT_STRIPE = frozenset({"canceled", "incomplete_expired"})


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _subscription_record(row: Subscription) -> dict[str, Any]:
    return {
        "stripe_subscription_id": row.stripe_subscription_id,
        "plan": row.plan_code,
        "status": row.status,
        "created_at": _when(row.created_at),
        "current_period_start": _when(row.current_period_start),
        "current_period_end": _when(row.current_period_end),
        "cancel_at_period_end": row.cancel_at_period_end,
        "canceled_at": _when(row.canceled_at),
        "ended_at": _when(row.ended_at),
        "trial_end": _when(row.trial_end),
    }


def _invoice_record(row: Invoice) -> dict[str, Any]:
    return {
        "stripe_invoice_id": row.stripe_invoice_id,
        "status": row.status,
        "amount_due": row.amount_due,
        "amount_paid": row.amount_paid,
        "currency": row.currency,
        "created": _when(row.created),
        "paid_at": _when(row.paid_at),
        "url": row.hosted_invoice_url,
    }


def _card_record(row: PaymentMethod) -> dict[str, Any]:
    return {
        "brand": row.brand,
        "last4": row.last4,
        "exp_month": row.exp_month,
        "exp_year": row.exp_year,
    }


def billing_records(session: Session, reader_id: int) -> dict[str, Any]:
    """Everything billing keeps about the reader, as plain JSON-ready values (of a card,
    only its brand, last four digits and expiry)."""
    customer = sync.customer_for_reader(session, reader_id)
    if customer is None:
        return {"customer": None, "subscriptions": [], "invoices": [], "cards": []}
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.customer_id == customer.id)
        .order_by(Subscription.created_at, Subscription.id)
    )
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.status != "draft")
        .order_by(Invoice.created, Invoice.id)
    )
    cards = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer.id)
        .order_by(PaymentMethod.id)
    )
    return {
        "customer": {
            "stripe_customer_id": customer.stripe_customer_id,
            "email": customer.email,
        },
        "subscriptions": [_subscription_record(row) for row in subscriptions],
        "invoices": [_invoice_record(row) for row in invoices],
        "cards": [_card_record(row) for row in cards],
    }


def change_customer_email(
    session: Session, gateway: StripeGateway, reader_id: int, email: str
) -> bool:
    """Give the reader's Stripe customer ``email`` (Stripe's ``Customer.modify``), here
    too; False when the reader has no customer at Stripe."""
    customer = sync.customer_for_reader(session, reader_id)
    if customer is None or customer.deleted:
        return False
    gateway.update_customer_email(customer.stripe_customer_id, email)
    customer.email = email
    session.commit()
    return True


def forget_customer(session: Session, gateway: StripeGateway, reader_id: int) -> int:
    """Cancel every subscription of the reader at Stripe now, remove their cards and
    email there and here; the invoices stay. How many subscriptions were canceled.

    Each step is kept as it is done, so a Stripe outage half-way leaves a state a
    second try finishes; the customer's row is held meanwhile.
    """
    customer = sync.customer_for_reader(session, reader_id)
    if customer is None:
        return 0
    sync.claim_customer(session, customer.stripe_customer_id)
    canceled = 0
    if not customer.deleted:
        for subscription in gateway.list_subscriptions(customer.stripe_customer_id):
            if subscription.get("status") in ENDED_AT_STRIPE:
                continue
            sync.upsert_subscription(session, gateway.cancel_subscription_now(subscription["id"]))
            session.commit()
            canceled += 1
        sync.claim_customer(session, customer.stripe_customer_id)
        for card in gateway.list_cards(customer.stripe_customer_id):
            gateway.detach_payment_method(card["id"])
        gateway.update_customer_email(customer.stripe_customer_id, "")
    session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == customer.id))
    customer.default_payment_method_id = None
    customer.email = ""
    session.commit()
    return canceled

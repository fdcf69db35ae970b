"""Reconciliation: re-read a customer's state from Stripe and fix the local copy.

Webhooks keep the copy current; this repairs what they could not (an endpoint that was
down longer than Stripe retries, a card changed in the Stripe dashboard) and reports
every change it made.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import sync
from billing.models import Customer, Invoice, PaymentMethod, Subscription


class ReconcileGateway(Protocol):
    def retrieve_customer(self, customer_id: str) -> dict: ...
    def list_cards(self, customer_id: str) -> list[dict]: ...
    def list_subscriptions(self, customer_id: str) -> list[dict]: ...
    def list_invoices(self, customer_id: str, limit: int = 12) -> list[dict]: ...


def describe(session: Session, customer: Customer) -> dict[str, str]:
    """The local state of one customer as comparable labels, e.g. ``{"sub_1": "active"}``."""
    state = {"default card": customer.default_payment_method_id or "none"}
    for row in session.scalars(select(Subscription).where(Subscription.customer_id == customer.id)):
        ending = ", cancels at period end" if row.cancel_at_period_end else ""
        state[f"subscription {row.stripe_subscription_id}"] = f"{row.status}{ending}"
    for card in session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
    ):
        state[f"card {card.stripe_payment_method_id}"] = (
            f"{card.brand} {card.last4} {card.exp_month:02d}/{card.exp_year}"
        )
    for invoice in session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)):
        state[f"invoice {invoice.stripe_invoice_id}"] = invoice.status
    return state


def changes_between(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Readable lines for what differs between two :func:`describe` results."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old != new:
            lines.append(f"{key}: {old or 'absent'} -> {new or 'removed'}")
    return lines


def refresh_customer(session: Session, gateway: ReconcileGateway, customer: Customer) -> list[str]:
    """Make the local copy of ``customer`` match Stripe; returns what changed."""
    before = describe(session, customer)
    seen_at = sync.response_time()
    remote = gateway.retrieve_customer(customer.stripe_customer_id)
    if remote.get("deleted"):
        customer.deleted = True
    else:
        sync.upsert_customer(session, remote, seen_at)
        cards = gateway.list_cards(customer.stripe_customer_id)
        kept = {card["id"] for card in cards}
        for card in cards:
            sync.upsert_card(session, card, seen_at)
        for local in session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
        ):
            if local.stripe_payment_method_id not in kept:
                session.delete(local)
        for subscription in gateway.list_subscriptions(customer.stripe_customer_id):
            sync.upsert_subscription(session, subscription, seen_at)
        for invoice in gateway.list_invoices(customer.stripe_customer_id):
            sync.upsert_invoice(session, invoice, seen_at)
    session.commit()
    return changes_between(before, describe(session, customer))


def customers_to_reconcile(session: Session, reader_id: int | None = None) -> list[Customer]:
    """One reader's customer, or every customer not deleted in Stripe."""
    query = select(Customer).where(Customer.deleted.is_(False)).order_by(Customer.id)
    if reader_id is not None:
        query = query.where(Customer.reader_id == reader_id)
    return list(session.scalars(query))

"""Reconciliation: re-read a customer's state from Stripe and fix the local copy.

Webhooks keep the copy current; this repairs what they could not (an endpoint that was
down longer than Stripe retries, a card changed in the Stripe dashboard) and reports
every change it made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import sync
from billing.errors import BillingStateError
from billing.models import Customer, Invoice, PaymentMethod, Subscription
from billing.orm import utcnow

# How long a call that may have reached Stripe can still be in flight there (the gateway's
# timeout is 20 s): after this, a re-read that finds nothing means nothing happened.
IN_FLIGHT = timedelta(seconds=30)
LIVE_AT_STRIPE = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})


class ReconcileGateway(Protocol):
    def retrieve_customer(self, customer_id: str) -> dict[str, Any]: ...
    def list_cards(self, customer_id: str) -> list[dict[str, Any]]: ...
    def list_subscriptions(self, customer_id: str, status: str = "all") -> list[dict[str, Any]]: ...
    def list_invoices(
        self, customer_id: str, limit: int = 12, status: str | None = None
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Reconciled:
    """What a re-read changed locally, and money problems it found at Stripe."""

    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def money_problems(
    subscriptions: list[dict[str, Any]], invoices: list[dict[str, Any]]
) -> list[str]:
    """Two live subscriptions for one customer, or one period of a subscription paid twice."""
    problems = []
    live = sorted(s["id"] for s in subscriptions if s.get("status") in LIVE_AT_STRIPE)
    if len(live) > 1:
        problems.append(f"{len(live)} live subscriptions: {', '.join(live)}")
    periods = Counter(
        (sync.invoice_subscription_id(i), i.get("period_start"), i.get("period_end"))
        for i in invoices
        if i.get("status") == "paid"
        and (i.get("amount_paid") or 0) > 0
        and sync.invoice_subscription_id(i)
        and i.get("billing_reason") in ("subscription_create", "subscription_cycle")
    )
    for (subscription_id, _, _), count in sorted(periods.items(), key=str):
        if count > 1:
            problems.append(f"one period of {subscription_id} paid {count} times")
    return problems


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


def refresh_customer(session: Session, gateway: ReconcileGateway, customer: Customer) -> Reconciled:
    """Make the local copy of ``customer`` match Stripe; what changed and what is wrong."""
    result = _reread(session, gateway, customer)
    session.commit()
    return result


def link_customer(
    session: Session, gateway: ReconcileGateway, reader_id: int, stripe_customer_id: str
) -> Reconciled:
    """Make ``stripe_customer_id`` the reader's Stripe customer and copy its state from
    Stripe, as :func:`refresh_customer` does; nothing is committed (the caller commits,
    or rolls back to only see what would change).

    A customer linked to another reader, a reader linked to another customer, and a
    customer deleted in Stripe are :class:`BillingStateError`; a customer Stripe does
    not know is the gateway's :class:`BillingRequestError`.
    """
    owner = sync.customer_by_stripe_id(session, stripe_customer_id)
    if owner is not None and owner.reader_id != reader_id:
        raise BillingStateError(
            f"Stripe customer {stripe_customer_id} belongs to another reader here.",
            code="customer_of_another_reader",
        )
    mine = owner or sync.customer_for_reader(session, reader_id)
    if mine is not None and mine.stripe_customer_id != stripe_customer_id:
        raise BillingStateError(
            f"This reader already has the Stripe customer {mine.stripe_customer_id}.",
            code="reader_has_another_customer",
        )
    if mine is not None:
        return _reread(session, gateway, mine)
    remote = gateway.retrieve_customer(stripe_customer_id)
    if remote.get("deleted"):
        raise BillingStateError(
            f"Stripe customer {stripe_customer_id} was deleted in Stripe.", code="customer_deleted"
        )
    customer = Customer(
        reader_id=reader_id, stripe_customer_id=stripe_customer_id, email=remote.get("email") or ""
    )
    session.add(customer)
    session.flush()
    result = _reread(session, gateway, customer)
    return Reconciled([f"linked to Stripe customer {stripe_customer_id}", *result.changes],
                      result.problems)  # fmt: skip


def _reread(session: Session, gateway: ReconcileGateway, customer: Customer) -> Reconciled:
    """Write Stripe's current state of ``customer`` to its rows, uncommitted."""
    sync.claim_customer(session, customer.stripe_customer_id)
    before = describe(session, customer)
    remote = gateway.retrieve_customer(customer.stripe_customer_id)
    problems: list[str] = []
    if remote.get("deleted"):
        customer.deleted = True
    else:
        sync.upsert_customer(session, remote)
        cards = gateway.list_cards(customer.stripe_customer_id)
        kept = {card["id"] for card in cards}
        for card in cards:
            sync.upsert_card(session, card)
        for local in session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
        ):
            if local.stripe_payment_method_id not in kept:
                session.delete(local)
        subscriptions = gateway.list_subscriptions(customer.stripe_customer_id)
        for subscription in subscriptions:
            sync.upsert_subscription(session, subscription)
        invoices = gateway.list_invoices(customer.stripe_customer_id, limit=100)
        for invoice in invoices:
            sync.upsert_invoice(session, invoice)
        problems = money_problems(subscriptions, invoices)
        _settle_unknown_state(customer, subscriptions)
    session.flush()
    return Reconciled(changes_between(before, describe(session, customer)), problems)


def _settle_unknown_state(customer: Customer, subscriptions: list[dict[str, Any]]) -> None:
    """After a successful re-read, a purchase whose outcome was unknown is settled: it
    shows as a live subscription, or enough time has passed for it to have shown."""
    since = customer.state_unknown_since
    if since is None:
        return
    live = any(s.get("status") in LIVE_AT_STRIPE | {"incomplete"} for s in subscriptions)
    if live or utcnow() - since >= IN_FLIGHT:
        customer.state_unknown_since = None


def customers_to_reconcile(session: Session, reader_id: int | None = None) -> list[Customer]:
    """One reader's customer, or every customer not deleted in Stripe."""
    query = select(Customer).where(Customer.deleted.is_(False)).order_by(Customer.id)
    if reader_id is not None:
        query = query.where(Customer.reader_id == reader_id)
    return list(session.scalars(query))

"""The publisher's view of billing: subscribers by status, recurring and collected revenue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from billing.metrics import (
    Tally,
    collected_since,
    monthly_recurring_revenue,
    subscription_tally,
)
from billing.models import Customer, PaymentMethod, Plan, Subscription
from billing.snapshots import LIVE_STATUSES


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    customer_id: int
    reader_id: int
    plan_name: str
    status: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    card: str  # "visa 4242 12/30" or ""
    disputed_at: datetime | None = None

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class RevenueSummary:
    # Per currency, in its smallest unit: amounts in two currencies are never added.
    monthly_recurring: dict[str, int]  # active (not canceling) subscriptions
    collected_last_30_days: dict[str, int]
    by_status: dict[str, int]


# How each status reads on the staff pages (the Stripe strings stay in ``billing``).
STATUS_WORDS = {
    "active": "Active",
    "trialing": "Free trial",
    "past_due": "Payment failed, retrying",
    "unpaid": "Unpaid",
    "incomplete": "Waiting for payment",
    "incomplete_expired": "Never paid",
    "paused": "Paused",
    "canceled": "Ended",
}

# The subscribers list is newest customer first, sought by customer id.
SUBSCRIBER_ORDER = (Customer.id,)


def subscribers_query(
    *,
    status: str | None = None,
    plan: str | None = None,
    reader_ids: Select[int] | None = None,
) -> Select[Subscription, int, int, str, PaymentMethod]:
    """One row per subscriber (a customer with a live or once-active subscription): the
    current subscription, its plan and the default card; unordered, for a pager.

    ``status`` keeps subscribers whose current subscription has it, ``plan`` those whose
    current subscription is to the plan of that code; ``reader_ids`` (a select of reader
    ids, e.g. an email search) keeps those readers.
    """
    counts = Subscription.was_active.is_(True) | Subscription.status.in_(LIVE_STATUSES)
    current = (
        select(Subscription.id)
        .where(Subscription.customer_id == Customer.id, counts)
        .order_by(
            Subscription.status.in_(LIVE_STATUSES).desc(),
            Subscription.created_at.desc(),
            Subscription.id.desc(),
        )
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    query = (
        select(Subscription, Customer.id, Customer.reader_id, Plan.name, PaymentMethod)
        .select_from(Customer)
        .join(Subscription, Subscription.id == current)
        .outerjoin(Plan, Plan.code == Subscription.plan_code)
        .outerjoin(
            PaymentMethod,
            PaymentMethod.stripe_payment_method_id == Customer.default_payment_method_id,
        )
    )
    if status is not None or plan is not None:
        # Only customers with such a subscription at all, found by the tally index, are
        # asked which one is current: a rare status never walks every customer.
        holding = select(Subscription.customer_id)
        if status is not None:
            query = query.where(Subscription.status == status)
            holding = holding.where(Subscription.status == status)
        if plan is not None:
            query = query.where(Subscription.plan_code == plan)
            holding = holding.where(Subscription.plan_code == plan)
        query = query.where(Customer.id.in_(holding))
    if reader_ids is not None:
        query = query.where(Customer.reader_id.in_(reader_ids))
    return query


def subscriber_row(row: Row[Subscription, int, int, str, PaymentMethod]) -> SubscriberRow:
    """A row of :func:`subscribers_query` as the subscribers page shows it."""
    subscription, customer_id, reader_id, plan_name, found = row
    card: PaymentMethod | None = found  # None without a default card (an outer join)
    label = (
        f"{card.brand} {card.last4} {card.exp_month:02d}/{card.exp_year % 100:02d}" if card else ""
    )
    return SubscriberRow(
        customer_id=customer_id,
        reader_id=reader_id,
        plan_name=plan_name or subscription.plan_code or subscription.stripe_plan_id,
        status=subscription.status,
        cancel_at_period_end=subscription.cancel_at_period_end,
        current_period_end=subscription.current_period_end,
        card=label,
        disputed_at=subscription.disputed_at,
    )


def revenue_summary(session: Session, now: datetime, tally: Tally | None = None) -> RevenueSummary:
    """Monthly recurring revenue and what was collected in the last 30 days, each per
    currency, and subscriptions counted by status."""
    tally = tally or subscription_tally(session)
    return RevenueSummary(
        monthly_recurring=monthly_recurring_revenue(session, tally),
        collected_last_30_days=collected_since(session, now - timedelta(days=30)),
        by_status=tally.by_status(),
    )

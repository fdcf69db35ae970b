"""The publisher's dashboard numbers, from our own subscription, plan and invoice rows.

Every figure is one aggregate query over an indexed range (a week, a window of days),
never a scan per subscriber, and money is kept per currency: amounts in different
currencies are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from billing.models import Invoice, Plan, Subscription

# Monthly equivalents of one interval, for monthly recurring revenue.
MONTHS_PER_INTERVAL = {"day": 30.0, "week": 52 / 12, "month": 1.0, "year": 1 / 12}
# Subscriptions that bring in money every period: paid up, or a renewal being retried.
RECURRING_STATUSES = ("active", "past_due")
# Subscribers who read on a subscription right now.
SUBSCRIBED_STATUSES = ("active", "trialing", "past_due")
# An invoice that will not be paid any more.
GIVEN_UP_STATUSES = ("uncollectible", "void")


@dataclass(frozen=True, slots=True)
class Rate:
    """``part`` of ``whole``, e.g. trials that converted of trials that ended."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        """``part`` as a percentage of ``whole``; None when there is nothing to divide."""
        return 100 * self.part / self.whole if self.whole else None


@dataclass(frozen=True, slots=True)
class Week:
    """One week of subscriptions: started paying or trialing, ended, running at its end."""

    start: datetime
    new: int
    churned: int
    running: int


@dataclass(frozen=True, slots=True)
class Recovery:
    """Invoices whose first collection failed: paid later, given up, still being retried."""

    recovered: int
    lost: int
    retrying: int

    @property
    def rate(self) -> Rate:
        """Recovered of those settled either way (invoices still retried are not counted)."""
        return Rate(self.recovered, self.recovered + self.lost)


def monthly_recurring_revenue(session: Session) -> dict[str, int]:
    """Monthly recurring revenue per currency, in the currency's smallest unit.

    A yearly plan counts a twelfth of its price a month, a weekly one 52/12 times its
    price; subscriptions set to cancel at their period end no longer recur.
    """
    recurring: dict[str, float] = defaultdict(float)
    rows = session.execute(
        select(Plan.currency, Plan.interval, func.sum(Plan.amount))
        .join(Subscription, Subscription.plan_code == Plan.code)
        .where(
            Subscription.status.in_(RECURRING_STATUSES),
            Subscription.cancel_at_period_end.is_(False),
        )
        .group_by(Plan.currency, Plan.interval)
    )
    for currency, interval, amount in rows:
        recurring[currency] += int(amount or 0) * MONTHS_PER_INTERVAL.get(interval, 1.0)
    return {currency: round(amount) for currency, amount in sorted(recurring.items())}


def collected_since(session: Session, since: datetime) -> dict[str, int]:
    """What paid invoices brought in since ``since``, per currency."""
    rows = session.execute(
        select(Invoice.currency, func.sum(Invoice.amount_paid))
        .where(Invoice.status == "paid", Invoice.created >= since)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    )
    return {currency: int(total or 0) for currency, total in rows}


def active_subscribers(session: Session) -> int:
    """Subscriptions readers read on now: paid up, trialing or a renewal being retried."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.status.in_(SUBSCRIBED_STATUSES))
        )
        or 0
    )


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """The Mondays (00:00, ``now``'s zone) of the last ``weeks`` weeks, oldest first."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def _count_when(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def weekly_subscriptions(session: Session, now: datetime, weeks: int = 12) -> list[Week]:
    """New and churned subscriptions per week and those running at each week's end.

    New: a subscription that ever ran (paid or trialing) created that week. Churned: one
    that ran and ended that week. Running: created before the week's end and not ended
    by then (the last week ends ``now``). One query of ``3 * weeks`` sums.
    """
    starts = week_starts(now, weeks)
    ends = [*starts[1:], now]
    ran = Subscription.was_active.is_(True)
    columns = []
    for start, end in zip(starts, ends, strict=True):
        columns += [
            _count_when(and_(Subscription.created_at >= start, Subscription.created_at < end)),
            _count_when(and_(Subscription.ended_at >= start, Subscription.ended_at < end)),
            _count_when(
                and_(
                    Subscription.created_at < end,
                    or_(Subscription.ended_at.is_(None), Subscription.ended_at >= end),
                )
            ),
        ]
    since = starts[0]
    row = session.execute(
        select(*columns).where(
            ran,
            or_(
                Subscription.ended_at.is_(None),
                Subscription.ended_at >= since,
            ),
        )
    ).one()
    values = [int(value) for value in row]
    return [Week(start, *values[3 * index : 3 * index + 3]) for index, start in enumerate(starts)]


def trial_conversion(session: Session, now: datetime, days: int = 90) -> Rate:
    """Trials that ended in the last ``days`` days, and how many of them paid after.

    A trial converted when its subscription has a paid invoice for more than nothing
    (the trial's own invoice is for zero).
    """
    paid = exists().where(
        Invoice.stripe_subscription_id == Subscription.stripe_subscription_id,
        Invoice.status == "paid",
        Invoice.amount_paid > 0,
    )
    row = session.execute(
        select(func.count(), _count_when(paid)).where(
            Subscription.trial_end.is_not(None),
            Subscription.trial_end <= now,
            Subscription.trial_end > now - timedelta(days=days),
        )
    ).one()
    return Rate(part=int(row[1]), whole=int(row[0]))


def payment_recovery(session: Session, now: datetime, days: int = 90) -> Recovery:
    """Invoices of the last ``days`` days whose first collection failed, by what became of
    them: paid on a later attempt (a retry or a new card), given up (uncollectible or
    void), or still open and retried."""
    failed_first = or_(
        and_(Invoice.status == "paid", Invoice.attempt_count > 1),
        and_(Invoice.status != "paid", Invoice.attempt_count > 0),
    )
    row = session.execute(
        select(
            _count_when(Invoice.status == "paid"),
            _count_when(Invoice.status.in_(GIVEN_UP_STATUSES)),
            _count_when(Invoice.status == "open"),
        ).where(failed_first, Invoice.created > now - timedelta(days=days))
    ).one()
    return Recovery(recovered=int(row[0]), lost=int(row[1]), retrying=int(row[2]))


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the publisher's dashboard shows from billing, as of ``now``."""

    now: datetime
    monthly_recurring: dict[str, int]  # per currency, smallest unit
    collected_last_30_days: dict[str, int]  # per currency, smallest unit
    active_subscribers: int
    weeks: list[Week]
    weekly_recurring: dict[str, list[int]]  # per currency, one amount per week
    trial_conversion: Rate
    recovery: Recovery


def dashboard_figures(session: Session, now: datetime, weeks: int = 12) -> Figures:
    """The billing figures of the dashboard: seven aggregate queries."""
    return Figures(
        now=now,
        monthly_recurring=monthly_recurring_revenue(session),
        collected_last_30_days=collected_since(session, now - timedelta(days=30)),
        active_subscribers=active_subscribers(session),
        weeks=weekly_subscriptions(session, now, weeks),
        weekly_recurring=weekly_recurring_revenue(session, now, weeks),
        trial_conversion=trial_conversion(session, now),
        recovery=payment_recovery(session, now),
    )


def weekly_recurring_revenue(
    session: Session, now: datetime, weeks: int = 12
) -> dict[str, list[int]]:
    """Monthly recurring revenue per currency at each week's end (the last one ``now``).

    Counts subscriptions that ran then and were past any trial, at their plan's price
    today (past prices are not kept). One query of ``weeks`` sums per currency and
    interval.
    """
    starts = week_starts(now, weeks)
    ends = [*starts[1:], now]
    columns = [
        func.coalesce(
            func.sum(
                case(
                    (
                        and_(
                            Subscription.created_at < end,
                            or_(Subscription.ended_at.is_(None), Subscription.ended_at >= end),
                            or_(Subscription.trial_end.is_(None), Subscription.trial_end <= end),
                        ),
                        Plan.amount,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for end in ends
    ]
    rows = session.execute(
        select(Plan.currency, Plan.interval, *columns)
        .join(Subscription, Subscription.plan_code == Plan.code)
        .where(
            Subscription.was_active.is_(True),
            or_(Subscription.ended_at.is_(None), Subscription.ended_at >= starts[0]),
        )
        .group_by(Plan.currency, Plan.interval)
    )
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for currency, interval, *amounts in rows:
        factor = MONTHS_PER_INTERVAL.get(interval, 1.0)
        for index, amount in enumerate(amounts):
            totals[currency][index] += int(amount) * factor
    return {currency: [round(a) for a in amounts] for currency, amounts in sorted(totals.items())}

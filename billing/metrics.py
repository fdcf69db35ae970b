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


@dataclass(frozen=True, slots=True)
class Tally:
    """Subscriptions counted by what the figures read of them: one index-only pass."""

    rows: list[tuple[str, str, bool, bool, int]]  # status, plan, canceling, running, count

    def by_status(self) -> dict[str, int]:
        """Subscriptions per Stripe status."""
        counts: dict[str, int] = defaultdict(int)
        for status, _plan, _canceling, _running, count in self.rows:
            counts[status] += count
        return dict(counts)

    def running_per_plan(self) -> dict[str, int]:
        """Subscriptions that ran and have not ended, per plan code."""
        counts: dict[str, int] = defaultdict(int)
        for _status, plan, _canceling, running, count in self.rows:
            if running:
                counts[plan] += count
        return dict(counts)

    def recurring_per_plan(self) -> dict[str, int]:
        """Subscriptions that bring in money every period, per plan code."""
        counts: dict[str, int] = defaultdict(int)
        for status, plan, canceling, _running, count in self.rows:
            if status in RECURRING_STATUSES and not canceling:
                counts[plan] += count
        return dict(counts)


def subscription_tally(session: Session) -> Tally:
    """Every subscription counted by status, plan, canceling and running, in one pass over
    the covering index ``ix_billing_subscriptions_tally`` (never the table's rows)."""
    running = and_(Subscription.was_active.is_(True), Subscription.ended_at.is_(None))
    columns = (
        Subscription.status,
        Subscription.plan_code,
        Subscription.cancel_at_period_end,
        running,
    )
    rows = session.execute(select(*columns, func.count()).group_by(*columns))
    return Tally([(st, plan, bool(cancel), bool(run), int(n)) for st, plan, cancel, run, n in rows])


def _monthly(plans: dict[str, Plan], counts: dict[str, int]) -> dict[str, float]:
    """Monthly amounts per currency of ``counts`` subscriptions per plan code."""
    amounts: dict[str, float] = defaultdict(float)
    for code, count in counts.items():
        plan = plans.get(code)
        if plan is not None:
            amounts[plan.currency] += (
                count * plan.amount * MONTHS_PER_INTERVAL.get(plan.interval, 1.0)
            )
    return amounts


def _plans(session: Session) -> dict[str, Plan]:
    return {plan.code: plan for plan in session.scalars(select(Plan))}


def monthly_recurring_revenue(session: Session, tally: Tally | None = None) -> dict[str, int]:
    """Monthly recurring revenue per currency, in the currency's smallest unit.

    A yearly plan counts a twelfth of its price a month, a weekly one 52/12 times its
    price; subscriptions set to cancel at their period end no longer recur.
    """
    counts = (tally or subscription_tally(session)).recurring_per_plan()
    recurring = _monthly(_plans(session), counts)
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


def active_subscribers(session: Session, tally: Tally | None = None) -> int:
    """Subscriptions readers read on now: paid up, trialing or a renewal being retried."""
    by_status = (tally or subscription_tally(session)).by_status()
    return sum(by_status.get(status, 0) for status in SUBSCRIBED_STATUSES)


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """The Mondays (00:00, ``now``'s zone) of the last ``weeks`` weeks, oldest first."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def _count_when(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _ran() -> ColumnElement[bool]:
    """A subscription that ever ran (paid, trialing or retried)."""
    return Subscription.was_active.is_(True)


def _touched_since(since: datetime, *columns: Any) -> ColumnElement[bool]:
    """Subscriptions that ran and whose dates in ``columns`` fall on or after ``since``:
    the only ones whose part in a weekly figure differs from week to week."""
    return and_(_ran(), or_(*(column >= since for column in columns)))


def _week_of(
    column: Any, starts: list[datetime], ends: list[datetime], missing: int, *, until: bool = False
) -> Any:
    """The index of the week ``column`` falls in (the last one ends at ``now``): -1 before
    the first, ``len(ends)`` after now, ``missing`` when NULL. ``until``: a moment equal to
    a week's end belongs to that week."""
    within = [(column <= end if until else column < end, index) for index, end in enumerate(ends)]
    return case((column.is_(None), missing), (column < starts[0], -1), *within, else_=len(ends))


@dataclass(frozen=True, slots=True)
class Window:
    """The subscriptions touched within the dashboard's weeks, counted by plan and by the
    weeks they were created, ended and out of trial in (index -1: before the window)."""

    weeks: int
    groups: list[tuple[str, int, int, int, int]]  # plan, created, ended, trial over, count

    def running_at_ends(self, plan: str | None = None) -> list[int]:
        """Of these, how many ran at each week's end, less those still running now (they
        are counted once more by the tally)."""
        totals = [0] * self.weeks
        for code, created, ended, _trial_over, count in self.groups:
            if plan is not None and code != plan:
                continue
            for week in range(self.weeks):
                totals[week] += count * (created <= week < ended) - count * (ended > self.weeks)
        return totals

    def paying_at_ends(self, plan: str) -> list[int]:
        """Those of ``plan`` that ran past their trial at each week's end, less those
        still running now."""
        totals = [0] * self.weeks
        for code, created, ended, trial_over, count in self.groups:
            if code != plan:
                continue
            for week in range(self.weeks):
                counted = created <= week < ended and trial_over <= week
                totals[week] += count * counted - count * (ended > self.weeks)
        return totals


def subscriptions_window(session: Session, now: datetime, weeks: int = 12) -> Window:
    """The subscriptions created, ended or out of trial within the last ``weeks`` weeks,
    grouped by plan and week: one query over indexed date ranges."""
    starts = week_starts(now, weeks)
    ends = [*starts[1:], now]
    created, ended, trial_end = (
        Subscription.created_at,
        Subscription.ended_at,
        Subscription.trial_end,
    )
    rows = (
        select(
            Subscription.plan_code.label("plan"),
            _week_of(created, starts, ends, -1).label("created"),
            _week_of(ended, starts, ends, weeks + 1).label("ended"),
            _week_of(trial_end, starts, ends, -1, until=True).label("trial_over"),
        )
        .where(_touched_since(starts[0], created, ended, trial_end))
        .subquery()
    )
    groups = session.execute(
        select(rows.c.plan, rows.c.created, rows.c.ended, rows.c.trial_over, func.count()).group_by(
            rows.c.plan, rows.c.created, rows.c.ended, rows.c.trial_over
        )
    )
    return Window(weeks, [(p, int(c), int(e), int(t), int(n)) for p, c, e, t, n in groups])


def weekly_subscriptions(
    session: Session,
    now: datetime,
    weeks: int = 12,
    tally: Tally | None = None,
    window: Window | None = None,
) -> list[Week]:
    """New and churned subscriptions per week and those running at each week's end.

    New: a subscription that ever ran (paid or trialing) created that week. Churned: one
    that ran and ended that week. Running: created before the week's end and not ended
    by then (the last week ends ``now``): those running now (the tally) corrected by
    the ones created, ended or out of trial within the window.
    """
    window = window or subscriptions_window(session, now, weeks)
    running_now = sum((tally or subscription_tally(session)).running_per_plan().values())
    new, churned = [0] * weeks, [0] * weeks
    for _plan, created, ended, _trial_over, count in window.groups:
        if 0 <= created < weeks:
            new[created] += count
        if 0 <= ended < weeks:
            churned[ended] += count
    running = window.running_at_ends()
    starts = week_starts(now, weeks)
    return [
        Week(start, new[index], churned[index], running_now + running[index])
        for index, start in enumerate(starts)
    ]


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


def dashboard_figures(
    session: Session, now: datetime, weeks: int = 12, tally: Tally | None = None
) -> Figures:
    """The billing figures of the dashboard: the subscriptions' ``tally`` (one pass over
    their covering index, when not given), then aggregate queries over indexed ranges
    (a window of weeks or days)."""
    tally = tally or subscription_tally(session)
    window = subscriptions_window(session, now, weeks)
    return Figures(
        now=now,
        monthly_recurring=monthly_recurring_revenue(session, tally),
        collected_last_30_days=collected_since(session, now - timedelta(days=30)),
        active_subscribers=active_subscribers(session, tally),
        weeks=weekly_subscriptions(session, now, weeks, tally, window),
        weekly_recurring=weekly_recurring_revenue(session, now, weeks, tally, window),
        trial_conversion=trial_conversion(session, now),
        recovery=payment_recovery(session, now),
    )


@dataclass(frozen=True, slots=True)
class Overview:
    """The few billing figures of the staff overview, as of ``now``."""

    now: datetime
    monthly_recurring: dict[str, int]  # per currency, smallest unit
    collected_last_30_days: dict[str, int]  # per currency, smallest unit
    active_subscribers: int
    this_week: Week


def overview_figures(session: Session, now: datetime, tally: Tally | None = None) -> Overview:
    """The overview's figures: those of :func:`dashboard_figures` it shows, without the
    trials and failed payments of 90 days or the twelve weeks it does not."""
    tally = tally or subscription_tally(session)
    return Overview(
        now=now,
        monthly_recurring=monthly_recurring_revenue(session, tally),
        collected_last_30_days=collected_since(session, now - timedelta(days=30)),
        active_subscribers=active_subscribers(session, tally),
        this_week=weekly_subscriptions(session, now, 1, tally)[-1],
    )


def weekly_recurring_revenue(
    session: Session,
    now: datetime,
    weeks: int = 12,
    tally: Tally | None = None,
    window: Window | None = None,
) -> dict[str, list[int]]:
    """Monthly recurring revenue per currency at each week's end (the last one ``now``).

    Counts subscriptions that ran then and were past any trial, at their plan's price
    today (past prices are not kept): those running now per plan (the tally) corrected
    by the ones created, ended or out of trial within the window.
    """
    window = window or subscriptions_window(session, now, weeks)
    running = (tally or subscription_tally(session)).running_per_plan()
    plans = _plans(session)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for code in set(running) | {group[0] for group in window.groups}:
        paying = window.paying_at_ends(code)
        for index in range(weeks):
            week = _monthly(plans, {code: running.get(code, 0) + paying[index]})
            for currency, amount in week.items():
                totals[currency][index] += amount
    return {currency: [round(a) for a in amounts] for currency, amounts in sorted(totals.items())}

"""The dashboard's arithmetic, on rows made by factories: recurring revenue per currency,
subscriptions per week, trial conversion and failed-payment recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.metrics import (
    Rate,
    active_subscribers,
    monthly_recurring_revenue,
    payment_recovery,
    trial_conversion,
    weekly_recurring_revenue,
    weekly_subscriptions,
)
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import EditorFactory, InvoiceFactory, PlanFactory, SubscriptionFactory
from tests.helpers import sign_in

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def test_recurring_revenue_is_monthly_per_currency_and_never_mixes_them(app_ctx):
    PlanFactory(code="monthly", amount=900, currency="usd", interval="month")
    PlanFactory(code="yearly", amount=9000, currency="usd", interval="year")
    PlanFactory(code="monatlich", amount=800, currency="eur", interval="month")
    PlanFactory(code="jaehrlich", amount=12000, currency="eur", interval="year")
    SubscriptionFactory.create_batch(2, plan_code="monthly")  # 2 x 9.00
    SubscriptionFactory(plan_code="yearly")  # 90.00 / 12 = 7.50
    SubscriptionFactory(plan_code="monthly", status="past_due")  # still recurring: 9.00
    SubscriptionFactory(plan_code="monthly", cancel_at_period_end=True)  # ends: not recurring
    SubscriptionFactory(plan_code="monthly", status="trialing")  # not paying yet
    SubscriptionFactory(plan_code="monthly", status="canceled")
    SubscriptionFactory(plan_code="monatlich")  # 8.00
    SubscriptionFactory(plan_code="jaehrlich")  # 120.00 / 12 = 10.00

    assert monthly_recurring_revenue(db.session) == {"eur": 1800, "usd": 1800 + 750 + 900}


def test_the_subscribers_page_shows_euro_revenue_beside_dollars(app_ctx, app):
    PlanFactory(code="monthly", amount=900, currency="usd")
    PlanFactory(code="monatlich", amount=800, currency="eur")
    SubscriptionFactory(plan_code="monthly")
    SubscriptionFactory(plan_code="monatlich")
    editor = EditorFactory()
    web = browser_for(app)
    sign_in(web, editor.email)
    page = web.get("/admin/subscribers")
    assert page.html.select_one("#mrr").text.strip() == "8.00 EUR, 9.00 USD"


def test_active_subscribers_are_those_paid_up_trialing_or_being_retried(app_ctx):
    for status in ("active", "active", "trialing", "past_due"):
        SubscriptionFactory(status=status)
    for status in ("unpaid", "canceled", "incomplete", "incomplete_expired", "paused"):
        SubscriptionFactory(status=status)

    assert active_subscribers(db.session) == 4


def test_weekly_new_churned_and_running_subscriptions(app_ctx):
    SubscriptionFactory(created_at=at(2, 1))  # running throughout
    SubscriptionFactory(created_at=at(3, 3))  # new in the first week
    SubscriptionFactory(created_at=at(3, 10), ended_at=at(3, 17), status="canceled")
    SubscriptionFactory(created_at=at(2, 1), ended_at=at(3, 4), status="canceled")
    SubscriptionFactory(created_at=at(3, 10), status="incomplete_expired", was_active=False)
    SubscriptionFactory(created_at=at(1, 5), ended_at=at(2, 20), status="canceled")

    weeks = weekly_subscriptions(db.session, NOW, weeks=3)

    assert [w.start.date().isoformat() for w in weeks] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert [(w.new, w.churned, w.running) for w in weeks] == [(1, 1, 2), (1, 0, 3), (0, 1, 2)]


def test_weekly_recurring_revenue_counts_what_ran_past_its_trial_at_each_weeks_end(app_ctx):
    PlanFactory(code="monthly", amount=900, currency="usd", interval="month")
    PlanFactory(code="yearly", amount=12000, currency="usd", interval="year")
    PlanFactory(code="monatlich", amount=800, currency="eur", interval="month")
    SubscriptionFactory(plan_code="monthly", created_at=at(2, 1))  # every week
    SubscriptionFactory(plan_code="yearly", created_at=at(2, 1))  # 10.00 every week
    SubscriptionFactory(plan_code="monatlich", created_at=at(2, 1))  # every week, in euros
    SubscriptionFactory(plan_code="monthly", created_at=at(3, 3))  # from the first week's end
    SubscriptionFactory(
        plan_code="monthly", created_at=at(3, 10), ended_at=at(3, 17), status="canceled"
    )  # the second week's end only
    SubscriptionFactory(plan_code="monthly", created_at=at(1, 5), trial_end=at(3, 12))
    SubscriptionFactory(
        plan_code="monthly", created_at=at(1, 5), ended_at=at(2, 20), status="canceled"
    )  # ended before the window
    SubscriptionFactory(
        plan_code="monthly", created_at=at(3, 10), was_active=False, status="incomplete_expired"
    )  # never ran
    SubscriptionFactory(plan_code="monthly", created_at=NOW + timedelta(days=1))  # after now
    SubscriptionFactory(plan_code="gone", created_at=at(2, 1))  # a plan no longer listed

    weekly = weekly_recurring_revenue(db.session, NOW, weeks=3)

    assert weekly == {"eur": [800, 800, 800], "usd": [2800, 4600, 3700]}  # fmt: skip


def test_a_trial_converted_when_its_subscription_paid_more_than_nothing(app_ctx):
    converted = SubscriptionFactory(trial_end=NOW - timedelta(days=10))
    InvoiceFactory(stripe_subscription_id=converted.stripe_subscription_id, amount_paid=0)
    InvoiceFactory(stripe_subscription_id=converted.stripe_subscription_id, amount_paid=900)
    lapsed = SubscriptionFactory(trial_end=NOW - timedelta(days=5), status="canceled")
    InvoiceFactory(stripe_subscription_id=lapsed.stripe_subscription_id, amount_paid=0)
    long_ago = SubscriptionFactory(trial_end=NOW - timedelta(days=200))
    InvoiceFactory(stripe_subscription_id=long_ago.stripe_subscription_id)
    SubscriptionFactory(trial_end=NOW + timedelta(days=3), status="trialing")  # not over yet
    SubscriptionFactory()  # never had a trial

    rate = trial_conversion(db.session, NOW, days=90)

    assert rate == Rate(part=1, whole=2)
    assert rate.percent == 50.0


def test_failed_payments_recovered_lost_and_still_retried(app_ctx):
    recent = NOW - timedelta(days=3)
    InvoiceFactory(status="paid", attempt_count=1, created=recent)  # never failed
    InvoiceFactory(status="paid", attempt_count=3, created=recent)  # paid on a retry
    InvoiceFactory(status="paid", attempt_count=2, created=recent)  # paid with a new card
    InvoiceFactory(status="uncollectible", attempt_count=4, amount_paid=0, created=recent)
    InvoiceFactory(status="open", attempt_count=2, amount_paid=0, created=recent)
    InvoiceFactory(status="draft", attempt_count=0, amount_paid=0, created=recent)
    InvoiceFactory(status="paid", attempt_count=2, created=NOW - timedelta(days=120))

    recovery = payment_recovery(db.session, NOW, days=90)

    assert (recovery.recovered, recovery.lost, recovery.retrying) == (2, 1, 1)
    assert recovery.rate.percent == pytest.approx(200 / 3)


def test_a_rate_of_nothing_has_no_percentage():
    assert Rate(0, 0).percent is None

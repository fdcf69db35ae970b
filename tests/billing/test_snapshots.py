"""Card and subscription snapshots answer questions by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.snapshots import CardSnapshot, SubscriptionSnapshot


@pytest.mark.parametrize(
    ("month", "year", "first_invalid_day"),
    [
        (3, 2027, datetime(2027, 4, 1, tzinfo=UTC)),
        (12, 2026, datetime(2027, 1, 1, tzinfo=UTC)),
        (2, 2028, datetime(2028, 3, 1, tzinfo=UTC)),  # leap February runs to the 29th
    ],
)
def test_cards_work_to_the_end_of_their_expiry_month(month, year, first_invalid_day):
    card = CardSnapshot("visa", "4242", month, year)
    assert card.expires_at == first_invalid_day
    assert not card.is_expired(first_invalid_day - timedelta(seconds=1))
    assert card.is_expired(first_invalid_day)


def test_card_expiry_label_and_renewal_check():
    card = CardSnapshot("visa", "4242", 3, 2027)
    assert card.expiry_label == "03/27"
    assert card.expires_before(datetime(2027, 4, 2, tzinfo=UTC))
    assert not card.expires_before(datetime(2027, 3, 15, tzinfo=UTC))


NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "live", "incomplete"),
    [
        ("active", True, False),
        ("trialing", True, False),
        ("past_due", True, False),
        ("unpaid", True, False),
        ("incomplete", True, True),
        ("paused", True, True),
        ("canceled", False, False),
        ("incomplete_expired", False, False),
    ],
)
def test_subscription_status_predicates(status, live, incomplete):
    snapshot = SubscriptionSnapshot(status=status, tier="standard")
    assert snapshot.is_live() is live
    assert snapshot.has_ended() is not live
    assert snapshot.has_incomplete_payment() is incomplete


def test_grace_is_counted_from_the_first_failed_payment():
    snapshot = SubscriptionSnapshot(
        status="past_due", tier="standard", payment_failed_at=NOW - timedelta(days=3),
        current_period_end=NOW + timedelta(days=27),
    )  # fmt: skip
    grace = timedelta(days=7)
    assert snapshot.grace_ends_at(grace) == NOW + timedelta(days=4)
    assert snapshot.in_grace(NOW, grace)
    assert not snapshot.in_grace(NOW + timedelta(days=4), grace)
    assert not SubscriptionSnapshot(status="past_due", tier="standard").in_grace(NOW, grace)


def test_renewal_date_and_cancellation():
    running = SubscriptionSnapshot(
        status="active", tier="standard", current_period_end=NOW + timedelta(days=5)
    )
    canceling = SubscriptionSnapshot(
        status="active", tier="standard", current_period_end=NOW + timedelta(days=5),
        cancel_at_period_end=True,
    )  # fmt: skip
    trial = SubscriptionSnapshot(status="trialing", tier="standard", trial_end=NOW)
    assert running.renews_at() == NOW + timedelta(days=5) and running.is_paid_up(NOW)
    assert canceling.renews_at() is None and canceling.is_canceling(NOW)
    assert not canceling.is_canceling(NOW + timedelta(days=5))
    assert trial.renews_at() == NOW and not trial.on_trial(NOW)


def test_tier_coverage():
    premium = SubscriptionSnapshot(status="active", tier="premium")
    assert premium.covers(frozenset())
    assert premium.covers(frozenset({"premium", "gold"}))
    assert not premium.covers(frozenset({"gold"}))

"""Card and subscription snapshots answer billing questions by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.snapshots import CardSnapshot, SubscriptionSnapshot

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
GRACE = timedelta(days=7)


def snapshot(status: str = "active", **kwargs) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(status=status, tier=kwargs.pop("tier", "standard"), **kwargs)


# --- CardSnapshot --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "year", "first_invalid_instant"),
    [
        pytest.param(3, 2027, datetime(2027, 4, 1, tzinfo=UTC), id="31-day month"),
        pytest.param(4, 2027, datetime(2027, 5, 1, tzinfo=UTC), id="30-day month"),
        pytest.param(12, 2026, datetime(2027, 1, 1, tzinfo=UTC), id="December rolls the year"),
        pytest.param(2, 2028, datetime(2028, 3, 1, tzinfo=UTC), id="leap February has a 29th"),
        pytest.param(2, 2027, datetime(2027, 3, 1, tzinfo=UTC), id="common February"),
        pytest.param(1, 2027, datetime(2027, 2, 1, tzinfo=UTC), id="January"),
    ],
)
def test_cards_work_to_the_end_of_their_expiry_month(month, year, first_invalid_instant):
    card = CardSnapshot("visa", "4242", month, year)
    assert card.expires_at == first_invalid_instant
    assert card.expires_at.tzinfo is UTC
    assert not card.is_expired(first_invalid_instant - SECOND)
    assert card.is_expired(first_invalid_instant)
    assert card.is_expired(first_invalid_instant + 400 * DAY)


def test_leap_february_card_still_works_on_the_29th():
    card = CardSnapshot("visa", "4242", 2, 2028)
    assert not card.is_expired(datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("month", "year", "label"),
    [(3, 2027, "03/27"), (12, 2026, "12/26"), (1, 2030, "01/30"), (7, 2100, "07/00")],
)
def test_expiry_label_is_printed_as_on_the_card(month, year, label):
    assert CardSnapshot("visa", "4242", month, year).expiry_label == label


def test_a_card_expiring_exactly_at_the_renewal_cannot_pay_it():
    card = CardSnapshot("visa", "4242", 3, 2027)
    assert card.expires_before(datetime(2027, 4, 1, tzinfo=UTC))
    assert card.expires_before(datetime(2027, 4, 2, tzinfo=UTC))
    assert not card.expires_before(datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert not card.expires_before(datetime(2027, 3, 15, tzinfo=UTC))


def test_card_snapshots_are_immutable_values():
    card = CardSnapshot("visa", "4242", 3, 2027)
    assert card == CardSnapshot("visa", "4242", 3, 2027)
    with pytest.raises(AttributeError):
        card.last4 = "0000"  # type: ignore[misc]


# --- SubscriptionSnapshot: status predicates -----------------------------------------


@pytest.mark.parametrize(
    ("status", "live", "incomplete", "past_due", "unpaid"),
    [
        ("active", True, False, False, False),
        ("trialing", True, False, False, False),
        ("past_due", True, False, True, False),
        ("unpaid", True, False, False, True),
        ("incomplete", True, True, False, False),
        ("paused", True, False, False, False),  # paused is not a first payment waiting
        ("canceled", False, False, False, False),
        ("incomplete_expired", False, False, False, False),
    ],
)
def test_status_predicates(status, live, incomplete, past_due, unpaid):
    sub = snapshot(status)
    assert sub.is_live() is live
    assert sub.has_ended() is not live
    assert sub.has_ended_by(NOW) is not live
    assert sub.has_incomplete_payment() is incomplete
    assert sub.is_past_due() is past_due
    assert sub.is_unpaid() is unpaid


@pytest.mark.parametrize(
    ("reason", "for_payment", "on_request"),
    [
        ("final_payment_failure", True, False),
        ("first_payment_failure", True, False),
        ("trial_end_without_payment_method", True, False),
        ("pause_requested", False, True),
    ],
)
def test_a_pause_says_why(reason, for_payment, on_request):
    sub = snapshot("paused", pause_reason=reason)
    assert (sub.paused_for_payment(), sub.paused_on_request()) == (for_payment, on_request)
    assert sub.renews_at() is None and not sub.has_incomplete_payment()


def test_a_renewal_needs_confirmation_only_while_it_is_owed():
    waiting = {"latest_payment_needs_action": True}
    assert snapshot("past_due", **waiting).renewal_needs_confirmation()
    assert snapshot("unpaid", **waiting).renewal_needs_confirmation()
    assert not snapshot("active", **waiting).renewal_needs_confirmation()
    assert not snapshot("past_due").renewal_needs_confirmation()


# --- trial, paid-up, canceling ---------------------------------------------------------


def test_trial_runs_until_its_end_and_only_while_trialing():
    trial = snapshot("trialing", trial_end=NOW)
    assert trial.on_trial(NOW - SECOND)
    assert not trial.on_trial(NOW)
    assert snapshot("trialing").on_trial(NOW + 1000 * DAY)  # no end on record: open
    assert not snapshot("active", trial_end=NOW + DAY).on_trial(NOW)


@pytest.mark.parametrize("status", ["trialing", "past_due", "unpaid", "incomplete", "canceled"])
def test_only_active_subscriptions_are_paid_up(status):
    assert snapshot("active", current_period_end=NOW + DAY).is_paid_up(NOW)
    assert not snapshot(status, current_period_end=NOW + DAY).is_paid_up(NOW)


def test_paid_up_until_the_period_end():
    sub = snapshot("active", current_period_end=NOW)
    assert sub.is_paid_up(NOW - SECOND)
    assert not sub.is_paid_up(NOW)
    assert snapshot("active").is_paid_up(NOW)  # no period on record


def test_canceling_while_the_period_runs_then_ended():
    sub = snapshot("active", current_period_end=NOW, cancel_at_period_end=True)
    assert sub.is_canceling(NOW - SECOND)
    assert not sub.has_ended_by(NOW - SECOND)
    assert not sub.is_canceling(NOW)
    assert sub.has_ended_by(NOW)
    assert not sub.has_ended()  # Stripe's status has not caught up yet


def test_a_renewing_subscription_does_not_end_with_its_period():
    sub = snapshot("active", current_period_end=NOW)
    assert not sub.is_canceling(NOW - SECOND)
    assert not sub.has_ended_by(NOW + 30 * DAY)


def test_a_canceled_trial_ends_with_the_trial():
    sub = snapshot("trialing", trial_end=NOW, cancel_at_period_end=True)
    assert not sub.has_ended_by(NOW - SECOND)
    assert sub.has_ended_by(NOW)


# --- grace after a failed renewal -------------------------------------------------------


def test_grace_is_counted_from_the_first_failed_payment():
    sub = snapshot("past_due", payment_failed_at=NOW - 3 * DAY, current_period_end=NOW + 27 * DAY)
    assert sub.grace_ends_at(GRACE) == NOW + 4 * DAY
    assert sub.in_grace(NOW, GRACE)
    assert sub.in_grace(NOW + 4 * DAY - SECOND, GRACE)
    assert not sub.in_grace(NOW + 4 * DAY, GRACE)


def test_no_grace_without_a_failure_on_record():
    sub = snapshot("past_due")
    assert sub.grace_ends_at(GRACE) is None
    assert not sub.in_grace(NOW, GRACE)


@pytest.mark.parametrize("status", ["active", "unpaid", "trialing", "canceled"])
def test_grace_belongs_to_past_due_only(status):
    sub = snapshot(status, payment_failed_at=NOW - DAY)
    assert not sub.in_grace(NOW, GRACE)


def test_a_zero_grace_window_is_closed_at_once():
    sub = snapshot("past_due", payment_failed_at=NOW)
    assert not sub.in_grace(NOW, timedelta(0))


# --- renewal date and tiers ---------------------------------------------------------------


def test_renewal_date():
    assert snapshot("active", current_period_end=NOW + 5 * DAY).renews_at() == NOW + 5 * DAY
    assert snapshot("past_due", current_period_end=NOW + 5 * DAY).renews_at() == NOW + 5 * DAY
    trial = snapshot("trialing", trial_end=NOW + 2 * DAY, current_period_end=NOW + 9 * DAY)
    assert trial.renews_at() == NOW + 2 * DAY
    canceling = snapshot("active", current_period_end=NOW + 5 * DAY, cancel_at_period_end=True)
    assert canceling.renews_at() is None
    assert canceling.period_ends_at() == NOW + 5 * DAY


def test_tier_coverage():
    premium = snapshot("active", tier="premium")
    assert premium.covers(frozenset())  # no tiers listed: any paid plan
    assert premium.covers(frozenset({"premium", "gold"}))
    assert not premium.covers(frozenset({"gold"}))

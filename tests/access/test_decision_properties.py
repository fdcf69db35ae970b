"""Properties of the access decision over every combination of inputs (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from paywall.access import (
    FULL_REASONS,
    AccessLevel,
    AccessRequest,
    Action,
    ArticleAccess,
    Meter,
    ReaderState,
    Reason,
    Settings,
    decide,
)

BASE = datetime(2026, 11, 25, tzinfo=UTC)
STATUSES = [
    "active", "trialing", "past_due", "unpaid", "incomplete", "incomplete_expired",
    "canceled", "paused",
]  # fmt: skip
TIERS = ["standard", "premium", "gold"]

moments = st.integers(min_value=-400, max_value=400).map(lambda h: BASE + timedelta(hours=h * 6))
maybe_moment = st.none() | moments

readers = st.builds(
    ReaderState,
    signed_in=st.booleans(),
    email_verified=st.booleans(),
    is_staff=st.booleans(),
    comped_until=maybe_moment,
    is_comped=st.booleans(),
)
articles = st.builds(
    ArticleAccess,
    level=st.sampled_from(list(AccessLevel)),
    tiers=st.frozensets(st.sampled_from(TIERS), max_size=2),
)
subscriptions = st.none() | st.builds(
    SubscriptionSnapshot,
    status=st.sampled_from(STATUSES),
    tier=st.sampled_from(TIERS),
    current_period_end=maybe_moment,
    cancel_at_period_end=st.booleans(),
    trial_end=maybe_moment,
    payment_failed_at=maybe_moment,
)
cards = st.none() | st.builds(
    CardSnapshot,
    brand=st.just("visa"),
    last4=st.just("4242"),
    exp_month=st.integers(1, 12),
    exp_year=st.integers(2024, 2029),
)
meters = st.builds(
    Meter,
    allowance=st.integers(0, 5),
    used=st.integers(0, 6),
    counted_this_article=st.booleans(),
)
access_settings = st.builds(
    Settings,
    grace_period=st.integers(0, 14).map(lambda d: timedelta(days=d)),
    require_verified_email=st.booleans(),
)
requests = st.builds(
    AccessRequest,
    reader=readers,
    article=articles,
    now=moments,
    subscription=subscriptions,
    card=cards,
    meter=meters,
    settings=access_settings,
)

PAYMENT_PROBLEMS = {Reason.PAYMENT_FAILED, Reason.CARD_EXPIRED, Reason.PAYMENT_INCOMPLETE}
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(requests)
def test_every_input_gets_a_decision_with_a_known_reason(req):
    decision = decide(req)
    assert decision.reason in set(Reason)
    assert (decision.access == "full") == (decision.reason in FULL_REASONS)
    assert decide(req) == decision  # deterministic


@FAST
@given(requests)
def test_anonymous_readers_never_get_a_non_free_article_in_full(req):
    if not req.reader.signed_in and req.article.level is not AccessLevel.FREE:
        assert decide(req).access == "teaser"


@FAST
@given(requests)
def test_free_articles_and_staff_are_always_full(req):
    decision = decide(req)
    if req.article.level is AccessLevel.FREE:
        assert decision.is_full
    if req.reader.signed_in and req.reader.is_staff:
        assert decision.reason is Reason.STAFF


@FAST
@given(requests)
def test_without_a_live_subscription_only_the_meter_opens_a_paid_article(req):
    reader = req.reader
    paid = req.article.level in (AccessLevel.PAID, AccessLevel.TIERS)
    no_live_subscription = req.subscription is None or req.subscription.has_ended()
    comped = reader.comp_is_active(req.now)
    if paid and reader.signed_in and not reader.is_staff and no_live_subscription and not comped:
        decision = decide(req)
        assert decision.access == "teaser" or decision.reason is Reason.METERED


@FAST
@given(requests)
def test_a_teaser_always_offers_a_next_step(req):
    decision = decide(req)
    if not decision.is_full:
        assert decision.actions
    if decision.reason in PAYMENT_PROBLEMS:
        assert Action.UPDATE_CARD in decision.actions


@FAST
@given(requests)
def test_grace_only_ever_follows_a_failed_renewal(req):
    if decide(req).reason is Reason.GRACE_PERIOD:
        assert req.subscription is not None and req.subscription.status == "past_due"
        assert req.subscription.payment_failed_at is not None


@FAST
@given(requests, st.integers(1, 60))
def test_once_grace_is_over_it_does_not_come_back(req, days_later):
    if decide(req).reason is Reason.PAYMENT_FAILED:
        later = AccessRequest(
            reader=req.reader,
            article=req.article,
            now=req.now + timedelta(days=days_later),
            subscription=req.subscription,
            card=req.card,
            meter=req.meter,
            settings=req.settings,
        )
        assert decide(later).reason is not Reason.GRACE_PERIOD

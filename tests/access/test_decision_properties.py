"""Properties of the access decision over every combination of inputs (hypothesis).

The table test shows chosen cases; these check the promises that must hold for all of
them: no anonymous reader gets a paid article, a card warning never blocks, grace
never comes back once it is over, and so on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from paywall.access import (
    FULL_REASONS,
    AccessLevel,
    AccessRequest,
    Action,
    ArticleAccess,
    Decision,
    Meter,
    NoticeCode,
    ReaderState,
    Reason,
    Settings,
    decide,
)

BASE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUSES = [
    "active", "trialing", "past_due", "unpaid", "incomplete", "incomplete_expired",
    "canceled", "paused",
]  # fmt: skip
TIERS = ["standard", "premium", "gold"]
INVOICE_STATUSES = [None, "draft", "open", "paid", "uncollectible", "void"]

# Days either side of BASE, nudged by a second or a few hours so that rules comparing two
# dates meet them equal, just before and just after.
NUDGES = [timedelta(0), timedelta(seconds=-1), timedelta(seconds=1), timedelta(hours=6)]
moments = st.builds(
    lambda days, nudge: BASE + timedelta(days=days) + nudge,
    st.integers(min_value=-60, max_value=60),
    st.sampled_from(NUDGES),
)
maybe_moment = st.none() | moments

readers = st.builds(
    ReaderState,
    signed_in=st.booleans(),
    email_verified=st.booleans(),
    is_staff=st.booleans(),
    comped_until=maybe_moment,
    is_comped=st.booleans(),
)
# The reader the subscription rules are about: signed in, verified, neither staff nor comped.
customers = st.builds(ReaderState, signed_in=st.just(True), email_verified=st.just(True))
articles = st.builds(
    ArticleAccess,
    level=st.sampled_from(list(AccessLevel)),
    tiers=st.frozensets(st.sampled_from(TIERS), max_size=3),
)
paid_articles = st.builds(
    ArticleAccess,
    level=st.sampled_from([AccessLevel.PAID, AccessLevel.TIERS]),
    tiers=st.frozensets(st.sampled_from(TIERS), max_size=3),
)


def subscription_snapshots(
    status=None, cancel_at_period_end=None, payment_failed_at=maybe_moment
) -> st.SearchStrategy[SubscriptionSnapshot]:
    return st.builds(
        SubscriptionSnapshot,
        status=status if status is not None else st.sampled_from(STATUSES),
        tier=st.sampled_from(TIERS),
        plan_name=st.just("Plan"),
        current_period_end=maybe_moment,
        cancel_at_period_end=(
            cancel_at_period_end if cancel_at_period_end is not None else st.booleans()
        ),
        trial_end=maybe_moment,
        latest_invoice_status=st.sampled_from(INVOICE_STATUSES),
        payment_failed_at=payment_failed_at,
    )


def card_expiring(brand: str, last4: str, months_from_base: int) -> CardSnapshot:
    index = BASE.year * 12 + BASE.month - 1 + months_from_base
    return CardSnapshot(brand, last4, index % 12 + 1, index // 12)


BRANDS = st.sampled_from(["visa", "mastercard", "amex"])
LAST4 = st.sampled_from(["4242", "4444", "0005"])
# Any month of the years around now, and (more often) a month near now, where expiry
# meets the renewal and grace dates.
card_snapshots = st.builds(
    CardSnapshot, BRANDS, LAST4, st.integers(1, 12), st.integers(2025, 2028)
) | st.builds(card_expiring, BRANDS, LAST4, st.integers(-3, 3))
maybe_card = st.none() | card_snapshots
meters = st.builds(
    Meter,
    allowance=st.integers(0, 5),
    used=st.integers(0, 7),
    counted_this_article=st.booleans(),
)
access_settings = st.builds(
    Settings,
    grace_period=st.integers(0, 14).map(lambda days: timedelta(days=days)),
    require_verified_email=st.booleans(),
)


def access_requests(
    reader=readers, article=articles, subscription=None, meter=meters
) -> st.SearchStrategy[AccessRequest]:
    return st.builds(
        AccessRequest,
        reader=reader,
        article=article,
        now=moments,
        subscription=subscription
        if subscription is not None
        else st.none() | subscription_snapshots(),
        card=maybe_card,
        meter=meter,
        settings=access_settings,
    )


requests = access_requests()
customer_requests = access_requests(
    reader=customers, article=paid_articles, subscription=subscription_snapshots()
)
past_due_requests = access_requests(
    reader=customers,
    article=paid_articles,
    subscription=subscription_snapshots(status=st.just("past_due"), payment_failed_at=moments),
)
canceling_requests = access_requests(
    reader=customers,
    article=paid_articles,
    subscription=subscription_snapshots(cancel_at_period_end=st.just(True)),
)
later = st.sampled_from([timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)]) | st.builds(
    timedelta, days=st.integers(1, 90)
)

PAYMENT_PROBLEMS = {Reason.PAYMENT_FAILED, Reason.CARD_EXPIRED, Reason.PAYMENT_INCOMPLETE}
SUBSCRIPTION_REASONS = {Reason.SUBSCRIBER, Reason.TRIALING, Reason.CANCELING, Reason.GRACE_PERIOD}
ACTIONS_ON_FULL_ACCESS = {Action.SUBSCRIBE, Action.RESUME, Action.UPDATE_CARD}
DATED_NOTICES = {
    NoticeCode.ENDS_ON,
    NoticeCode.UPDATE_CARD_BY,
    NoticeCode.TRIAL_ENDS_ON,
    NoticeCode.CARD_EXPIRES_SOON,
    NoticeCode.CARD_EXPIRED,
}
CARD_NOTICES = {NoticeCode.CARD_EXPIRES_SOON, NoticeCode.CARD_EXPIRED}

QUICK = settings(max_examples=100, deadline=None)


def is_paid_article(req: AccessRequest) -> bool:
    return req.article.level in (AccessLevel.PAID, AccessLevel.TIERS)


# --- every input gets a well-formed answer -----------------------------------------------


@QUICK
@given(requests)
def test_every_input_gets_a_decision_with_a_known_reason(req):
    decision = decide(req)
    assert isinstance(decision, Decision)
    assert decision.reason in set(Reason)
    assert decision.access in ("full", "teaser")
    assert (decision.access == "full") is (decision.reason in FULL_REASONS) is decision.is_full
    assert decide(req) == decision  # deterministic: same inputs, same answer


@QUICK
@given(requests | customer_requests)
def test_notices_carry_the_facts_they_announce(req):
    decision = decide(req)
    for notice in decision.notices:
        if notice.code in DATED_NOTICES:
            assert notice.when is not None, notice
        if notice.code in CARD_NOTICES:
            assert notice.card is not None and notice.card == req.card
            assert notice.when == req.card.expires_at
        if notice.code is NoticeCode.METER_REMAINING:
            assert notice.count is not None and 0 <= notice.count <= req.meter.allowance


# --- who always / never reads ------------------------------------------------------------


unverified_requests = access_requests(
    reader=st.builds(ReaderState, signed_in=st.just(True), email_verified=st.just(False)),
    article=paid_articles,
)


@QUICK
@given(unverified_requests)
def test_requiring_a_verified_email_never_changes_a_paid_article(req):
    """The setting is about free-account articles; subscriptions and the meter decide the rest."""
    required = replace(req, settings=replace(req.settings, require_verified_email=True))
    not_required = replace(req, settings=replace(req.settings, require_verified_email=False))
    assert decide(required) == decide(not_required)


@QUICK
@given(requests)
def test_anonymous_readers_never_get_a_non_free_article_in_full(req):
    anonymous = replace(req, reader=replace(req.reader, signed_in=False))
    decision = decide(anonymous)
    if anonymous.article.level is AccessLevel.FREE:
        assert decision.reason is Reason.FREE_ARTICLE
    else:
        assert decision.access == "teaser"
        assert decision.reason in (Reason.ANONYMOUS, Reason.REGISTRATION_REQUIRED)
        assert Action.SIGN_IN in decision.actions
        if decision.reason is Reason.ANONYMOUS:  # the offer first: subscribing makes the account
            assert decision.actions[0] is Action.SUBSCRIBE


@QUICK
@given(requests)
def test_free_articles_are_always_full(req):
    free = replace(req, article=ArticleAccess(AccessLevel.FREE))
    assert decide(free).is_full


@QUICK
@given(requests)
def test_signed_in_staff_always_read_in_full(req):
    staff = replace(req, reader=replace(req.reader, signed_in=True, is_staff=True))
    decision = decide(staff)
    assert decision.reason is Reason.STAFF and decision.access == "full"


@QUICK
@given(requests)
def test_without_a_live_subscription_only_the_meter_opens_a_paid_article(req):
    reader, sub = req.reader, req.subscription
    no_live_subscription = sub is None or sub.has_ended_by(req.now)
    comped = reader.comp_is_active(req.now)
    gated = is_paid_article(req) and reader.signed_in and not reader.is_staff and not comped
    if gated and no_live_subscription:
        decision = decide(req)
        assert decision.access == "teaser" or decision.reason is Reason.METERED


@QUICK
@given(requests)
def test_metered_views_are_counted_honestly(req):
    decision = decide(req)
    if decision.reason is Reason.METERED:
        meter = req.meter
        assert meter.allowance > 0
        assert meter.counted_this_article or meter.used < meter.allowance
        (notice,) = decision.notices
        spent = meter.used if meter.counted_this_article else meter.used + 1
        assert notice.count == max(meter.allowance - spent, 0)


# --- what a gate offers --------------------------------------------------------------------


@QUICK
@given(requests | customer_requests)
def test_a_teaser_always_offers_a_next_step(req):
    decision = decide(req)
    if decision.access == "teaser":
        assert decision.actions
    if decision.reason in PAYMENT_PROBLEMS:
        assert Action.UPDATE_CARD in decision.actions


@QUICK
@given(requests)
def test_full_access_never_comes_with_a_blocking_reason_or_gate_buttons(req):
    decision = decide(req)
    if decision.is_full:
        assert decision.reason in FULL_REASONS
        assert decision.reason not in PAYMENT_PROBLEMS
        assert set(decision.actions) <= ACTIONS_ON_FULL_ACCESS
    else:
        assert decision.reason not in FULL_REASONS


@QUICK
@given(customer_requests)
def test_a_card_warning_always_comes_with_a_way_to_fix_it(req):
    decision = decide(req)
    if any(notice.code in CARD_NOTICES for notice in decision.notices):
        assert Action.UPDATE_CARD in decision.actions


@QUICK
@given(requests | customer_requests, maybe_card)
def test_the_card_never_decides_between_full_and_teaser(req, other_card):
    """Card warnings ride along on full access; they never block it."""
    decision = decide(req)
    with_other_card = decide(replace(req, card=other_card))
    assert with_other_card.access == decision.access
    if decision.reason in SUBSCRIPTION_REASONS:
        assert with_other_card.reason is decision.reason


# --- grace and time ------------------------------------------------------------------------


@QUICK
@given(requests | customer_requests)
def test_grace_only_ever_follows_a_failed_renewal(req):
    decision = decide(req)
    if decision.reason is Reason.GRACE_PERIOD:
        sub = req.subscription
        assert sub is not None and sub.status == "past_due"
        assert sub.payment_failed_at is not None
        assert req.now < sub.payment_failed_at + req.settings.grace_period
        assert decision.notices[0].code is NoticeCode.UPDATE_CARD_BY
        assert decision.notices[0].when == sub.payment_failed_at + req.settings.grace_period


@QUICK
@given(past_due_requests, later)
def test_once_grace_is_over_it_does_not_come_back(req, step):
    if decide(req).reason in (Reason.PAYMENT_FAILED, Reason.CARD_EXPIRED):
        assert decide(replace(req, now=req.now + step)).reason is not Reason.GRACE_PERIOD


@QUICK
@given(
    access_requests(meter=st.just(Meter()))
    | access_requests(
        reader=customers, subscription=subscription_snapshots(), meter=st.just(Meter())
    ),
    later,
)
def test_with_metering_off_access_never_reopens_by_itself(req, step):
    if decide(req).access == "teaser":
        assert decide(replace(req, now=req.now + step)).access == "teaser"


@QUICK
@given(canceling_requests, later)
def test_a_canceled_subscription_gives_nothing_once_its_period_is_over(req, step):
    ends = req.subscription.period_ends_at()
    assume(ends is not None)
    decision = decide(replace(req, now=ends + step - timedelta(seconds=1)))
    assert decision.reason in (Reason.SUBSCRIPTION_ENDED, Reason.METERED)
    assert Action.SUBSCRIBE in decision.actions

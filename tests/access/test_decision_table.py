"""Every reason code of the access decision, one readable row each, plus the boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from paywall.access import (
    ANONYMOUS,
    AccessLevel,
    AccessRequest,
    Action,
    ArticleAccess,
    Meter,
    NoticeCode,
    ReaderState,
    Reason,
    Settings,
    decide,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FREE = ArticleAccess(AccessLevel.FREE)
REGISTERED = ArticleAccess(AccessLevel.REGISTERED)
PAID = ArticleAccess(AccessLevel.PAID)
PREMIUM_ONLY = ArticleAccess(AccessLevel.TIERS, frozenset({"premium"}))
READER = ReaderState(signed_in=True, email_verified=True)
UNVERIFIED = ReaderState(signed_in=True, email_verified=False)
STAFF = ReaderState(signed_in=True, email_verified=True, is_staff=True)
GOOD_CARD = CardSnapshot("visa", "4242", 12, 2030)
EXPIRING_CARD = CardSnapshot("visa", "4242", 12, 2026)  # expires before the next renewal
EXPIRED_CARD = CardSnapshot("mastercard", "4444", 10, 2026)


def sub(status: str = "active", **kwargs) -> SubscriptionSnapshot:
    defaults = {"tier": "standard", "current_period_end": NOW + 20 * DAY}
    return SubscriptionSnapshot(status=status, **{**defaults, **kwargs})


@dataclass
class Row:
    reader: ReaderState = READER
    article: ArticleAccess = PAID
    subscription: SubscriptionSnapshot | None = None
    card: CardSnapshot | None = GOOD_CARD
    meter: Meter = field(default_factory=Meter)
    settings: Settings = field(default_factory=Settings)
    now: datetime = NOW
    # expected
    reason: Reason = Reason.SUBSCRIBER
    actions: tuple[Action, ...] = ()
    notices: tuple[NoticeCode, ...] = ()


ROWS = {
    "staff preview a paid article": Row(reader=STAFF, reason=Reason.STAFF),
    "anyone reads a free article": Row(reader=ANONYMOUS, article=FREE, reason=Reason.FREE_ARTICLE),
    "anonymous on a paid article": Row(
        reader=ANONYMOUS, reason=Reason.ANONYMOUS, actions=(Action.SIGN_IN, Action.SUBSCRIBE)
    ),
    "anonymous on a tier article": Row(
        reader=ANONYMOUS, article=PREMIUM_ONLY, reason=Reason.ANONYMOUS,
        actions=(Action.SIGN_IN, Action.SUBSCRIBE),
    ),
    "anonymous on a registered article": Row(
        reader=ANONYMOUS, article=REGISTERED, reason=Reason.REGISTRATION_REQUIRED,
        actions=(Action.SIGN_UP, Action.SIGN_IN),
    ),
    "registered reader on a registered article": Row(
        article=REGISTERED, reason=Reason.REGISTERED_READER
    ),
    "unverified reader when verification is not required": Row(
        reader=UNVERIFIED, article=REGISTERED, reason=Reason.REGISTERED_READER
    ),
    "unverified reader when verification is required": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=Settings(require_verified_email=True),
        reason=Reason.REGISTRATION_REQUIRED, actions=(Action.VERIFY_EMAIL,),
    ),
    "comped without an end date": Row(
        reader=ReaderState(signed_in=True, is_comped=True), reason=Reason.COMPED
    ),
    "comped until next week": Row(
        reader=ReaderState(signed_in=True, is_comped=True, comped_until=NOW + 7 * DAY),
        reason=Reason.COMPED, notices=(NoticeCode.ENDS_ON,),
    ),
    "comp that ended yesterday": Row(
        reader=ReaderState(signed_in=True, is_comped=True, comped_until=NOW - DAY),
        reason=Reason.NO_SUBSCRIPTION, actions=(Action.SUBSCRIBE,),
    ),
    "no subscription": Row(reason=Reason.NO_SUBSCRIPTION, actions=(Action.SUBSCRIBE,)),
    "meter has views left": Row(
        meter=Meter(allowance=3, used=1), reason=Reason.METERED, actions=(Action.SUBSCRIBE,),
        notices=(NoticeCode.METER_REMAINING,),
    ),
    "meter used up but this article was already counted": Row(
        meter=Meter(allowance=3, used=3, counted_this_article=True), reason=Reason.METERED,
        actions=(Action.SUBSCRIBE,), notices=(NoticeCode.METER_REMAINING,),
    ),
    "meter used up": Row(
        meter=Meter(allowance=3, used=3), reason=Reason.METER_EXHAUSTED, actions=(Action.SUBSCRIBE,)
    ),
    "canceled subscription": Row(
        subscription=sub("canceled"), reason=Reason.SUBSCRIPTION_ENDED, actions=(Action.SUBSCRIBE,)
    ),
    "first payment never made (incomplete_expired)": Row(
        subscription=sub("incomplete_expired"), reason=Reason.SUBSCRIPTION_ENDED,
        actions=(Action.SUBSCRIBE,),
    ),
    "former subscriber with meter views left": Row(
        subscription=sub("canceled"), meter=Meter(allowance=2), reason=Reason.METERED,
        actions=(Action.SUBSCRIBE,), notices=(NoticeCode.METER_REMAINING,),
    ),
    "standard plan on a premium article": Row(
        article=PREMIUM_ONLY, subscription=sub(), reason=Reason.PLAN_EXCLUDES_ARTICLE,
        actions=(Action.UPGRADE,),
    ),
    "premium plan on a premium article": Row(
        article=PREMIUM_ONLY, subscription=sub(tier="premium"), reason=Reason.SUBSCRIBER
    ),
    "first payment needs 3-D Secure": Row(
        subscription=sub("incomplete"), reason=Reason.PAYMENT_INCOMPLETE,
        actions=(Action.CONFIRM_PAYMENT, Action.UPDATE_CARD),
    ),
    "trial running": Row(
        subscription=sub("trialing", trial_end=NOW + 5 * DAY), reason=Reason.TRIALING,
        notices=(NoticeCode.TRIAL_ENDS_ON,),
    ),
    "trial ended an hour ago, first charge in flight": Row(
        subscription=sub("trialing", trial_end=NOW - timedelta(hours=1)), reason=Reason.TRIALING,
        notices=(NoticeCode.TRIAL_ENDS_ON,),
    ),
    "canceling, period still running": Row(
        subscription=sub(cancel_at_period_end=True), reason=Reason.CANCELING,
        actions=(Action.RESUME,), notices=(NoticeCode.ENDS_ON,),
    ),
    "active and paid up": Row(subscription=sub(), reason=Reason.SUBSCRIBER),
    "active, card expires before the renewal": Row(
        subscription=sub(current_period_end=datetime(2027, 1, 10, tzinfo=UTC)),
        card=EXPIRING_CARD, reason=Reason.SUBSCRIBER, actions=(Action.UPDATE_CARD,),
        notices=(NoticeCode.CARD_EXPIRES_SOON,),
    ),
    "active, card already expired (a warning, not a block)": Row(
        subscription=sub(), card=EXPIRED_CARD, reason=Reason.SUBSCRIBER,
        actions=(Action.UPDATE_CARD,), notices=(NoticeCode.CARD_EXPIRED,),
    ),
    "renewal failed two days ago: grace": Row(
        subscription=sub("past_due", payment_failed_at=NOW - 2 * DAY), reason=Reason.GRACE_PERIOD,
        actions=(Action.UPDATE_CARD,), notices=(NoticeCode.UPDATE_CARD_BY,),
    ),
    "renewal failed eight days ago: grace is over": Row(
        subscription=sub("past_due", payment_failed_at=NOW - 8 * DAY),
        reason=Reason.PAYMENT_FAILED, actions=(Action.UPDATE_CARD,),
    ),
    "grace over and the card has expired": Row(
        subscription=sub("past_due", payment_failed_at=NOW - 8 * DAY), card=EXPIRED_CARD,
        reason=Reason.CARD_EXPIRED, actions=(Action.UPDATE_CARD,),
        notices=(NoticeCode.CARD_EXPIRED,),
    ),
    "grace over and no card at all": Row(
        subscription=sub("past_due", payment_failed_at=NOW - 8 * DAY), card=None,
        reason=Reason.CARD_EXPIRED, actions=(Action.UPDATE_CARD,),
    ),
    "unpaid: Stripe stopped retrying": Row(
        subscription=sub("unpaid"), reason=Reason.PAYMENT_FAILED, actions=(Action.UPDATE_CARD,)
    ),
    "a shorter grace setting": Row(
        subscription=sub("past_due", payment_failed_at=NOW - 2 * DAY),
        settings=Settings(grace_period=DAY), reason=Reason.PAYMENT_FAILED,
        actions=(Action.UPDATE_CARD,),
    ),
}  # fmt: skip


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decision_table(row: Row) -> None:
    decision = decide(
        AccessRequest(
            reader=row.reader,
            article=row.article,
            now=row.now,
            subscription=row.subscription,
            card=row.card,
            meter=row.meter,
            settings=row.settings,
        )
    )
    assert decision.reason is row.reason
    assert decision.actions == row.actions
    assert tuple(n.code for n in decision.notices) == row.notices


def test_every_reason_code_has_a_row():
    assert {row.reason for row in ROWS.values()} == set(Reason)


def request(**kwargs) -> AccessRequest:
    return AccessRequest(
        **{"reader": READER, "article": PAID, "now": NOW, "card": GOOD_CARD, **kwargs}
    )


def test_grace_ends_exactly_grace_days_after_the_failure():
    failed = NOW - 7 * DAY
    subscription = sub("past_due", payment_failed_at=failed)
    just_inside = decide(request(subscription=subscription, now=NOW - timedelta(seconds=1)))
    at_the_end = decide(request(subscription=subscription, now=NOW))
    assert just_inside.reason is Reason.GRACE_PERIOD
    assert just_inside.notices[0].when == NOW
    assert at_the_end.reason is Reason.PAYMENT_FAILED


def test_canceling_access_ends_with_the_period():
    subscription = sub(cancel_at_period_end=True, current_period_end=NOW)
    before = decide(request(subscription=subscription, now=NOW - timedelta(seconds=1)))
    assert before.reason is Reason.CANCELING and before.notices[0].when == NOW
    # After the period Stripe cancels it; until the webhook lands the reader keeps reading
    # for at most the grace window, then the gate closes.
    assert decide(request(subscription=subscription, now=NOW + 8 * DAY)).is_full is False


def test_card_works_until_the_end_of_its_expiry_month():
    card = CardSnapshot("visa", "4242", 11, 2026)
    subscription = sub("past_due", payment_failed_at=NOW - 30 * DAY)
    last_moment = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    first_moment_after = datetime(2026, 12, 1, tzinfo=UTC)
    assert decide(request(subscription=subscription, card=card, now=last_moment)).reason is (
        Reason.PAYMENT_FAILED
    )
    assert decide(request(subscription=subscription, card=card, now=first_moment_after)).reason is (
        Reason.CARD_EXPIRED
    )


def test_expiring_card_notice_names_the_card():
    decision = decide(
        request(
            subscription=sub(current_period_end=datetime(2027, 1, 10, tzinfo=UTC)),
            card=EXPIRING_CARD,
        )
    )
    notice = decision.notices[0]
    assert notice.card == EXPIRING_CARD and notice.card.expiry_label == "12/26"
    assert notice.when == datetime(2027, 1, 1, tzinfo=UTC)


def test_meter_notice_counts_down():
    first = decide(request(meter=Meter(allowance=3, used=0)))
    last = decide(request(meter=Meter(allowance=3, used=2)))
    again = decide(request(meter=Meter(allowance=3, used=3, counted_this_article=True)))
    assert [d.notices[0].count for d in (first, last, again)] == [2, 0, 0]

"""Every reason code of the access decision, one readable row each, plus the boundaries.

Each row is what a reader would see: full text or teaser, the reason, the buttons
(actions) and the side messages (notices, with their dates and counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from billing.gifts import GiftGrant
from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from paywall.access import (
    ANONYMOUS,
    FULL_REASONS,
    AccessLevel,
    AccessRequest,
    Action,
    ArticleAccess,
    Meter,
    Notice,
    NoticeCode,
    ReaderState,
    Reason,
    Settings,
    decide,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
GRACE = Settings().grace_period  # seven days unless a row says otherwise

FREE = ArticleAccess(AccessLevel.FREE)
REGISTERED = ArticleAccess(AccessLevel.REGISTERED)
PAID = ArticleAccess(AccessLevel.PAID)
PREMIUM_ONLY = ArticleAccess(AccessLevel.TIERS, frozenset({"premium"}))
PREMIUM_OR_GOLD = ArticleAccess(AccessLevel.TIERS, frozenset({"premium", "gold"}))

READER = ReaderState(signed_in=True, email_verified=True)
UNVERIFIED = ReaderState(signed_in=True, email_verified=False)
STAFF = ReaderState(signed_in=True, email_verified=True, is_staff=True)
COMPED = ReaderState(signed_in=True, email_verified=True, is_comped=True)
VERIFICATION_REQUIRED = Settings(require_verified_email=True)

STANDARD_GIFT = GiftGrant("standard", NOW - DAY, NOW + 90 * DAY)
PREMIUM_GIFT = GiftGrant("premium", NOW - DAY, NOW + 90 * DAY)
GIFT_ENDS = Notice(NoticeCode.ENDS_ON, when=NOW + 90 * DAY)

GOOD_CARD = CardSnapshot("visa", "4242", 12, 2030)
EXPIRING_CARD = CardSnapshot("visa", "4242", 12, 2026)  # works until 2027-01-01 00:00 UTC
EXPIRED_CARD = CardSnapshot("mastercard", "4444", 10, 2026)  # stopped on 2026-11-01
AFTER_EXPIRING_CARD = datetime(2027, 1, 10, tzinfo=UTC)  # a renewal the card will not see

PERIOD_END = NOW + 20 * DAY
FAILED_TWO_DAYS_AGO = NOW - 2 * DAY
FAILED_EIGHT_DAYS_AGO = NOW - 8 * DAY

SUBSCRIBE = (Action.SUBSCRIBE,)
UPDATE_CARD = (Action.UPDATE_CARD,)


def sub(status: str = "active", **kwargs) -> SubscriptionSnapshot:
    """A standard-tier subscription whose current period ends in twenty days."""
    defaults = {"tier": "standard", "current_period_end": PERIOD_END}
    return SubscriptionSnapshot(status=status, **{**defaults, **kwargs})


def meter_left(count: int) -> Notice:
    return Notice(NoticeCode.METER_REMAINING, count=count)


def card_notice(code: NoticeCode, card: CardSnapshot) -> Notice:
    return Notice(code, when=card.expires_at, card=card)


@dataclass
class Row:
    # what the reader brings
    reader: ReaderState = READER
    article: ArticleAccess = PAID
    subscription: SubscriptionSnapshot | None = None
    card: CardSnapshot | None = GOOD_CARD
    gift: GiftGrant | None = None
    meter: Meter = field(default_factory=Meter)
    settings: Settings = field(default_factory=Settings)
    now: datetime = NOW
    # what the reader sees
    access: str = "full"
    reason: Reason = Reason.SUBSCRIBER
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()

    def request(self) -> AccessRequest:
        return AccessRequest(
            reader=self.reader,
            article=self.article,
            now=self.now,
            subscription=self.subscription,
            card=self.card,
            gift=self.gift,
            meter=self.meter,
            settings=self.settings,
        )


ROWS = {
    # --- staff, free, anonymous --------------------------------------------------------
    "staff previews a paid article without a subscription": Row(
        reader=STAFF, reason=Reason.STAFF,
    ),
    "staff previews a tier article even with a failed payment": Row(
        reader=STAFF, article=PREMIUM_ONLY,
        subscription=sub("unpaid"), card=EXPIRED_CARD, reason=Reason.STAFF,
    ),
    "a staff flag without a sign-in is just anonymous": Row(
        reader=ReaderState(is_staff=True), access="teaser", reason=Reason.ANONYMOUS,
        actions=(Action.SUBSCRIBE, Action.SIGN_IN),
    ),
    "anonymous reads a free article": Row(
        reader=ANONYMOUS, article=FREE, card=None, reason=Reason.FREE_ARTICLE,
    ),
    "lapsed subscriber still reads a free article": Row(
        article=FREE, subscription=sub("unpaid"), card=EXPIRED_CARD,
        reason=Reason.FREE_ARTICLE,
    ),
    "anonymous on a registered article": Row(
        reader=ANONYMOUS, article=REGISTERED, card=None,
        access="teaser", reason=Reason.REGISTRATION_REQUIRED,
        actions=(Action.SIGN_UP, Action.SIGN_IN),
    ),
    "anonymous on a paid article": Row(
        reader=ANONYMOUS, card=None, access="teaser", reason=Reason.ANONYMOUS,
        actions=(Action.SUBSCRIBE, Action.SIGN_IN),
    ),
    "anonymous on a tier article": Row(
        reader=ANONYMOUS, article=PREMIUM_ONLY, card=None,
        access="teaser", reason=Reason.ANONYMOUS, actions=(Action.SUBSCRIBE, Action.SIGN_IN),
    ),
    "anonymous gets no metered views": Row(
        reader=ANONYMOUS, card=None, meter=Meter(allowance=3),
        access="teaser", reason=Reason.ANONYMOUS, actions=(Action.SUBSCRIBE, Action.SIGN_IN),
    ),
    # --- registered articles and email verification ------------------------------------
    "registered reader on a registered article": Row(
        article=REGISTERED, reason=Reason.REGISTERED_READER,
    ),
    "unverified reader, verification not required": Row(
        reader=UNVERIFIED, article=REGISTERED, reason=Reason.REGISTERED_READER,
    ),
    "unverified reader, verification required": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=VERIFICATION_REQUIRED,
        access="teaser", reason=Reason.REGISTRATION_REQUIRED, actions=(Action.VERIFY_EMAIL,),
    ),
    "verified reader, verification required": Row(
        article=REGISTERED, settings=VERIFICATION_REQUIRED, reason=Reason.REGISTERED_READER,
    ),
    "unverified reader, verification required, metered paid article": Row(
        reader=UNVERIFIED, settings=VERIFICATION_REQUIRED, meter=Meter(allowance=3),
        reason=Reason.METERED, actions=SUBSCRIBE, notices=(meter_left(2),),
    ),
    "unverified subscriber, verification required, paid article": Row(
        reader=UNVERIFIED, settings=VERIFICATION_REQUIRED, subscription=sub(),
        reason=Reason.SUBSCRIBER,
    ),
    "unverified subscriber, verification required, registered article": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=VERIFICATION_REQUIRED,
        subscription=sub(), reason=Reason.REGISTERED_READER,
    ),
    "unverified reader in a trial, verification required, registered article": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=VERIFICATION_REQUIRED,
        subscription=sub("trialing", trial_end=NOW + 3 * DAY), reason=Reason.REGISTERED_READER,
    ),
    "unverified reader whose subscription lapsed, verification required, registered article": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=VERIFICATION_REQUIRED,
        subscription=sub("unpaid"), access="teaser", reason=Reason.REGISTRATION_REQUIRED,
        actions=(Action.VERIFY_EMAIL,),
    ),
    "unverified comped reader, verification required": Row(
        reader=ReaderState(signed_in=True, is_comped=True), settings=VERIFICATION_REQUIRED,
        reason=Reason.COMPED,
    ),
    # --- comped ------------------------------------------------------------------------
    "comped without an end date": Row(reader=COMPED, reason=Reason.COMPED),
    "comped until next week": Row(
        reader=ReaderState(signed_in=True, is_comped=True, comped_until=NOW + 7 * DAY),
        reason=Reason.COMPED, notices=(Notice(NoticeCode.ENDS_ON, when=NOW + 7 * DAY),),
    ),
    "comped reader whose card failed still reads": Row(
        reader=COMPED, subscription=sub("past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO),
        reason=Reason.COMPED,
    ),
    "comp ended yesterday": Row(
        reader=ReaderState(signed_in=True, is_comped=True, comped_until=NOW - DAY),
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "comp end date without the comp flag": Row(
        reader=ReaderState(signed_in=True, comped_until=NOW + DAY),
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    # --- a redeemed gift: its plan's tier until its months end ---------------------------
    "gift reads a paid article": Row(
        gift=STANDARD_GIFT, card=None, reason=Reason.GIFT, notices=(GIFT_ENDS,),
    ),
    "gift reads its own tier's article": Row(
        gift=PREMIUM_GIFT, article=PREMIUM_OR_GOLD, card=None, reason=Reason.GIFT,
        notices=(GIFT_ENDS,),
    ),
    "gift of another tier: upgrade, never the meter": Row(
        gift=STANDARD_GIFT, article=PREMIUM_ONLY, card=None, meter=Meter(allowance=3),
        access="teaser", reason=Reason.PLAN_EXCLUDES_ARTICLE, actions=(Action.UPGRADE,),
    ),
    "gift of another tier, with a subscription of that tier": Row(
        gift=STANDARD_GIFT, article=PREMIUM_ONLY, subscription=sub(tier="premium"),
        reason=Reason.SUBSCRIBER,
    ),
    "gift reads on while the reader's own subscription failed": Row(
        gift=STANDARD_GIFT, subscription=sub("unpaid"), reason=Reason.GIFT, notices=(GIFT_ENDS,),
    ),
    "gift that starts after the one running now": Row(
        gift=GiftGrant("standard", NOW + DAY, NOW + 30 * DAY), card=None,
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "gift that ended": Row(
        gift=GiftGrant("standard", NOW - 30 * DAY, NOW - DAY), card=None,
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "unverified reader on a gift, verification required": Row(
        reader=UNVERIFIED, article=REGISTERED, settings=VERIFICATION_REQUIRED,
        gift=STANDARD_GIFT, reason=Reason.REGISTERED_READER,
    ),
    # --- no subscription and the meter -------------------------------------------------
    "no subscription, metering off": Row(
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "no subscription, no card": Row(
        card=None, access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "first metered view of three": Row(
        meter=Meter(allowance=3, used=0), reason=Reason.METERED, actions=SUBSCRIBE,
        notices=(meter_left(2),),
    ),
    "last metered view": Row(
        meter=Meter(allowance=3, used=2), reason=Reason.METERED, actions=SUBSCRIBE,
        notices=(meter_left(0),),
    ),
    "re-reading a counted article does not spend a view": Row(
        meter=Meter(allowance=3, used=1, counted_this_article=True), reason=Reason.METERED,
        actions=SUBSCRIBE, notices=(meter_left(2),),
    ),
    "meter used up but this article was already counted": Row(
        meter=Meter(allowance=3, used=3, counted_this_article=True), reason=Reason.METERED,
        actions=SUBSCRIBE, notices=(meter_left(0),),
    ),
    "meter used up": Row(
        meter=Meter(allowance=3, used=3),
        access="teaser", reason=Reason.METER_EXHAUSTED, actions=SUBSCRIBE,
    ),
    "metering off ignores a stale counted flag": Row(
        meter=Meter(allowance=0, counted_this_article=True),
        access="teaser", reason=Reason.NO_SUBSCRIPTION, actions=SUBSCRIBE,
    ),
    "meter opens a tier article too": Row(
        article=PREMIUM_ONLY, meter=Meter(allowance=3, used=1), reason=Reason.METERED,
        actions=SUBSCRIBE, notices=(meter_left(1),),
    ),
    # --- ended subscriptions -----------------------------------------------------------
    "canceled subscription": Row(
        subscription=sub("canceled"),
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "first payment never made (incomplete_expired)": Row(
        subscription=sub("incomplete_expired"),
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "canceled, meter still has views": Row(
        subscription=sub("canceled"), meter=Meter(allowance=2), reason=Reason.METERED,
        actions=SUBSCRIBE, notices=(meter_left(1),),
    ),
    "incomplete_expired, meter still has views": Row(
        subscription=sub("incomplete_expired"), meter=Meter(allowance=2, used=1),
        reason=Reason.METERED, actions=SUBSCRIBE, notices=(meter_left(0),),
    ),
    "canceled, meter used up": Row(
        subscription=sub("canceled"), meter=Meter(allowance=2, used=2),
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    # --- plan tiers --------------------------------------------------------------------
    "standard plan on a premium article": Row(
        article=PREMIUM_ONLY, subscription=sub(),
        access="teaser", reason=Reason.PLAN_EXCLUDES_ARTICLE, actions=(Action.UPGRADE,),
    ),
    "premium plan on a premium article": Row(
        article=PREMIUM_ONLY, subscription=sub(tier="premium"), reason=Reason.SUBSCRIBER,
    ),
    "gold plan on a premium-or-gold article": Row(
        article=PREMIUM_OR_GOLD, subscription=sub(tier="gold"), reason=Reason.SUBSCRIBER,
    ),
    "tier article with no tiers listed: any plan": Row(
        article=ArticleAccess(AccessLevel.TIERS), subscription=sub(), reason=Reason.SUBSCRIBER,
    ),
    "tiers are ignored on a plain paid article": Row(
        article=ArticleAccess(AccessLevel.PAID, frozenset({"premium"})), subscription=sub(),
        reason=Reason.SUBSCRIBER,
    ),
    # --- first payment -----------------------------------------------------------------
    "first payment needs 3-D Secure": Row(
        subscription=sub("incomplete", latest_invoice_status="open"),
        access="teaser", reason=Reason.PAYMENT_INCOMPLETE,
        actions=(Action.CONFIRM_PAYMENT, Action.UPDATE_CARD),
    ),
    # --- paused by Stripe (status_details.paused) -----------------------------------------
    "paused after a failed payment: update the card": Row(
        subscription=sub("paused", pause_reason="final_payment_failure"),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "paused after a failed first payment, no card on file": Row(
        subscription=sub("paused", pause_reason="first_payment_failure"), card=None,
        access="teaser", reason=Reason.CARD_EXPIRED, actions=UPDATE_CARD,
    ),
    "paused on request: its own state, never 'confirm a payment'": Row(
        subscription=sub("paused", pause_reason="pause_requested"),
        access="teaser", reason=Reason.PAUSED, actions=(Action.RESUME,),
    ),
    # --- a renewal waiting for 3-D Secure ---------------------------------------------------
    "renewal needs 3-D Secure, in grace: confirm first": Row(
        subscription=sub(
            "past_due", payment_failed_at=FAILED_TWO_DAYS_AGO, latest_payment_needs_action=True
        ),
        reason=Reason.GRACE_PERIOD, actions=(Action.CONFIRM_PAYMENT, Action.UPDATE_CARD),
        notices=(Notice(NoticeCode.CONFIRM_PAYMENT_BY, when=FAILED_TWO_DAYS_AGO + GRACE),),
    ),
    "renewal needs 3-D Secure, grace over: confirm first": Row(
        subscription=sub(
            "past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO, latest_payment_needs_action=True
        ),
        access="teaser", reason=Reason.PAYMENT_FAILED,
        actions=(Action.CONFIRM_PAYMENT, Action.UPDATE_CARD),
    ),
    # --- ending on a date: cancel_at, pause_collection ------------------------------------
    "cancel_at ahead: ends on that day, resumable": Row(
        subscription=sub(cancel_at=NOW + 3 * DAY), reason=Reason.CANCELING,
        actions=(Action.RESUME,), notices=(Notice(NoticeCode.ENDS_ON, when=NOW + 3 * DAY),),
    ),
    "cancel_at passed": Row(
        subscription=sub(cancel_at=NOW - SECOND), access="teaser",
        reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "collection paused: reads to the period end, not resumable by the reader": Row(
        subscription=sub(collection_paused=True), reason=Reason.CANCELING,
        notices=(Notice(NoticeCode.ENDS_ON, when=PERIOD_END),),
    ),
    "collection paused and the period is over": Row(
        subscription=sub(collection_paused=True), now=PERIOD_END, access="teaser",
        reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "canceled after a disputed payment: says why": Row(
        subscription=sub("canceled", disputed=True), access="teaser",
        reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
        notices=(Notice(NoticeCode.PAYMENT_DISPUTED),),
    ),
    # --- trials ------------------------------------------------------------------------
    "trial running": Row(
        subscription=sub("trialing", trial_end=NOW + 5 * DAY), reason=Reason.TRIALING,
        notices=(Notice(NoticeCode.TRIAL_ENDS_ON, when=NOW + 5 * DAY),),
    ),
    "trial without an end date": Row(
        subscription=sub("trialing"), reason=Reason.TRIALING,
    ),
    "trial ended an hour ago, first charge in flight": Row(
        subscription=sub("trialing", trial_end=NOW - timedelta(hours=1)), reason=Reason.TRIALING,
        notices=(Notice(NoticeCode.TRIAL_ENDS_ON, when=NOW - timedelta(hours=1)),),
    ),
    "trial, card expires before the first charge": Row(
        subscription=sub("trialing", trial_end=AFTER_EXPIRING_CARD), card=EXPIRING_CARD,
        reason=Reason.TRIALING, actions=UPDATE_CARD,
        notices=(
            Notice(NoticeCode.TRIAL_ENDS_ON, when=AFTER_EXPIRING_CARD),
            card_notice(NoticeCode.CARD_EXPIRES_SOON, EXPIRING_CARD),
        ),
    ),
    "trial canceled and over: the gate closes": Row(
        subscription=sub(
            "trialing", trial_end=NOW - timedelta(hours=1), cancel_at_period_end=True
        ),
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    # --- canceling ---------------------------------------------------------------------
    "canceling, period still running": Row(
        subscription=sub(cancel_at_period_end=True), reason=Reason.CANCELING,
        actions=(Action.RESUME,), notices=(Notice(NoticeCode.ENDS_ON, when=PERIOD_END),),
    ),
    "canceling with an expired card: no renewal, no card nag": Row(
        subscription=sub(cancel_at_period_end=True), card=EXPIRED_CARD, reason=Reason.CANCELING,
        actions=(Action.RESUME,), notices=(Notice(NoticeCode.ENDS_ON, when=PERIOD_END),),
    ),
    "canceled at period end an hour ago, webhook not in yet": Row(
        subscription=sub(cancel_at_period_end=True, current_period_end=NOW - timedelta(hours=1)),
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "canceled at period end, no card: not a card problem": Row(
        subscription=sub(cancel_at_period_end=True, current_period_end=NOW - DAY), card=None,
        access="teaser", reason=Reason.SUBSCRIPTION_ENDED, actions=SUBSCRIBE,
    ),
    "canceled at period end, meter still has views": Row(
        subscription=sub(cancel_at_period_end=True, current_period_end=NOW - DAY),
        meter=Meter(allowance=3), reason=Reason.METERED, actions=SUBSCRIBE,
        notices=(meter_left(2),),
    ),
    # --- active ------------------------------------------------------------------------
    "active and paid up": Row(subscription=sub(), reason=Reason.SUBSCRIBER),
    "active, no card on file, paid up": Row(
        subscription=sub(), card=None, reason=Reason.SUBSCRIBER,
    ),
    "active, period ended an hour ago, renewal in flight": Row(
        subscription=sub(current_period_end=NOW - timedelta(hours=1)), reason=Reason.SUBSCRIBER,
    ),
    "active, card expires before the renewal (a warning, not a block)": Row(
        subscription=sub(current_period_end=AFTER_EXPIRING_CARD), card=EXPIRING_CARD,
        reason=Reason.SUBSCRIBER, actions=UPDATE_CARD,
        notices=(card_notice(NoticeCode.CARD_EXPIRES_SOON, EXPIRING_CARD),),
    ),
    "active, card expires after the renewal: no warning": Row(
        subscription=sub(), card=EXPIRING_CARD, reason=Reason.SUBSCRIBER,
    ),
    "active, card already expired (a warning, not a block)": Row(
        subscription=sub(), card=EXPIRED_CARD, reason=Reason.SUBSCRIBER, actions=UPDATE_CARD,
        notices=(card_notice(NoticeCode.CARD_EXPIRED, EXPIRED_CARD),),
    ),
    # --- failed renewals ---------------------------------------------------------------
    "renewal failed two days ago: grace": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_TWO_DAYS_AGO),
        reason=Reason.GRACE_PERIOD, actions=UPDATE_CARD,
        notices=(Notice(NoticeCode.UPDATE_CARD_BY, when=FAILED_TWO_DAYS_AGO + GRACE),),
    ),
    "grace with an expired card says both": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_TWO_DAYS_AGO), card=EXPIRED_CARD,
        reason=Reason.GRACE_PERIOD, actions=UPDATE_CARD,
        notices=(
            Notice(NoticeCode.UPDATE_CARD_BY, when=FAILED_TWO_DAYS_AGO + GRACE),
            card_notice(NoticeCode.CARD_EXPIRED, EXPIRED_CARD),
        ),
    ),
    "a longer grace setting moves the deadline": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO),
        settings=Settings(grace_period=14 * DAY), reason=Reason.GRACE_PERIOD, actions=UPDATE_CARD,
        notices=(Notice(NoticeCode.UPDATE_CARD_BY, when=FAILED_EIGHT_DAYS_AGO + 14 * DAY),),
    ),
    "renewal failed eight days ago: grace is over": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "a shorter grace setting": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_TWO_DAYS_AGO),
        settings=Settings(grace_period=DAY),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "no grace configured": Row(
        subscription=sub("past_due", payment_failed_at=NOW - SECOND),
        settings=Settings(grace_period=timedelta(0)),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "past due with no failure time on record: no grace": Row(
        subscription=sub("past_due"),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "grace over and the card has expired": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO), card=EXPIRED_CARD,
        access="teaser", reason=Reason.CARD_EXPIRED, actions=UPDATE_CARD,
        notices=(card_notice(NoticeCode.CARD_EXPIRED, EXPIRED_CARD),),
    ),
    "grace over and no card at all": Row(
        subscription=sub("past_due", payment_failed_at=FAILED_EIGHT_DAYS_AGO), card=None,
        access="teaser", reason=Reason.CARD_EXPIRED, actions=UPDATE_CARD,
    ),
    "unpaid: Stripe stopped retrying": Row(
        subscription=sub("unpaid"),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
    "unpaid with an expired card": Row(
        subscription=sub("unpaid"), card=EXPIRED_CARD,
        access="teaser", reason=Reason.CARD_EXPIRED, actions=UPDATE_CARD,
        notices=(card_notice(NoticeCode.CARD_EXPIRED, EXPIRED_CARD),),
    ),
    "unpaid keeps failing even with meter views left": Row(
        subscription=sub("unpaid"), meter=Meter(allowance=3),
        access="teaser", reason=Reason.PAYMENT_FAILED, actions=UPDATE_CARD,
    ),
}  # fmt: skip


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decision_table(row: Row) -> None:
    decision = decide(row.request())
    assert (decision.reason, decision.access) == (row.reason, row.access)
    assert decision.is_full is (row.access == "full")
    assert decision.actions == row.actions
    assert decision.notices == row.notices


def test_every_reason_code_has_a_row():
    assert {row.reason for row in ROWS.values()} == set(Reason)


def test_the_table_agrees_with_the_design_on_which_reasons_are_full():
    full_in_design = {
        "free_article", "registered_reader", "subscriber", "trialing", "canceling",
        "grace_period", "comped", "gift", "staff", "metered",
    }  # fmt: skip
    assert {str(reason) for reason in FULL_REASONS} == full_in_design
    assert len(Reason) == 20


# --- boundaries: the exact instant a deadline passes ---------------------------------


def request(**kwargs) -> AccessRequest:
    defaults = {"reader": READER, "article": PAID, "card": GOOD_CARD, "now": NOW}
    return AccessRequest(**{**defaults, **kwargs})


def reasons_either_side(instant: datetime, **kwargs) -> tuple[Reason, Reason]:
    """The reason one second before ``instant`` and at ``instant`` itself."""
    before = decide(request(now=instant - SECOND, **kwargs)).reason
    at = decide(request(now=instant, **kwargs)).reason
    return before, at


def test_grace_ends_exactly_grace_days_after_the_failure():
    failed = NOW - 7 * DAY
    subscription = sub("past_due", payment_failed_at=failed)
    assert reasons_either_side(failed + GRACE, subscription=subscription) == (
        Reason.GRACE_PERIOD,
        Reason.PAYMENT_FAILED,
    )
    notice = decide(request(subscription=subscription, now=NOW - SECOND)).notices[0]
    assert notice == Notice(NoticeCode.UPDATE_CARD_BY, when=failed + GRACE)


def test_grace_starts_at_the_failure_not_at_the_period_end():
    # Stripe rolls the period forward before it charges, so the period end is a month away.
    subscription = sub("past_due", payment_failed_at=NOW, current_period_end=NOW + 30 * DAY)
    assert decide(request(subscription=subscription, now=NOW + GRACE - SECOND)).is_full
    assert not decide(request(subscription=subscription, now=NOW + GRACE)).is_full


def test_canceling_access_ends_exactly_at_the_period_end():
    subscription = sub(cancel_at_period_end=True, current_period_end=NOW)
    assert reasons_either_side(NOW, subscription=subscription) == (
        Reason.CANCELING,
        Reason.SUBSCRIPTION_ENDED,
    )
    for later in (timedelta(hours=1), 3 * DAY, 8 * DAY, 60 * DAY):
        assert decide(request(subscription=subscription, now=NOW + later)).reason is (
            Reason.SUBSCRIPTION_ENDED
        )


def test_active_renewal_gets_the_grace_window_to_report_back_then_closes():
    subscription = sub(current_period_end=NOW)
    assert reasons_either_side(NOW, subscription=subscription) == (
        Reason.SUBSCRIBER,
        Reason.SUBSCRIBER,
    )
    assert reasons_either_side(NOW + GRACE, subscription=subscription) == (
        Reason.SUBSCRIBER,
        Reason.PAYMENT_FAILED,
    )


def test_trial_ends_then_its_first_charge_has_the_grace_window():
    subscription = sub("trialing", trial_end=NOW)
    assert reasons_either_side(NOW + GRACE, subscription=subscription) == (
        Reason.TRIALING,
        Reason.PAYMENT_FAILED,
    )


def test_comp_ends_exactly_at_its_end_date():
    reader = ReaderState(signed_in=True, email_verified=True, is_comped=True, comped_until=NOW)
    assert reasons_either_side(NOW, reader=reader) == (Reason.COMPED, Reason.NO_SUBSCRIPTION)


def test_a_gift_ends_exactly_when_its_months_end():
    gift = GiftGrant("standard", NOW - 90 * DAY, NOW)
    assert reasons_either_side(NOW, gift=gift) == (Reason.GIFT, Reason.NO_SUBSCRIPTION)
    assert reasons_either_side(NOW - 90 * DAY, gift=gift) == (Reason.NO_SUBSCRIPTION, Reason.GIFT)


def test_card_works_until_the_end_of_its_expiry_month():
    card = CardSnapshot("visa", "4242", 11, 2026)
    subscription = sub("past_due", payment_failed_at=NOW - 30 * DAY)
    first_moment_after = datetime(2026, 12, 1, tzinfo=UTC)
    assert reasons_either_side(first_moment_after, subscription=subscription, card=card) == (
        Reason.PAYMENT_FAILED,
        Reason.CARD_EXPIRED,
    )


def test_card_expiring_at_the_renewal_instant_is_warned_about():
    card = CardSnapshot("visa", "4242", 12, 2026)
    at_expiry = decide(request(subscription=sub(current_period_end=card.expires_at), card=card))
    a_second_early = decide(
        request(subscription=sub(current_period_end=card.expires_at - SECOND), card=card)
    )
    assert at_expiry.reason is Reason.SUBSCRIBER
    assert [n.code for n in at_expiry.notices] == [NoticeCode.CARD_EXPIRES_SOON]
    assert at_expiry.actions == UPDATE_CARD
    assert a_second_early.notices == () and a_second_early.actions == ()


def test_card_notice_changes_from_expiring_to_expired_at_the_end_of_the_month():
    card = CardSnapshot("visa", "4242", 11, 2026)
    subscription = sub(current_period_end=datetime(2026, 12, 15, tzinfo=UTC))
    expiry = datetime(2026, 12, 1, tzinfo=UTC)
    before = decide(request(subscription=subscription, card=card, now=expiry - SECOND))
    after = decide(request(subscription=subscription, card=card, now=expiry))
    assert before.notices == (card_notice(NoticeCode.CARD_EXPIRES_SOON, card),)
    assert after.notices == (card_notice(NoticeCode.CARD_EXPIRED, card),)
    assert before.reason is after.reason is Reason.SUBSCRIBER


def test_expiring_card_notice_names_the_card_as_printed():
    decision = decide(
        request(subscription=sub(current_period_end=AFTER_EXPIRING_CARD), card=EXPIRING_CARD)
    )
    (notice,) = decision.notices
    assert notice.card is not None
    assert (notice.card.last4, notice.card.expiry_label) == ("4242", "12/26")

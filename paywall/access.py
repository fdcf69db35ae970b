"""The access decision: may this reader read this article in full now, and if not, why.

A pure function of plain inputs: no Flask, no database, no Stripe, no clock of its own.
The rules are an ordered table; each rule returns a :class:`Decision` or ``None`` and
the first that answers wins, so reading :data:`RULES` top to bottom explains any result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from billing import CardSnapshot, GiftGrant, SubscriptionSnapshot


class AccessLevel(StrEnum):
    """Who an article is for."""

    FREE = "free"
    REGISTERED = "registered"
    PAID = "paid"
    TIERS = "tiers"  # only the plan tiers listed on the article


class Reason(StrEnum):
    """Stable reason codes shared by the pages, the JSON API and the tests."""

    # full access
    FREE_ARTICLE = "free_article"
    REGISTERED_READER = "registered_reader"
    SUBSCRIBER = "subscriber"
    TRIALING = "trialing"
    CANCELING = "canceling"
    GRACE_PERIOD = "grace_period"
    COMPED = "comped"
    GIFT = "gift"
    STAFF = "staff"
    METERED = "metered"
    # teaser only
    ANONYMOUS = "anonymous"
    REGISTRATION_REQUIRED = "registration_required"
    NO_SUBSCRIPTION = "no_subscription"
    METER_EXHAUSTED = "meter_exhausted"
    PAYMENT_FAILED = "payment_failed"
    CARD_EXPIRED = "card_expired"
    PAYMENT_INCOMPLETE = "payment_incomplete"
    SUBSCRIPTION_ENDED = "subscription_ended"
    PLAN_EXCLUDES_ARTICLE = "plan_excludes_article"
    PAUSED = "paused"


FULL_REASONS = frozenset(
    {
        Reason.FREE_ARTICLE,
        Reason.REGISTERED_READER,
        Reason.SUBSCRIBER,
        Reason.TRIALING,
        Reason.CANCELING,
        Reason.GRACE_PERIOD,
        Reason.COMPED,
        Reason.GIFT,
        Reason.STAFF,
        Reason.METERED,
    }
)


class Action(StrEnum):
    """Next steps a gate or notice offers; the web layer maps each to a URL and a label."""

    SIGN_IN = "sign_in"
    SIGN_UP = "sign_up"
    VERIFY_EMAIL = "verify_email"
    SUBSCRIBE = "subscribe"
    UPGRADE = "upgrade"
    UPDATE_CARD = "update_card"
    CONFIRM_PAYMENT = "confirm_payment"
    RESUME = "resume"


class NoticeCode(StrEnum):
    """Side messages shown with a decision (never a block on their own)."""

    ENDS_ON = "ends_on"
    UPDATE_CARD_BY = "update_card_by"
    CARD_EXPIRES_SOON = "card_expires_soon"
    CARD_EXPIRED = "card_expired"
    METER_REMAINING = "meter_remaining"
    TRIAL_ENDS_ON = "trial_ends_on"
    CONFIRM_PAYMENT_BY = "confirm_payment_by"
    PAYMENT_DISPUTED = "payment_disputed"


@dataclass(frozen=True, slots=True)
class Notice:
    """A message riding on a decision; ``when``/``count``/``card`` carry its facts."""

    code: NoticeCode
    when: datetime | None = None
    count: int | None = None
    card: CardSnapshot | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: full text or teaser, the reason code, next steps and notices."""

    reason: Reason
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def access(self) -> str:
        """``"full"`` or ``"teaser"``."""
        return "full" if self.reason in FULL_REASONS else "teaser"

    @property
    def is_full(self) -> bool:
        return self.reason in FULL_REASONS


@dataclass(frozen=True, slots=True)
class ReaderState:
    """What the decision needs to know about the reader."""

    signed_in: bool = False
    email_verified: bool = False
    is_staff: bool = False
    comped_until: datetime | None = None  # set when comped; ``None`` with is_comped: open-ended
    is_comped: bool = False

    def comp_is_active(self, now: datetime) -> bool:
        """Complimentary access granted and not yet over."""
        return self.is_comped and (self.comped_until is None or now < self.comped_until)


ANONYMOUS = ReaderState()


@dataclass(frozen=True, slots=True)
class ArticleAccess:
    """An article's access level; ``tiers`` is only read for :attr:`AccessLevel.TIERS`."""

    level: AccessLevel
    tiers: frozenset[str] = frozenset()

    @property
    def required_tiers(self) -> frozenset[str]:
        return self.tiers if self.level is AccessLevel.TIERS else frozenset()


@dataclass(frozen=True, slots=True)
class Meter:
    """Free views of paid articles this period; ``allowance`` 0 turns metering off."""

    allowance: int = 0
    used: int = 0
    counted_this_article: bool = False  # this article was already viewed this period

    def has_view_for_this_article(self) -> bool:
        return self.allowance > 0 and (self.counted_this_article or self.used < self.allowance)

    def remaining_after_this_view(self) -> int:
        spent = self.used if self.counted_this_article else self.used + 1
        return max(self.allowance - spent, 0)


@dataclass(frozen=True, slots=True)
class Settings:
    """Publisher settings the decision reads."""

    grace_period: timedelta = timedelta(days=7)
    require_verified_email: bool = False


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Every input of the decision, as plain values."""

    reader: ReaderState
    article: ArticleAccess
    now: datetime
    subscription: SubscriptionSnapshot | None = None
    card: CardSnapshot | None = None
    gift: GiftGrant | None = None  # the redeemed gift running now, if any
    meter: Meter = field(default_factory=Meter)
    settings: Settings = field(default_factory=Settings)


Rule = Callable[[AccessRequest], Decision | None]


def _needs_subscription(req: AccessRequest) -> bool:
    return req.article.level in (AccessLevel.PAID, AccessLevel.TIERS)


def _card_is_usable(req: AccessRequest) -> bool:
    return req.card is not None and not req.card.is_expired(req.now)


def _card_notices(req: AccessRequest) -> tuple[Notice, ...]:
    """Warn, never block, about a card that will not pay the next renewal."""
    sub, card = req.subscription, req.card
    if sub is None or card is None:
        return ()
    if card.is_expired(req.now):
        return (Notice(NoticeCode.CARD_EXPIRED, when=card.expires_at, card=card),)
    renewal = sub.renews_at()
    if renewal is not None and card.expires_before(renewal):
        return (Notice(NoticeCode.CARD_EXPIRES_SOON, when=card.expires_at, card=card),)
    return ()


def _renewal_in_flight(req: AccessRequest, period_end: datetime | None) -> bool:
    """The period ended moments ago and Stripe has not yet told us how renewal went."""
    return period_end is not None and req.now < period_end + req.settings.grace_period


def _gift_runs(req: AccessRequest) -> bool:
    return req.gift is not None and req.gift.runs_at(req.now)


def _subscription_gives_access(req: AccessRequest) -> bool:
    """Paid up, in a trial or within the grace window after a failed renewal."""
    sub = req.subscription
    return sub is not None and (
        sub.is_paid_up(req.now)
        or sub.on_trial(req.now)
        or sub.in_grace(req.now, req.settings.grace_period)
    )


# --- the rules, in order ---------------------------------------------------------------


def staff_preview(req: AccessRequest) -> Decision | None:
    """Editors and admins read everything."""
    return Decision(Reason.STAFF) if req.reader.signed_in and req.reader.is_staff else None


def free_article(req: AccessRequest) -> Decision | None:
    """Free articles are open to all."""
    return Decision(Reason.FREE_ARTICLE) if req.article.level is AccessLevel.FREE else None


def anonymous_reader(req: AccessRequest) -> Decision | None:
    """Nobody signed in: ask for an account (registered articles) or a subscription, which
    comes first: subscribing makes the account in the same step (readers who have one
    sign in)."""
    if req.reader.signed_in:
        return None
    if req.article.level is AccessLevel.REGISTERED:
        return Decision(Reason.REGISTRATION_REQUIRED, (Action.SIGN_UP, Action.SIGN_IN))
    return Decision(Reason.ANONYMOUS, (Action.SUBSCRIBE, Action.SIGN_IN))


def unverified_email(req: AccessRequest) -> Decision | None:
    """When the publisher requires it, an account opens free-account articles only once its
    email is confirmed. Paid articles are the subscription's and the meter's business, and
    a reader whose subscription gives access (or who is comped, or reads on a gift) is
    never held back."""
    if (
        req.article.level is not AccessLevel.REGISTERED
        or not req.settings.require_verified_email
        or req.reader.email_verified
        or req.reader.comp_is_active(req.now)
        or _gift_runs(req)
        or _subscription_gives_access(req)
    ):
        return None
    return Decision(Reason.REGISTRATION_REQUIRED, (Action.VERIFY_EMAIL,))


def registered_article(req: AccessRequest) -> Decision | None:
    """Articles for registered readers open to any signed-in reader."""
    if req.article.level is not AccessLevel.REGISTERED:
        return None
    return Decision(Reason.REGISTERED_READER)


def comped_reader(req: AccessRequest) -> Decision | None:
    """Complimentary access granted by the publisher, until its end date."""
    if not req.reader.comp_is_active(req.now):
        return None
    notices = (
        ()
        if req.reader.comped_until is None
        else (Notice(NoticeCode.ENDS_ON, when=req.reader.comped_until),)
    )
    return Decision(Reason.COMPED, notices=notices)


def gifted_reader(req: AccessRequest) -> Decision | None:
    """A redeemed gift opens its plan's tier (and paid articles, as a subscription to its
    plan would) until its months end. Another tier's article is left to a live
    subscription, if the reader has one; else the gift's plan does not include it."""
    gift = req.gift
    if gift is None or not gift.runs_at(req.now):
        return None
    if gift.covers(req.article.required_tiers):
        return Decision(Reason.GIFT, notices=(Notice(NoticeCode.ENDS_ON, when=gift.ends),))
    sub = req.subscription
    if sub is not None and not sub.has_ended_by(req.now):
        return None
    return Decision(Reason.PLAN_EXCLUDES_ARTICLE, (Action.UPGRADE,))


def without_live_subscription(req: AccessRequest) -> Decision | None:
    """No subscription, or one that ended or ran out after a cancel: the meter may open it."""
    sub = req.subscription
    if sub is not None and not sub.has_ended_by(req.now):
        return None
    if req.meter.has_view_for_this_article():
        remaining = Notice(NoticeCode.METER_REMAINING, count=req.meter.remaining_after_this_view())
        return Decision(Reason.METERED, (Action.SUBSCRIBE,), (remaining,))
    if sub is not None:
        disputed = (Notice(NoticeCode.PAYMENT_DISPUTED),) if sub.disputed else ()
        return Decision(Reason.SUBSCRIPTION_ENDED, (Action.SUBSCRIBE,), disputed)
    if req.meter.allowance > 0:
        return Decision(Reason.METER_EXHAUSTED, (Action.SUBSCRIBE,))
    return Decision(Reason.NO_SUBSCRIPTION, (Action.SUBSCRIBE,))


def plan_excludes_article(req: AccessRequest) -> Decision | None:
    """The reader's plan tier is not among the article's tiers."""
    assert req.subscription is not None
    if req.subscription.covers(req.article.required_tiers):
        return None
    return Decision(Reason.PLAN_EXCLUDES_ARTICLE, (Action.UPGRADE,))


def incomplete_payment(req: AccessRequest) -> Decision | None:
    """The first payment needs 3-D Secure or failed: finish it or use another card."""
    assert req.subscription is not None
    if not req.subscription.has_incomplete_payment():
        return None
    return Decision(Reason.PAYMENT_INCOMPLETE, (Action.CONFIRM_PAYMENT, Action.UPDATE_CARD))


def paused(req: AccessRequest) -> Decision | None:
    """Stripe paused the subscription: after a failed payment the card is the thing to fix;
    a requested pause is its own state, resumed on request (never "confirm a payment")."""
    sub = req.subscription
    assert sub is not None
    if not sub.is_paused():
        return None
    if sub.paused_on_request():
        return Decision(Reason.PAUSED, (Action.RESUME,))
    if not _card_is_usable(req):
        return card_expired(req)
    return Decision(Reason.PAYMENT_FAILED, (Action.UPDATE_CARD,))


def trialing(req: AccessRequest) -> Decision | None:
    """In a trial (or its renewal is being charged right now)."""
    sub = req.subscription
    assert sub is not None
    if not sub.is_trialing() or not (
        sub.on_trial(req.now) or _renewal_in_flight(req, sub.trial_end)
    ):
        return None
    notices = (Notice(NoticeCode.TRIAL_ENDS_ON, when=sub.trial_end),) if sub.trial_end else ()
    card_notices = _card_notices(req)
    actions = (Action.UPDATE_CARD,) if card_notices else ()
    return Decision(Reason.TRIALING, actions, (*notices, *card_notices))


def canceling(req: AccessRequest) -> Decision | None:
    """Set to end (at period end, at ``cancel_at``, or collection paused): read until then,
    with a way to resume when the reader may undo it."""
    sub = req.subscription
    assert sub is not None
    if not sub.is_canceling(req.now):
        return None
    ends = sub.ends_at()
    notices = (Notice(NoticeCode.ENDS_ON, when=ends),) if ends else ()
    actions = (Action.RESUME,) if sub.can_resume() else ()
    return Decision(Reason.CANCELING, actions, notices)


def paid_up(req: AccessRequest) -> Decision | None:
    """Active and paid for this period (or the renewal is in flight right now)."""
    sub = req.subscription
    assert sub is not None
    if not (
        sub.is_paid_up(req.now)
        or (sub.is_active() and _renewal_in_flight(req, sub.current_period_end))
    ):
        return None
    notices = _card_notices(req)
    actions = (Action.UPDATE_CARD,) if notices else ()
    return Decision(Reason.SUBSCRIBER, actions, notices)


def grace_period(req: AccessRequest) -> Decision | None:
    """A renewal failed but the grace window is open: read on, and fix the card by then."""
    sub = req.subscription
    assert sub is not None
    if not sub.in_grace(req.now, req.settings.grace_period):
        return None
    by = sub.grace_ends_at(req.settings.grace_period)
    if sub.renewal_needs_confirmation():
        notice = Notice(NoticeCode.CONFIRM_PAYMENT_BY, when=by)
        actions: tuple[Action, ...] = (Action.CONFIRM_PAYMENT, Action.UPDATE_CARD)
    else:
        notice, actions = Notice(NoticeCode.UPDATE_CARD_BY, when=by), (Action.UPDATE_CARD,)
    return Decision(Reason.GRACE_PERIOD, actions, (notice, *_card_notices(req)))


def card_expired(req: AccessRequest) -> Decision | None:
    """Not paid up and no card that could pay: the card is the thing to fix."""
    if _card_is_usable(req):
        return None
    card = req.card
    notices = (Notice(NoticeCode.CARD_EXPIRED, when=card.expires_at, card=card),) if card else ()
    return Decision(Reason.CARD_EXPIRED, (Action.UPDATE_CARD,), notices)


def payment_failed(req: AccessRequest) -> Decision:
    """Everything else that is live but not paid: the renewal failed and grace is over
    (or it waits for the reader to confirm it with their bank)."""
    sub = req.subscription
    if sub is not None and sub.renewal_needs_confirmation():
        return Decision(Reason.PAYMENT_FAILED, (Action.CONFIRM_PAYMENT, Action.UPDATE_CARD))
    return Decision(Reason.PAYMENT_FAILED, (Action.UPDATE_CARD,))


RULES: tuple[Rule, ...] = (
    staff_preview,
    free_article,
    anonymous_reader,
    unverified_email,
    registered_article,
    comped_reader,
    gifted_reader,
    without_live_subscription,
    plan_excludes_article,
    incomplete_payment,
    paused,
    trialing,
    canceling,
    paid_up,
    grace_period,
    card_expired,
    payment_failed,
)


def decide(req: AccessRequest) -> Decision:
    """Return the first decision the rules give for ``req`` (the last rule always answers)."""
    for rule in RULES:
        decision = rule(req)
        if decision is not None:
            return decision
    raise AssertionError("the last rule always decides")  # pragma: no cover

"""Gift subscriptions: a buyer pays once for N months of a plan for someone's email; the
recipient redeems a single-use link and reads without a card until the months run out.

1. :func:`begin_gift` stores the order and makes a one-time PaymentIntent (no customer,
   nothing saved for later: a gift never renews), which Stripe.js confirms in the
   buyer's browser, 3-D Secure included.
2. The payment is settled from the PaymentIntent as Stripe has it, re-read both by the
   buyer's page (:func:`confirm_gift_payment`) and by the ``payment_intent.succeeded``
   webhook (:func:`record_gift_payment`): whichever comes first marks the gift paid (a
   conditional UPDATE), and only that one owes the emails.
3. :func:`issue_gift_link` makes the recipient's link once (only its digest is kept);
   :func:`redeem_gift` spends it once for a signed-in reader and fixes the gift's window
   of access (its months, after any gift the reader already has).
4. The access decision reads the reader's :class:`GiftGrant`: the gift's plan tier, within
   its window (never every tier, unlike an editor's complimentary access).
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, ForeignKey, Select, String, Text, and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from billing.catalog import plan_for_sale
from billing.errors import BillingStateError
from billing.models import Plan
from billing.orm import Base, utcnow
from billing.state import PlanView

GIFT_MONTHS = (1, 3, 6, 12)
MESSAGE_LENGTH = 500


class Gift(Base):
    """One gift: who bought it for whom, what it gives, and how far it has got."""

    __tablename__ = "billing_gifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL")
    )
    recipient_email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text, default="")
    plan_code: Mapped[str] = mapped_column(String(64))
    plan_name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(40))
    months: Mapped[int]
    amount: Mapped[int]  # in the currency's smallest unit
    currency: Mapped[str] = mapped_column(String(3))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]  # the recipient's link was emailed
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    redeemed_by: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    redeemed_at: Mapped[datetime | None]
    # The access it gives, fixed when it is redeemed: its months, from ``access_from``.
    access_from: Mapped[datetime | None]
    access_until: Mapped[datetime | None] = mapped_column(index=True)

    def runs_until(self, start: datetime) -> datetime:
        """When access it gives from ``start`` ends (its months later)."""
        return add_months(start, self.months)


@dataclass(frozen=True, slots=True)
class GiftGrant:
    """What a redeemed gift gives: its plan's ``tier``, from ``starts`` until ``ends``."""

    tier: str
    starts: datetime
    ends: datetime

    def runs_at(self, now: datetime) -> bool:
        return self.starts <= now < self.ends

    def covers(self, tiers: frozenset[str]) -> bool:
        """Whether the gift's tier is one of ``tiers`` (an empty set: any paid plan), as a
        subscription to the gift's plan would."""
        return not tiers or self.tier in tiers


class PaymentReader(Protocol):
    def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]: ...


class PaymentGateway(PaymentReader, Protocol):
    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], idempotency: str
    ) -> dict[str, Any]: ...


def gift_price(plan: Plan | PlanView, months: int) -> int:
    """What ``months`` of ``plan`` cost: the monthly price times ``months``; a yearly plan
    a twelfth of its price a month (so 12 months cost the yearly price), rounded to the
    cent. Plans billed by the day or week cost their price per 30 or 7 days."""
    per_year = {"year": 1, "month": 12, "week": 52, "day": 365}[plan.interval]
    return round(plan.amount * per_year * months / 12)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved on by whole calendar months (31 January + 1 month: 28/29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True, slots=True)
class GiftOrder:
    plan_code: str
    months: int
    recipient_email: str
    buyer_email: str
    message: str = ""
    buyer_reader_id: int | None = None


def begin_gift(session: Session, gateway: PaymentGateway, order: GiftOrder) -> Gift:
    """Store the order and make its PaymentIntent (idempotent per gift); commits."""
    if order.months not in GIFT_MONTHS:
        raise BillingStateError("Choose 1, 3, 6 or 12 months.", code="bad_months")
    plan: Plan = plan_for_sale(session, order.plan_code)
    gift = Gift(
        buyer_email=order.buyer_email,
        buyer_reader_id=order.buyer_reader_id,
        recipient_email=order.recipient_email,
        message=order.message[:MESSAGE_LENGTH],
        plan_code=plan.code,
        plan_name=plan.name,
        tier=plan.tier,
        months=order.months,
        amount=gift_price(plan, order.months),
        currency=plan.currency,
    )
    session.add(gift)
    session.flush()
    try:
        intent = gateway.create_payment_intent(
            gift.amount, gift.currency, {"gift_id": str(gift.id)}, f"gift-{gift.id}"
        )
    except Exception:
        # Nothing is charged before the buyer confirms (a PaymentIntent made anyway stays
        # unconfirmed and unpaid), so the order is dropped and may be placed again.
        session.rollback()
        raise
    gift.stripe_payment_intent_id = intent["id"]
    session.commit()
    return gift


def client_secret_of(gateway: PaymentGateway, gift: Gift) -> str:
    """The PaymentIntent's client secret, for Stripe.js on the buyer's page."""
    if gift.stripe_payment_intent_id is None:
        raise BillingStateError("This gift has no payment.", code="no_payment")
    intent = gateway.retrieve_payment_intent(gift.stripe_payment_intent_id)
    return str(intent["client_secret"])


def record_gift_payment(
    session: Session, gateway: PaymentReader, payment_intent_id: str
) -> Gift | None:
    """Re-read the PaymentIntent; when it succeeded for its gift's amount and the gift is
    not marked paid yet, mark it (in the caller's transaction: one conditional UPDATE, so
    the page and the webhook racing mark it once). The gift while its emails are owed
    (their job claims them, once), else None."""
    gift = session.scalar(select(Gift).where(Gift.stripe_payment_intent_id == payment_intent_id))
    if gift is None or gift.notified_at is not None:
        return None
    if gift.paid_at is not None:
        return gift
    intent = gateway.retrieve_payment_intent(payment_intent_id)
    if intent.get("status") != "succeeded" or (
        intent.get("amount_received") or intent.get("amount"),
        str(intent.get("currency", "")).lower(),
    ) != (gift.amount, gift.currency.lower()):
        return None
    marked = session.execute(
        update(Gift)
        .where(Gift.id == gift.id, Gift.paid_at.is_(None))
        .values(paid_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(gift)
    if not marked.rowcount:  # type: ignore[attr-defined]
        return gift if gift.notified_at is None else None  # the other path marked it
    return gift


def confirm_gift_payment(session: Session, gateway: PaymentGateway, gift_id: int) -> bool:
    """After the buyer's browser confirmed the payment: True when the gift is paid and its
    emails are still owed (the caller queues them); commits."""
    gift = session.get(Gift, gift_id)
    if gift is None or gift.stripe_payment_intent_id is None:
        return False
    owed = record_gift_payment(session, gateway, gift.stripe_payment_intent_id) is not None
    session.commit()
    return owed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reissue_gift_link(session: Session, gift_id: int) -> tuple[Gift, str] | None:
    """A new link for a paid gift not redeemed yet whose recipient is still known (the
    old link stops working: only the new digest is kept); None for any other gift. The
    caller emails it and commits."""
    gift = session.get(Gift, gift_id, with_for_update=True)
    if (
        gift is None
        or gift.paid_at is None
        or gift.redeemed_at is not None
        or not gift.recipient_email
    ):
        return None
    token = secrets.token_urlsafe(32)
    gift.token_digest = _digest(token)
    gift.notified_at = utcnow()
    return gift, token


def issue_gift_link(session: Session, gift_id: int) -> tuple[Gift, str] | None:
    """Claim the recipient's email for a paid gift and make its link's token (only the
    digest is kept); None when it was claimed before. The caller commits once the email
    went (and rolls back when it did not, so it stays owed)."""
    claimed = session.execute(
        update(Gift)
        .where(Gift.id == gift_id, Gift.paid_at.is_not(None), Gift.notified_at.is_(None))
        .values(notified_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    gift = session.get(Gift, gift_id)
    if gift is None:
        return None
    session.refresh(gift)
    token = secrets.token_urlsafe(32)
    gift.token_digest = _digest(token)
    return gift, token


def gift_by_token(session: Session, token: str) -> Gift | None:
    """The paid gift this link names, redeemed or not."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(Gift).where(Gift.token_digest == _digest(token), Gift.paid_at.is_not(None))
    )


def redeem_gift(
    session: Session, token: str, reader_id: int, now: datetime, *, after: datetime | None = None
) -> Gift | None:
    """Spend the link for ``reader_id`` (in the caller's transaction, which should hold the
    reader's row locked so two gifts redeemed at once do not overlap); None when it is not
    a paid gift's or was spent already. The gift's months run from the end of the reader's
    latest gift, or of ``after`` (other access they have until then), or from ``now``."""
    gift = gift_by_token(session, token)
    if gift is None:
        return None
    spent = session.execute(
        update(Gift)
        .where(Gift.id == gift.id, Gift.redeemed_at.is_(None))
        .values(redeemed_at=now, redeemed_by=reader_id)
        .execution_options(synchronize_session=False)
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        return None
    latest = session.scalar(
        select(Gift.access_until)
        .where(Gift.redeemed_by == reader_id, Gift.access_until.is_not(None))
        .order_by(Gift.access_until.desc())
        .limit(1)
    )
    start = max(moment for moment in (now, after, latest) if moment is not None)
    session.refresh(gift)
    gift.access_from = start
    gift.access_until = gift.runs_until(start)
    session.flush()
    return gift


def gift_grants_of(session: Session, reader_id: int, now: datetime) -> tuple[GiftGrant, ...]:
    """The reader's redeemed gifts that have not ended by ``now``, earliest first (each
    starts when the one before ends, so at most one runs at any moment)."""
    rows = session.connection().execute(
        select(Gift.tier, Gift.access_from, Gift.access_until)
        .where(Gift.redeemed_by == reader_id, Gift.access_until > now)
        .order_by(Gift.access_from)
    )
    return tuple(
        GiftGrant(tier, starts, ends)
        for tier, starts, ends in rows
        if starts is not None and ends is not None
    )


def running_grant(grants: tuple[GiftGrant, ...], now: datetime) -> GiftGrant | None:
    """The gift that gives access at ``now``, if any."""
    return next((grant for grant in grants if grant.runs_at(now)), None)


def running_gift_of(session: Session, reader_id: int, now: datetime) -> Gift | None:
    """The gift giving the reader access now (the billing page names its plan and giver)."""
    return session.scalar(
        select(Gift)
        .where(Gift.redeemed_by == reader_id, Gift.access_from <= now, Gift.access_until > now)
        .order_by(Gift.access_from.desc())
        .limit(1)
    )


# --- a gift's status, and the people in it ---------------------------------------------

GIFT_STATUS_WORDS = {
    "unpaid": "Awaiting payment",
    "paid": "Paid, not redeemed yet",
    "redeemed": "Redeemed",
    "expired": "Ended",
    "withdrawn": "Recipient deleted their account",
}


def gift_status(gift: Gift, now: datetime) -> str:
    """Where the gift has got: a key of :data:`GIFT_STATUS_WORDS`."""
    if gift.paid_at is None:
        return "unpaid"
    if gift.redeemed_at is not None:
        ended = gift.access_until is not None and gift.access_until <= now
        return "expired" if ended else "redeemed"
    return "withdrawn" if not gift.recipient_email else "paid"


# The staff's list of gifts, newest first, sought by id.
GIFT_ORDER = (Gift.id,)


def _in_status(status: str, now: datetime) -> ColumnElement[bool]:
    paid, redeemed = Gift.paid_at.is_not(None), Gift.redeemed_at.is_not(None)
    return {
        "unpaid": Gift.paid_at.is_(None),
        "paid": and_(paid, Gift.redeemed_at.is_(None), Gift.recipient_email != ""),
        "withdrawn": and_(paid, Gift.redeemed_at.is_(None), Gift.recipient_email == ""),
        "redeemed": and_(redeemed, Gift.access_until > now),
        "expired": and_(redeemed, Gift.access_until <= now),
    }[status]


def gifts_query(*, email: str = "", status: str | None = None, now: datetime) -> Select[Any]:
    """The gifts whose buyer's or recipient's email contains ``email``, in ``status`` (a
    key of :data:`GIFT_STATUS_WORDS`), unordered (the list pages it by :data:`GIFT_ORDER`)."""
    query = select(Gift)
    if email:
        query = query.where(
            or_(
                Gift.buyer_email.contains(email, autoescape=True),
                Gift.recipient_email.contains(email, autoescape=True),
            )
        )
    if status is not None:
        query = query.where(_in_status(status, now))
    return query


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def gift_records(session: Session, reader_id: int, now: datetime) -> dict[str, Any]:
    """The gifts the reader bought while signed in (with what they entered: the
    recipient's email and their message) and the gifts they redeemed (what each gave
    them, nothing about the giver), as JSON-ready values."""
    bought = session.scalars(
        select(Gift).where(Gift.buyer_reader_id == reader_id).order_by(Gift.created_at, Gift.id)
    )
    received = session.scalars(
        select(Gift).where(Gift.redeemed_by == reader_id).order_by(Gift.redeemed_at, Gift.id)
    )
    return {
        "gifts_bought": [
            {
                "plan": gift.plan_name,
                "tier": gift.tier,
                "months": gift.months,
                "amount": gift.amount,
                "currency": gift.currency,
                "recipient_email": gift.recipient_email,
                "message": gift.message,
                "ordered_at": _when(gift.created_at),
                "paid_at": _when(gift.paid_at),
                "stripe_payment_intent_id": gift.stripe_payment_intent_id,
                "status": gift_status(gift, now),
            }
            for gift in bought
        ],
        "gifts_received": [
            {
                "plan": gift.plan_name,
                "tier": gift.tier,
                "months": gift.months,
                "redeemed_at": _when(gift.redeemed_at),
                "access_from": _when(gift.access_from),
                "access_until": _when(gift.access_until),
            }
            for gift in received
        ],
    }


def forget_gift_parties(session: Session, reader_id: int, email: str) -> None:
    """A reader deleted their account: take their email and the gift's message out of the
    gifts they bought or were given (in the caller's transaction). Amounts, plans, dates
    and the Stripe payment's id stay for the accounts; a gift waiting for them is
    withdrawn (its link stops working), while one they gave still reaches its recipient."""
    session.execute(
        update(Gift)
        .where(or_(Gift.buyer_reader_id == reader_id, Gift.buyer_email == email))
        .values(buyer_email="", message="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Gift)
        .where(or_(Gift.redeemed_by == reader_id, Gift.recipient_email == email))
        .values(recipient_email="", message="", token_digest=None)
        .execution_options(synchronize_session=False)
    )

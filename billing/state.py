"""The read side of billing: snapshots for the access decision and the account page.

Reads local tables only (never Stripe): this is what the reading path calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription
from billing.snapshots import LIVE_STATUSES, CardSnapshot, SubscriptionSnapshot

DEFAULT_TIER = "standard"


@dataclass(frozen=True, slots=True)
class PlanView:
    """A plan as the subscribe and account pages show it."""

    code: str
    name: str
    tier: str
    amount: int
    currency: str
    interval: str
    trial_days: int
    description: str = ""

    @property
    def amount_label(self) -> str:
        """E.g. ``$9.00``."""
        return format_money(self.amount, self.currency)

    @property
    def price_label(self) -> str:
        """E.g. ``$9.00 / month``."""
        return f"{self.amount_label} / {self.interval}"


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """One invoice line on the account page."""

    id: int
    stripe_invoice_id: str
    created: datetime
    amount: int
    currency: str
    status: str
    url: str | None
    failure_message: str | None

    @property
    def amount_label(self) -> str:
        return format_money(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class BillingOverview:
    """Everything the account page shows about a reader's billing."""

    subscription: SubscriptionSnapshot | None
    plan: PlanView | None
    card: CardSnapshot | None
    # The newest invoice Stripe is still trying to collect, if any.
    open_invoice: InvoiceView | None
    has_customer: bool
    # A purchase's outcome is unknown (its answer from Stripe was lost) until a re-read.
    checking_payment: bool = False
    # (plan name, when): a move to a cheaper plan waiting for the period end.
    scheduled_change: tuple[str, datetime] | None = None

    def card_expires_before_renewal(self) -> bool:
        """The card on file stops working before the next charge."""
        renews = self.subscription.renews_at() if self.subscription else None
        return bool(self.card and renews and self.card.expires_before(renews))


CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def format_money(amount: int, currency: str) -> str:
    """``900, "usd"`` → ``$9.00``; unknown currencies get their code."""
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    value = f"{amount / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def plan_view(plan: Plan) -> PlanView:
    return PlanView(
        code=plan.code,
        name=plan.name,
        tier=plan.tier,
        amount=plan.amount,
        currency=plan.currency,
        interval=plan.interval,
        trial_days=plan.trial_days,
        description=plan.description,
    )


# The statuses inline (constants), not as expanding parameters processed on every call.
_LIVE_LITERALS: list[Any] = [literal_column(f"'{s}'") for s in sorted(LIVE_STATUSES)]
_IS_LIVE = Subscription.status.in_(_LIVE_LITERALS)
# Live subscriptions first, then the newest; canceled first payments never count.
_CURRENT_FIRST = (
    case((_IS_LIVE, 0), else_=1),
    Subscription.created_at.desc(),
    Subscription.id.desc(),
)
_COUNTS = or_(_IS_LIVE, Subscription.was_active.is_(True))


def _snapshot_query() -> Any:
    return (
        _with_snapshot_joins(
            select(*_SNAPSHOT_COLUMNS).join(Customer, Customer.id == Subscription.customer_id)
        )
        .where(Customer.reader_id == bindparam("reader_id"), _COUNTS)
        .order_by(*_CURRENT_FIRST)
        .limit(1)
    )


def _with_snapshot_joins(query: Any) -> Any:
    return (
        query.outerjoin(Invoice, Invoice.stripe_invoice_id == Subscription.latest_invoice_id)
        .outerjoin(Plan, Plan.code == Subscription.plan_code)
        .outerjoin(
            PaymentMethod,
            and_(
                PaymentMethod.stripe_payment_method_id == Customer.default_payment_method_id,
                PaymentMethod.customer_id == Customer.id,
            ),
        )
    )


def with_billing_snapshot(query: Select[Any], reader_id: Any) -> Select[Any]:
    """``query`` with the reader's billing snapshot appended to its columns (outer joins:
    one row still, with None where there is no subscription), for
    :func:`snapshots_from_row`: one round trip instead of a second query."""
    counted = aliased(Subscription)
    owner = aliased(Customer)
    current = (
        select(counted.id)
        .join(owner, owner.id == counted.customer_id)
        .where(
            owner.reader_id == reader_id,
            or_(counted.status.in_(_LIVE_LITERALS), counted.was_active.is_(True)),
        )
        .order_by(
            case((counted.status.in_(_LIVE_LITERALS), 0), else_=1),
            counted.created_at.desc(),
            counted.id.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )
    joined = query.add_columns(*_SNAPSHOT_COLUMNS).outerjoin(
        Subscription, Subscription.id == current
    )
    found: Select[Any] = _with_snapshot_joins(
        joined.outerjoin(Customer, Customer.id == Subscription.customer_id)
    )
    return found


_SNAPSHOT_COLUMNS = (
    Subscription.status,
    Plan.tier,
    Plan.name,
    Subscription.current_period_end,
    Subscription.cancel_at_period_end,
    Subscription.trial_end,
    Subscription.latest_invoice_status,
    Subscription.payment_failed_at,
    PaymentMethod.brand,
    PaymentMethod.last4,
    PaymentMethod.exp_month,
    PaymentMethod.exp_year,
    Invoice.payment_intent_status,
    Subscription.pause_reason,
    Subscription.collection_paused,
    Subscription.collection_resumes_at,
    Subscription.cancel_at,
    Subscription.disputed_at,
)
SNAPSHOT_WIDTH = len(_SNAPSHOT_COLUMNS)


# Built once: constructing the statement costs more than running it (reading path).
_SNAPSHOT_QUERY = _snapshot_query()


def snapshots_for_reader(
    session: Session | Connection, reader_id: int
) -> tuple[SubscriptionSnapshot | None, CardSnapshot | None]:
    """The reader's current subscription and default card, in one indexed query (on the
    session's connection, or on ``session`` itself when it is a connection)."""
    # Core execution: no ORM entities here, so skip its layer.
    connection = session.connection() if isinstance(session, Session) else session
    row = connection.execute(_SNAPSHOT_QUERY, {"reader_id": reader_id}).first()
    return snapshots_from_row(row)


def snapshots_from_row(
    row: Sequence[Any] | None,
) -> tuple[SubscriptionSnapshot | None, CardSnapshot | None]:
    """The snapshots from the snapshot's columns (``row``: those columns alone, or None)."""
    if row is None or row[0] is None:  # no subscription (status is never null)
        return None, None
    subscription = SubscriptionSnapshot(
        status=row[0],
        tier=row[1] or DEFAULT_TIER,
        plan_name=row[2] or "",
        current_period_end=row[3],
        cancel_at_period_end=row[4],
        trial_end=row[5],
        latest_invoice_status=row[6],
        payment_failed_at=row[7],
        latest_payment_needs_action=row[12] == "requires_action",
        pause_reason=row[13],
        collection_paused=bool(row[14]),
        collection_resumes_at=row[15],
        cancel_at=row[16],
        disputed=row[17] is not None,
    )
    card = CardSnapshot(row[8], row[9], row[10], row[11]) if row[8] is not None else None
    return subscription, card


def current_subscription(session: Session, customer_id: int) -> Subscription | None:
    """The customer's live subscription, else the most recent one that ever ran."""
    return session.scalar(
        select(Subscription)
        .where(Subscription.customer_id == customer_id, _COUNTS)
        .order_by(*_CURRENT_FIRST)
        .limit(1)
    )


def live_subscription(session: Session, customer_id: int) -> Subscription | None:
    """The customer's subscription that has not ended, if any."""
    found = current_subscription(session, customer_id)
    return found if found is not None and found.status in LIVE_STATUSES else None


def overview_for_reader(session: Session, reader_id: int) -> BillingOverview:
    """The account page's billing section for ``reader_id`` (its invoices: see
    :func:`invoices_query`)."""
    subscription, card = snapshots_for_reader(session, reader_id)
    customer = session.scalar(select(Customer).where(Customer.reader_id == reader_id))
    if customer is None:
        return BillingOverview(subscription, None, card, None, has_customer=False)
    plan = scheduled = None
    current = current_subscription(session, customer.id)
    if current is not None and current.plan_code:
        found = session.scalar(select(Plan).where(Plan.code == current.plan_code))
        plan = plan_view(found) if found else None
    if current is not None and current.scheduled_plan_code and current.scheduled_change_at:
        upcoming = session.scalar(select(Plan).where(Plan.code == current.scheduled_plan_code))
        name = upcoming.name if upcoming else current.scheduled_plan_code
        scheduled = (name, current.scheduled_change_at)
    if card is None and customer.default_payment_method_id:
        method = session.scalar(
            select(PaymentMethod).where(
                PaymentMethod.stripe_payment_method_id == customer.default_payment_method_id
            )
        )
        if method is not None:
            card = CardSnapshot(method.brand, method.last4, method.exp_month, method.exp_year)
    unpaid = session.scalar(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.status == "open")
        .order_by(*(column.desc() for column in INVOICE_ORDER))
        .limit(1)
    )
    return BillingOverview(
        subscription=subscription,
        plan=plan,
        card=card,
        open_invoice=invoice_view(unpaid) if unpaid is not None else None,
        has_customer=True,
        checking_payment=customer.state_unknown_since is not None,
        scheduled_change=scheduled,
    )


# A reader's invoices are listed newest first, sought by (created, id).
INVOICE_ORDER = (Invoice.created, Invoice.id)


def invoices_query(reader_id: int) -> Select[Invoice]:
    """The reader's invoices (drafts left out), unordered, for a pager by
    :data:`INVOICE_ORDER`."""
    return (
        select(Invoice)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Customer.reader_id == reader_id, Invoice.status != "draft")
    )


def invoice_view(invoice: Invoice) -> InvoiceView:
    """An invoice as the account and staff pages show it."""
    return InvoiceView(
        id=invoice.id,
        stripe_invoice_id=invoice.stripe_invoice_id,
        created=invoice.created,
        amount=invoice.amount_due,
        currency=invoice.currency,
        status=invoice.status,
        url=invoice.hosted_invoice_url,
        failure_message=invoice.failure_message,
    )


def invoice_key(invoice: InvoiceView) -> tuple[datetime, int]:
    """The sort key of an invoice in :data:`INVOICE_ORDER`."""
    return invoice.created, invoice.id

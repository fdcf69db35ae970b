"""Webhook events: store each verified event once, then apply it by re-reading Stripe.

1. :func:`store_event` inserts the event under its unique Stripe id (a duplicate delivery
   inserts nothing) and commits; the endpoint answers 2xx at once.
2. :func:`apply_event`, after the response, claims the stored event (a conditional UPDATE
   marking it applied: two workers racing serialise on its lock, the loser finds it
   applied), **re-reads the object the event is about from Stripe**, writes that current
   state and commits both together. Arrival order is not Stripe's order and event times
   are whole seconds, so the event's own copy of the object is never applied and no event
   time is compared with ours: the re-read holds the customer's row from before reading
   until the commit (:func:`billing.sync.claim_customer`), so the last write has the
   newest state, whatever order events arrive in.
3. If applying fails (Stripe unreachable, a bug), the change rolls back and the event stays
   stored, unapplied, with the error, for ``paywall replay-events``.

A correctly signed body that is not a Stripe event (:func:`event_problem`) is kept apart,
as received, for inspection (:class:`MalformedWebhook`): it is never applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import Engine, Insert, LargeBinary, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from billing import emails_owed, gifts, sync
from billing.errors import BillingRequestError
from billing.models import WebhookEvent
from billing.orm import Base, utcnow

Obj = dict[str, Any]


class EventNotApplied(Exception):
    """Applying a stored event failed; it stays stored for a retry or a replay."""


class Email(StrEnum):
    """Emails an applied event owes, sent by jobs after the commit (``billing.emails_owed``)."""

    PAYMENT_FAILED = "payment_failed"  # about an invoice: the renewal failed or needs 3-D Secure
    TRIAL_ENDING = "trial_ending"  # about a subscription: its trial ends soon
    DISPUTE = "dispute"  # about a subscription: canceled over a dispute (to staff)
    GIFT_PAID = "gift_paid"  # about a gift: its link to the recipient, a receipt to the buyer


@dataclass(frozen=True)
class FollowUp:
    """One email owed: its kind and the local row it is about."""

    email: Email
    row_id: int


@dataclass(frozen=True)
class Outcome:
    """What happened to one stored event."""

    event_id: str
    status: str  # "applied" | "duplicate"
    follow_ups: tuple[FollowUp, ...] = field(default=())


def _insert_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, on the table (not the ORM entity).

    Values go in as parameters at execution, so the compiled statement is reused
    and the ORM's bulk-insert path (a cache key over every value) is skipped.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, WebhookEvent.__table__)  # a declarative class maps one Table
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(table.c.id)
    )


_INSERT_ONCE = {dialect: _insert_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _event_row(event: Obj) -> dict[str, Any]:
    """Column values of a newly stored event, not applied yet."""
    obj = (event.get("data") or {}).get("object") or {}
    now = utcnow()
    return {
        "stripe_event_id": event["id"],
        "type": str(event.get("type") or "unknown")[:80],
        "object_id": sync.object_id(obj.get("id")),
        "created": sync.from_timestamp(event.get("created")) or now,
        "payload": event,
        "received_at": now,
        "applied_at": None,
        "attempts": 0,
    }


def store_event(session: Session | scoped_session[Session], event: Obj) -> bool:
    """Store a verified event unless its id is already stored; True when newly stored.

    The INSERT commits by itself (autocommit) on a connection of its own: one round trip
    instead of BEGIN, INSERT and COMMIT, and as durable once it returns; no ORM session
    work for a statement that loads nothing.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine), "the session is bound to an engine"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        statement = _INSERT_ONCE[connection.dialect.name]
        # RETURNING, not rowcount: psycopg reports -1 for this statement on PostgreSQL.
        return connection.execute(statement, _event_row(event)).first() is not None


def is_applied(session: Session, stripe_event_id: str) -> bool:
    """Whether the stored event has been applied."""
    query = select(WebhookEvent.applied_at).where(WebhookEvent.stripe_event_id == stripe_event_id)
    return session.scalar(query) is not None


# -- signed, but not a Stripe event -----------------------------------------------------
class MalformedWebhook(Base):
    """A correctly signed webhook body that is not a Stripe event we can store: kept as
    received for a person to inspect, never applied (it is not in the events table)."""

    __tablename__ = "billing_malformed_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # a redelivery: kept once
    reason: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# Stripe's timestamps are whole seconds; past year 9999 no datetime holds one.
LAST_TIMESTAMP = 253_402_300_799


def event_problem(event: Any) -> str | None:
    """Why a verified payload is not a Stripe event we can store, or None when it is."""
    if not isinstance(event, dict):
        return "not a JSON object"
    if not _identifier(event.get("id"), 255):
        return "no event id"
    if not _identifier(event.get("type"), 80):
        return "no event type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "no data.object"
    object_id = data["object"].get("id")
    if object_id is not None and not _identifier(object_id, 255):
        return "data.object.id is not an id"
    created = event.get("created")
    if created is not None and not (
        type(created) is int and 0 <= created <= LAST_TIMESTAMP  # not a bool, not a float
    ):
        return "created is not a timestamp"
    return None


def _identifier(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and value.isprintable()


def store_malformed(session: Session, body: bytes, reason: str) -> int:
    """Keep a signed body that is not an event (once, however often it is delivered);
    returns its row id."""
    digest = hashlib.sha256(body).hexdigest()
    query = select(MalformedWebhook.id).where(MalformedWebhook.sha256 == digest)
    row_id = session.scalar(query)
    if row_id is None:
        row = MalformedWebhook(sha256=digest, reason=reason[:200], body=body)
        session.add(row)
        try:
            session.commit()
            return row.id
        except IntegrityError:  # the same body, delivered again at the same moment
            session.rollback()
            row_id = session.scalar(query)
    return row_id or 0


def apply_event(
    session: Session, gateway: StripeReader, stripe_event_id: str, *, force: bool = False
) -> Outcome:
    """Apply a stored event once (``force``: again), from Stripe's current objects.

    Other stored events about the same object that the same handler applies and that no
    one is applying now are applied with it, from the same re-read, and marked applied in
    the same transaction (Stripe sends several at once: an invoice created, finalized and
    paid). Each still has its job, which finds it applied; should this one fail, they
    stay unapplied for theirs.
    """
    claim = (
        update(WebhookEvent)
        .where(WebhookEvent.stripe_event_id == stripe_event_id)
        .values(applied_at=utcnow(), attempts=WebhookEvent.attempts + 1, last_error=None)
        .returning(WebhookEvent.id, WebhookEvent.type, WebhookEvent.object_id)
    )
    if not force:
        claim = claim.where(WebhookEvent.applied_at.is_(None))
    claimed = session.execute(claim).first()
    if claimed is None:
        session.rollback()
        if session.scalar(
            select(WebhookEvent.id).where(WebhookEvent.stripe_event_id == stripe_event_id)
        ):
            return Outcome(stripe_event_id, "duplicate")
        raise EventNotApplied(f"no stored event {stripe_event_id}")
    payload = session.scalar(
        select(WebhookEvent.payload).where(WebhookEvent.stripe_event_id == stripe_event_id)
    )
    try:
        _claim_companions(session, claimed.id, claimed.type, claimed.object_id)
        follow_ups = _apply(session, gateway, payload or {})
        session.commit()
    except Exception as error:
        session.rollback()
        _record_failure(session, stripe_event_id, error)
        raise EventNotApplied(f"{stripe_event_id}: {error}") from error
    return Outcome(stripe_event_id, "applied", follow_ups)


def _claim_companions(session: Session, own_id: int, kind: str, object_id: str | None) -> int:
    """Mark applied the other unapplied events about ``object_id`` that ``kind``'s handler
    applies, skipping those another worker holds; returns how many.

    The re-read that follows is made after they were stored, so it holds what each says.
    """
    handler = handler_for(kind)
    if handler is None or object_id is None:
        return 0
    pending = session.execute(
        select(WebhookEvent.id, WebhookEvent.type)
        .where(
            WebhookEvent.object_id == object_id,
            WebhookEvent.applied_at.is_(None),
            WebhookEvent.id != own_id,
        )
        .with_for_update(skip_locked=True)
    ).all()
    same = [row.id for row in pending if handler_for(row.type) is handler]
    if same:
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(same))
            .values(applied_at=utcnow(), attempts=WebhookEvent.attempts + 1, last_error=None)
        )
    return len(same)


def _record_failure(session: Session, stripe_event_id: str, error: Exception) -> None:
    row = session.scalar(
        select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
    )
    if row is not None:
        row.applied_at = None
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        session.commit()


def unapplied_event_ids(session: Session, event_ids: Iterable[str] = ()) -> list[str]:
    """Stored events not applied yet (or just ``event_ids``), oldest first."""
    query = select(WebhookEvent.stripe_event_id).order_by(WebhookEvent.created, WebhookEvent.id)
    wanted = list(event_ids)
    if wanted:
        query = query.where(WebhookEvent.stripe_event_id.in_(wanted))
    else:
        query = query.where(WebhookEvent.applied_at.is_(None))
    return list(session.scalars(query))


# -- applying: re-read what the event is about, write it -----------------------------------
class StripeReader(Protocol):
    """The reads :func:`apply_event` makes (``billing.gateway.StripeGateway`` has them)."""

    def retrieve_subscription(self, subscription_id: str) -> Obj: ...
    def retrieve_invoice(self, invoice_id: str) -> Obj: ...
    def retrieve_payment_method(self, payment_method_id: str) -> Obj: ...
    def retrieve_customer(self, customer_id: str) -> Obj: ...
    def retrieve_charge(self, charge_id: str) -> Obj: ...
    def cancel_subscription_now(self, subscription_id: str) -> Obj: ...
    def retrieve_payment_intent(self, payment_intent_id: str) -> Obj: ...


def _apply(session: Session, gateway: StripeReader, event: Obj) -> tuple[FollowUp, ...]:
    """Apply one event; returns the emails it owes."""
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    handler = handler_for(kind)
    if handler is None or not obj.get("id"):
        return ()  # stored and acknowledged; nothing of ours to change
    try:
        return handler(session, gateway, obj) or ()
    except BillingRequestError as error:
        if error.code != "resource_missing":
            raise
        return ()  # gone from Stripe since (a deleted draft invoice): nothing to write


def handler_for(kind: str) -> Handler | None:
    """The handler for an event type: its own entry, else the nearest ``prefix.*`` entry."""
    if kind in HANDLERS:
        return HANDLERS[kind]
    parts = kind.split(".")
    for size in range(len(parts) - 1, 0, -1):
        handler = HANDLERS.get(".".join(parts[:size]) + ".*")
        if handler is not None:
            return handler
    return None


def _customer_of(obj: Obj) -> str | None:
    return sync.object_id(obj.get("customer"))


def refresh_subscription(session: Session, gateway: StripeReader, subscription_id: str) -> Any:
    """Write the subscription as Stripe has it now (None when it is not ours)."""
    return sync.upsert_subscription(session, gateway.retrieve_subscription(subscription_id))


def _subscription(session: Session, gateway: StripeReader, obj: Obj) -> None:
    if sync.claim_customer(session, _customer_of(obj)) is not None:
        refresh_subscription(session, gateway, obj["id"])


def _invoice(session: Session, gateway: StripeReader, obj: Obj) -> tuple[FollowUp, ...]:
    """Re-read the invoice (with how it is being paid) and the subscription it bills; a
    renewal that failed or waits for 3-D Secure owes the reader an email (once)."""
    if sync.claim_customer(session, _customer_of(obj)) is None:
        return ()
    remote = gateway.retrieve_invoice(obj["id"])
    invoice = sync.upsert_invoice(session, remote)
    billed = ((remote.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    if isinstance(billed, dict):  # came expanded with the invoice
        subscription = sync.upsert_subscription(session, billed)
    elif billed:
        subscription = refresh_subscription(session, gateway, billed)
    else:
        subscription = None
    renewal_failed = subscription is not None and subscription.status in (
        "past_due",
        "unpaid",
        "paused",
    )
    if invoice is None or invoice.status == "paid" or not invoice.attempt_count:
        return ()
    session.flush()
    if renewal_failed and emails_owed.failed_payment_notice_owed(invoice):
        # The email's job claims it (once per invoice, however many events owe it).
        return (FollowUp(Email.PAYMENT_FAILED, invoice.id),)
    return ()


def _trial_will_end(session: Session, gateway: StripeReader, obj: Obj) -> tuple[FollowUp, ...]:
    """Re-read the subscription; its reader is owed a reminder before the first charge."""
    if sync.claim_customer(session, _customer_of(obj)) is None:
        return ()
    subscription = refresh_subscription(session, gateway, obj["id"])
    if subscription is None or subscription.status != "trialing":
        return ()
    session.flush()
    return (FollowUp(Email.TRIAL_ENDING, subscription.id),)


def _dispute(session: Session, gateway: StripeReader, obj: Obj) -> tuple[FollowUp, ...]:
    """A reader disputed a payment: no further renewals (their live subscriptions are
    canceled now), and staff are told. A refund alone does not end access."""
    charge_id = sync.object_id(obj.get("charge"))
    charge = gateway.retrieve_charge(charge_id) if charge_id else {}
    customer = sync.claim_customer(session, _customer_of(charge))
    if customer is None:
        return ()
    newest = None
    for subscription in list(customer.subscriptions):
        if subscription.status in sync.ACTIVE_STATUSES | {"paused", "incomplete"}:
            canceled = gateway.cancel_subscription_now(subscription.stripe_subscription_id)
            sync.upsert_subscription(session, canceled)
            subscription.disputed_at = subscription.disputed_at or utcnow()
        if newest is None or subscription.created_at > newest.created_at:
            newest = subscription
    if newest is None:
        return ()
    session.flush()
    return (FollowUp(Email.DISPUTE, newest.id),)


def _card(session: Session, gateway: StripeReader, obj: Obj) -> None:
    """A card attached, detached or changed: the card as Stripe has it (detached: removed)."""
    method = gateway.retrieve_payment_method(obj["id"])
    owner = _customer_of(method) or _customer_of(obj)
    if sync.claim_customer(session, owner) is not None or _customer_of(method) is None:
        sync.upsert_card(session, method)


def _customer(session: Session, gateway: StripeReader, obj: Obj) -> None:
    if sync.claim_customer(session, obj["id"]) is not None:
        sync.upsert_customer(session, gateway.retrieve_customer(obj["id"]))


def _payment_intent(session: Session, gateway: StripeReader, obj: Obj) -> tuple[FollowUp, ...]:
    """A one-time payment succeeded: a gift's, marked paid here unless the buyer's page
    did it first (then nothing is owed: that page queued the emails)."""
    gift = gifts.record_gift_payment(session, gateway, obj["id"])
    if gift is None:
        return ()
    return (FollowUp(Email.GIFT_PAID, gift.id),)


def _nothing(session: Session, gateway: StripeReader, obj: Obj) -> None:
    """Acknowledged without a local change (the data arrives with another event)."""


Handler = Callable[[Session, StripeReader, Obj], "tuple[FollowUp, ...] | None"]

HANDLERS: dict[str, Handler] = {
    "customer.subscription.trial_will_end": _trial_will_end,
    "customer.subscription.*": _subscription,  # created, updated, deleted, paused, ...
    "charge.dispute.created": _dispute,
    "invoice.upcoming": _nothing,  # a preview with no id; card reminders come from our own job
    "invoice.*": _invoice,  # created, finalized, paid, payment_failed, voided, ...
    "payment_method.*": _card,  # attached, detached, updated, automatically_updated
    "customer.updated": _customer,
    "customer.deleted": _customer,
    "setup_intent.succeeded": _nothing,  # its card arrives with payment_method.attached
    "payment_intent.succeeded": _payment_intent,  # a gift paid for
}

# The event types a webhook endpoint must send us (``paywall stripe setup-webhook``
# subscribes to these; ``paywall stripe check`` lists any missing).
SUBSCRIBED_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.marked_uncollectible",
    "invoice.voided",
    "invoice.upcoming",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
    "customer.deleted",
    "setup_intent.succeeded",
    "payment_intent.succeeded",
    "charge.dispute.created",
)

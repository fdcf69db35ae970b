"""Webhook ingestion: store each verified event once and apply it in one transaction.

1. :func:`ingest` inserts a new event under its unique Stripe id, already marked
   applied, and applies it in the same transaction: one commit per delivery. A second
   delivery of the id inserts nothing (on PostgreSQL it waits on the first's uncommitted
   key, on SQLite on the write lock) and goes on to step 3, where it finds it applied.
2. If applying fails, the changes roll back and the raw event is stored on its own with
   the error, so nothing is lost, and :class:`EventNotApplied` makes Stripe retry (or an
   operator runs ``paywall replay-events``). A crash before the commit stores nothing,
   but then Stripe got no answer and delivers again.
3. :func:`apply_event` applies an event already stored: it claims the row (a
   conditional UPDATE marking it applied), applies it and commits both together. Two
   deliveries racing serialise on that UPDATE's lock (row lock on PostgreSQL, write lock
   on SQLite); the loser finds it applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import sync
from billing.models import WebhookEvent
from billing.orm import utcnow

Obj = dict[str, Any]
CONFLICT_ATTEMPTS = 3


class EventNotApplied(Exception):
    """Applying a stored event failed; it stays stored for a retry or a replay."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery."""

    event_id: str
    status: str  # "applied" | "duplicate"
    dunning_invoice_ids: tuple[int, ...] = field(default=())


def _insert_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, on the table (not the ORM entity).

    Values go in as parameters at execution, so the compiled statement is reused
    and the ORM's bulk-insert path (a cache key over every value) is skipped.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(WebhookEvent.__table__)
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(WebhookEvent.__table__.c.id)
    )


_INSERT_ONCE = {dialect: _insert_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """Store the event row unless its id is stored; True when this call stored it."""
    statement = _INSERT_ONCE[session.get_bind().dialect.name]
    # RETURNING, not rowcount: psycopg reports -1 for this statement on PostgreSQL.
    return session.execute(statement, values).first() is not None


def _event_row(event: Obj, *, applied: bool) -> dict[str, Any]:
    """Column values of a stored event, marked applied now or not applied yet."""
    obj = (event.get("data") or {}).get("object") or {}
    now = utcnow()
    return {
        "stripe_event_id": event["id"],
        "type": str(event.get("type") or "unknown")[:80],
        "object_id": sync.object_id(obj.get("id")),
        "created": sync.from_timestamp(event.get("created")) or now,
        "payload": event,
        "received_at": now,
        "applied_at": now if applied else None,
        "attempts": 1 if applied else 0,
    }


def store_event(session: Session, event: Obj) -> bool:
    """Store a verified event unless its id is already stored; True when newly stored."""
    stored = _insert_once(session, _event_row(event, applied=False))
    session.commit()
    return stored


def apply_event(session: Session, stripe_event_id: str, *, force: bool = False) -> Outcome:
    """Apply a stored event once (``force``: again, still guarded by the object's clock).

    Two events about one new object (``invoice.created`` and ``invoice.payment_failed``)
    can race to insert its row; the loser rolls back and applies again on top of the
    winner's row.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return _apply_once(session, stripe_event_id, force)
        except IntegrityError as error:
            session.rollback()
            if attempt == CONFLICT_ATTEMPTS:
                _record_failure(session, stripe_event_id, error)
                raise EventNotApplied(f"{stripe_event_id}: {error}") from error
    raise AssertionError("unreachable")


def _apply_once(session: Session, stripe_event_id: str, force: bool) -> Outcome:
    # Claim the event with one conditional UPDATE: it takes the row lock on PostgreSQL
    # and the write lock on SQLite, so a racing delivery waits, then finds it claimed.
    claim = (
        update(WebhookEvent)
        .where(WebhookEvent.stripe_event_id == stripe_event_id)
        .values(applied_at=utcnow(), attempts=WebhookEvent.attempts + 1, last_error=None)
    )
    if not force:
        claim = claim.where(WebhookEvent.applied_at.is_(None))
    if not session.execute(claim).rowcount:  # type: ignore[attr-defined]
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
        dunning = _apply(session, payload or {})
        session.commit()
    except IntegrityError:
        raise
    except Exception as error:
        session.rollback()
        _record_failure(session, stripe_event_id, error)
        raise EventNotApplied(f"{stripe_event_id}: {error}") from error
    return Outcome(stripe_event_id, "applied", dunning)


def ingest(session: Session, event: Obj) -> Outcome:
    """Store and apply one verified event in one transaction (see the module docstring)."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            if _insert_once(session, _event_row(event, applied=True)):
                dunning = _apply(session, event)
                session.commit()
                return Outcome(event["id"], "applied", dunning)
        except IntegrityError as error:
            session.rollback()  # a racing insert of the same new object: apply again
            if attempt == CONFLICT_ATTEMPTS:
                _store_failed(session, event, error)
            continue
        except Exception as error:
            session.rollback()
            _store_failed(session, event, error)
        session.rollback()
        return apply_event(session, event["id"])  # stored before: applied at most once
    raise AssertionError("unreachable")


def _store_failed(session: Session, event: Obj, error: Exception) -> NoReturn:
    """Keep the raw event with the error that stopped it, then raise :class:`EventNotApplied`."""
    if store_event(session, event):
        _record_failure(session, event["id"], error)
    raise EventNotApplied(f"{event['id']}: {error}") from error


def _record_failure(session: Session, stripe_event_id: str, error: Exception) -> None:
    row = session.scalar(
        select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
    )
    if row is not None:
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


# -- applying, by event type ---------------------------------------------------------------
def _apply(session: Session, event: Obj) -> tuple[int, ...]:
    """Apply one event's object to the local tables; returns invoices owed a dunning email."""
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    seen_at = sync.from_timestamp(event.get("created")) or utcnow()
    handler = handler_for(kind)
    if handler is None:
        return ()  # stored and acknowledged; nothing of ours to change
    return handler(session, obj, seen_at) or ()


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


def _subscription(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_subscription(session, obj, seen_at)


def _invoice(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_invoice(session, obj, seen_at)


def _invoice_paid(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_invoice(session, obj, seen_at)
    sync.record_paid_invoice(session, obj, seen_at)


def _invoice_failed(session: Session, obj: Obj, seen_at: Any) -> tuple[int, ...]:
    invoice = sync.upsert_invoice(session, obj, seen_at)
    subscription = sync.record_failed_collection(session, obj, seen_at)
    renewal_failed = subscription is not None and subscription.status in ("past_due", "unpaid")
    if invoice is not None and renewal_failed and invoice.dunning_email_sent_at is None:
        session.flush()
        return (invoice.id,)
    return ()


def _invoice_needs_action(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_invoice(session, obj, seen_at)
    subscription = sync.subscription_by_stripe_id(session, sync.invoice_subscription_id(obj))
    if subscription is not None and not sync.is_stale(subscription, seen_at):
        subscription.latest_invoice_id = obj["id"]
        subscription.latest_invoice_status = obj.get("status") or "open"


def _card(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_card(session, obj, seen_at)


def _card_detached(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.remove_card(session, obj.get("id") or "")


def _customer(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_customer(session, obj, seen_at)


def _customer_deleted(session: Session, obj: Obj, seen_at: Any) -> None:
    sync.upsert_customer(session, {**obj, "deleted": True}, seen_at)


def _nothing(session: Session, obj: Obj, seen_at: Any) -> None:
    """Acknowledged without a local change (the data arrives with another event)."""


Handler = Callable[[Session, Obj, Any], "tuple[int, ...] | None"]

HANDLERS: dict[str, Handler] = {
    "customer.subscription.*": _subscription,  # created, updated, deleted, trial_will_end, ...
    "invoice.paid": _invoice_paid,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "invoice.payment_action_required": _invoice_needs_action,
    "invoice.upcoming": _nothing,  # a preview with no id; card reminders come from our own job
    "invoice.*": _invoice,  # created, finalized, updated, voided, marked_uncollectible
    "payment_method.attached": _card,
    "payment_method.updated": _card,
    "payment_method.automatically_updated": _card,
    "payment_method.detached": _card_detached,
    "customer.updated": _customer,
    "customer.deleted": _customer_deleted,
    "setup_intent.succeeded": _nothing,  # its card arrives with payment_method.attached
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
)

"""Turn Stripe objects (plain dicts) into local rows: one mapping function per object type.

Objects are read in the one shape of the pinned API version (``billing.gateway.API_VERSION``):
periods and the price on the subscription item, the invoice's subscription under
``parent.subscription_details``, how an invoice is paid in its ``payments`` (InvoicePayment
→ PaymentIntent). The webhook endpoint is pinned to the same version (``paywall stripe
check`` says when it is not), so events carry the same shapes.

Every upsert writes the object as given: callers pass what Stripe says now (an API
response, or the object re-read while handling a webhook), holding the customer's row
(:func:`claim_customer`), so no event time is ever compared with our clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription
from billing.orm import utcnow

Obj = dict[str, Any]

# Metadata key on Stripe plans naming our plan (see billing.catalog).
PLAN_CODE_KEY = "paywall_plan"
ACTIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid"})


def from_timestamp(value: Any) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime (None stays None)."""
    return None if value in (None, "", 0) else datetime.fromtimestamp(int(value), UTC)


def object_id(value: Any) -> str | None:
    """The id of an expandable field, whether it came as an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


# -- field mapping (pure) ---------------------------------------------------------
def _first_item(subscription: Obj) -> Obj:
    items = (subscription.get("items") or {}).get("data") or []
    return items[0] if items else {}


def subscription_fields(subscription: Obj) -> dict[str, Any]:
    """Column values of a Stripe subscription."""
    item = _first_item(subscription)
    price = item.get("price") or {}
    latest = subscription.get("latest_invoice")
    pause = subscription.get("pause_collection")
    return {
        "status": subscription["status"],
        "stripe_plan_id": object_id(price) or "",
        "plan_code": (price.get("metadata") or {}).get(PLAN_CODE_KEY, ""),
        "stripe_item_id": item.get("id") or "",
        "current_period_start": from_timestamp(item.get("current_period_start")),
        "current_period_end": from_timestamp(item.get("current_period_end")),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "cancel_at": from_timestamp(subscription.get("cancel_at")),
        "pause_reason": pause_reason(subscription),
        "collection_paused": pause is not None,
        "collection_resumes_at": from_timestamp((pause or {}).get("resumes_at")),
        "canceled_at": from_timestamp(subscription.get("canceled_at")),
        "ended_at": from_timestamp(subscription.get("ended_at")),
        "trial_end": from_timestamp(subscription.get("trial_end")),
        "latest_invoice_id": object_id(latest),
        "has_own_payment_method": bool(subscription.get("default_payment_method")),
    }


def pause_reason(subscription: Obj) -> str | None:
    """Why a ``paused`` subscription is paused (``status_details.paused``), else None."""
    paused = (subscription.get("status_details") or {}).get("paused") or {}
    return (paused.get("subscription") or {}).get("type") or None


def invoice_subscription_id(invoice: Obj) -> str | None:
    """The subscription an invoice bills (``parent.subscription_details.subscription``)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return object_id(details.get("subscription"))


def invoice_payment_intent(invoice: Obj) -> Obj | None:
    """The PaymentIntent collecting ``invoice``, when its payments came expanded.

    The default payment (``is_default``) is the one Stripe retries; None before the
    first attempt, or when ``payments`` was not expanded.
    """
    payments = (invoice.get("payments") or {}).get("data") or []
    ordered = sorted(payments, key=lambda payment: bool(payment.get("is_default")))
    for payment in reversed(ordered):
        intent = (payment.get("payment") or {}).get("payment_intent")
        if isinstance(intent, dict):
            return intent
    return None


def invoice_failure_message(invoice: Obj) -> str | None:
    """Why the last attempt to collect failed, from the invoice's PaymentIntent."""
    intent = invoice_payment_intent(invoice) or {}
    error = intent.get("last_payment_error") or {}
    return error.get("message") or None


def invoice_fields(invoice: Obj) -> dict[str, Any]:
    """Column values of a Stripe invoice."""
    transitions = invoice.get("status_transitions") or {}
    return {
        "stripe_subscription_id": invoice_subscription_id(invoice),
        "status": invoice.get("status") or "draft",
        "amount_due": int(invoice.get("amount_due") or 0),
        "amount_paid": int(invoice.get("amount_paid") or 0),
        "currency": (invoice.get("currency") or "usd").lower(),
        "billing_reason": invoice.get("billing_reason"),
        "attempt_count": int(invoice.get("attempt_count") or 0),
        "hosted_invoice_url": invoice.get("hosted_invoice_url"),
        "created": from_timestamp(invoice.get("created")) or utcnow(),
        "paid_at": from_timestamp(transitions.get("paid_at")),
    }


def card_fields(method: Obj) -> dict[str, Any]:
    """Column values of a card payment method."""
    card = method.get("card") or {}
    return {
        "brand": card.get("brand") or "card",
        "last4": card.get("last4") or "",
        "exp_month": int(card.get("exp_month") or 0),
        "exp_year": int(card.get("exp_year") or 0),
        "funding": card.get("funding") or "",
    }


def customer_default_card_id(customer: Obj) -> str | None:
    """The customer's default payment method for invoices."""
    settings = customer.get("invoice_settings") or {}
    return object_id(settings.get("default_payment_method")) or object_id(
        customer.get("default_source")
    )


# -- lookups -----------------------------------------------------------------------
def customer_by_stripe_id(session: Session, stripe_customer_id: str | None) -> Customer | None:
    if not stripe_customer_id:
        return None
    return session.scalar(select(Customer).where(Customer.stripe_customer_id == stripe_customer_id))


def customer_for_reader(session: Session, reader_id: int) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.reader_id == reader_id))


def subscription_by_stripe_id(session: Session, stripe_id: str | None) -> Subscription | None:
    if not stripe_id:
        return None
    return session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)
    )


def _plan_code_for(session: Session, stripe_plan_id: str) -> str | None:
    return session.scalar(select(Plan.code).where(Plan.stripe_plan_id == stripe_plan_id))


def _invoice_by_stripe_id(session: Session, stripe_id: str) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.stripe_invoice_id == stripe_id))


def _card_by_stripe_id(session: Session, stripe_id: str) -> PaymentMethod | None:
    return session.scalar(
        select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == stripe_id)
    )


def claim_customer(session: Session, stripe_customer_id: str | None) -> Customer | None:
    """Our customer ``stripe_customer_id``, its row held until this transaction ends.

    Whoever writes a customer's billing (a webhook's re-read, a reader's own change) holds
    the row from before reading Stripe until the commit, so the last writer has read the
    newest state. An UPDATE rather than ``SELECT ... FOR UPDATE``: a row lock on
    PostgreSQL, and the write lock on SQLite, which has no row locks.
    """
    row = customer_by_stripe_id(session, stripe_customer_id)
    if row is not None:
        session.execute(update(Customer).where(Customer.id == row.id).values(synced_at=utcnow()))
    return row


# -- upserts: each writes the object as Stripe has it now -------------------------------
def upsert_customer(session: Session, customer: Obj) -> Customer | None:
    """Refresh a known customer's default card and email (unknown customers are not ours)."""
    row = customer_by_stripe_id(session, customer.get("id"))
    if row is None:
        return None
    if customer.get("deleted"):
        row.deleted = True
    else:
        row.email = customer.get("email") or row.email
        row.default_payment_method_id = customer_default_card_id(customer)
    return row


def upsert_subscription(session: Session, subscription: Obj) -> Subscription | None:
    """Write a Stripe subscription of one of our customers; None when it is not ours."""
    row = subscription_by_stripe_id(session, subscription.get("id"))
    if row is None:
        customer = customer_by_stripe_id(session, object_id(subscription.get("customer")))
        if customer is None:
            return None
        row = Subscription(stripe_subscription_id=subscription["id"], customer_id=customer.id)
        row.created_at = from_timestamp(subscription.get("created")) or utcnow()
        session.add(row)
    fields = subscription_fields(subscription)
    if not fields["plan_code"]:
        with session.no_autoflush:  # a new row has no status yet: flushing it would fail
            found = _plan_code_for(session, fields["stripe_plan_id"])
        fields["plan_code"] = found or row.plan_code or ""
    for name, value in fields.items():
        setattr(row, name, value)
    row.was_active = row.was_active or row.status in ACTIVE_STATUSES
    row.stripe_schedule_id = object_id(subscription.get("schedule"))
    if row.stripe_schedule_id is None or row.plan_code == row.scheduled_plan_code:
        row.scheduled_plan_code = row.scheduled_change_at = None  # done, or dropped
    latest = subscription.get("latest_invoice")
    if isinstance(latest, dict):
        upsert_invoice(session, latest)
        row.latest_invoice_status = latest.get("status")
    elif row.latest_invoice_id:
        with session.no_autoflush:
            known = _invoice_by_stripe_id(session, row.latest_invoice_id)
        row.latest_invoice_status = known.status if known else None
    if row.status not in ("past_due", "unpaid"):
        row.payment_failed_at = None
    elif row.payment_failed_at is None:
        # Stripe does not say when collection first failed; the open invoice's date is close.
        with session.no_autoflush:
            invoice = _invoice_by_stripe_id(session, row.latest_invoice_id or "")
        row.payment_failed_at = invoice.created if invoice else utcnow()
    return row


def upsert_invoice(session: Session, invoice: Obj) -> Invoice | None:
    """Write a Stripe invoice of one of our customers; None when it is not ours (or upcoming)."""
    if not invoice.get("id"):  # invoice.upcoming previews have no id
        return None
    row = _invoice_by_stripe_id(session, invoice["id"])
    if row is None:
        customer = customer_by_stripe_id(session, object_id(invoice.get("customer")))
        if customer is None:
            return None
        row = Invoice(stripe_invoice_id=invoice["id"], customer_id=customer.id)
        session.add(row)
    for name, value in invoice_fields(invoice).items():
        setattr(row, name, value)
    failure = invoice_failure_message(invoice)
    if failure or row.status == "paid":
        row.failure_message = failure
    billed = subscription_by_stripe_id(session, row.stripe_subscription_id)
    if billed is not None and billed.latest_invoice_id == row.stripe_invoice_id:
        billed.latest_invoice_status = row.status
    intent = invoice_payment_intent(invoice)
    if intent is not None or row.status in ("paid", "void", "uncollectible"):
        # Known only when the payments came expanded; a settled invoice waits for nothing.
        row.payment_intent_status = (intent or {}).get("status") if row.status != "paid" else None
    return row


def upsert_card(session: Session, method: Obj) -> PaymentMethod | None:
    """Write a card attached to one of our customers; a detached card is removed."""
    row = _card_by_stripe_id(session, method.get("id") or "")
    customer = customer_by_stripe_id(session, object_id(method.get("customer")))
    if customer is None or method.get("type", "card") != "card":
        if row is not None:
            session.delete(row)
        return None
    if row is None:
        row = PaymentMethod(stripe_payment_method_id=method["id"], customer_id=customer.id)
        session.add(row)
    row.customer_id = customer.id
    for name, value in card_fields(method).items():
        setattr(row, name, value)
    return row


def remove_card(session: Session, payment_method_id: str) -> None:
    """Forget a card that was detached."""
    row = _card_by_stripe_id(session, payment_method_id)
    if row is not None:
        session.delete(row)


WRITERS = {
    "subscription": upsert_subscription,
    "invoice": upsert_invoice,
    "payment_method": upsert_card,
    "customer": upsert_customer,
}


def write(session: Session, obj: Obj) -> Any:
    """Write one Stripe object of a type we mirror, as given (None: not ours, or a type
    we do not mirror)."""
    writer = WRITERS.get(str(obj.get("object")))
    return writer(session, obj) if writer else None

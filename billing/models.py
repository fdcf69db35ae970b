"""Local mirror of the Stripe objects the paywall needs, plus the publisher's plans.

Every decision is made from these rows; they are written from the API responses of calls
the app makes and from objects re-read from Stripe when a webhook says they changed (see
:mod:`billing.sync` and :mod:`billing.webhooks`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.orm import Base, utcnow


class Plan(Base):
    """A plan the publisher sells; synced to a Stripe Product + Plan by ``sync-catalog``."""

    __tablename__ = "billing_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(40), default="standard")
    amount: Mapped[int]  # in the currency's smallest unit (cents)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    interval: Mapped[str] = mapped_column(String(8), default="month")  # day|week|month|year
    trial_days: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    stripe_product_id: Mapped[str | None] = mapped_column(String(255))
    stripe_plan_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Customer(Base):
    """A reader's Stripe customer (at most one per reader)."""

    __tablename__ = "billing_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(
        ForeignKey("readers.id", ondelete="CASCADE"), unique=True
    )
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    default_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    deleted: Mapped[bool] = mapped_column(default=False)
    # A Stripe call for this customer failed after it may have reached Stripe (timeout,
    # reset, 5xx): until a re-read settles it, no second purchase is offered.
    state_unknown_since: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer")


class Subscription(Base):
    """A Stripe subscription as last seen."""

    __tablename__ = "billing_subscriptions"
    # The staff pages filter by status; the dashboard counts by these dates.
    __table_args__ = (
        Index("ix_billing_subscriptions_customer_status", "customer_id", "status"),
        # Covers every column ``billing.metrics.subscription_tally`` counts by.
        Index(
            "ix_billing_subscriptions_tally",
            "status",
            "plan_code",
            "cancel_at_period_end",
            "was_active",
            "ended_at",
        ),
        Index("ix_billing_subscriptions_created_at", "created_at"),
        Index("ix_billing_subscriptions_ended_at", "ended_at"),
        Index("ix_billing_subscriptions_trial_end", "trial_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("billing_customers.id", ondelete="CASCADE"))
    stripe_plan_id: Mapped[str] = mapped_column(String(255), default="")
    # Our plan's code (from the Stripe plan's metadata), so the tier survives price changes.
    plan_code: Mapped[str] = mapped_column(String(64), default="")
    stripe_item_id: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(24))
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    latest_invoice_id: Mapped[str | None] = mapped_column(String(255))
    latest_invoice_status: Mapped[str | None] = mapped_column(String(24))
    # First failed attempt to collect the open renewal: the grace clock starts here.
    payment_failed_at: Mapped[datetime | None]
    # Ever active (paid, trialing or past due): a first payment that never went through
    # leaves a canceled subscription that must not read as "your subscription ended".
    was_active: Mapped[bool] = mapped_column(default=False)
    # Set by a subscription-level default payment method on a real Stripe account.
    has_own_payment_method: Mapped[bool] = mapped_column(default=False)
    # Why Stripe paused it (status_details.paused.subscription.type), while ``paused``.
    pause_reason: Mapped[str | None] = mapped_column(String(40))
    # pause_collection is set: invoices are not collected, access ends with the period.
    collection_paused: Mapped[bool] = mapped_column(default=False)
    collection_resumes_at: Mapped[datetime | None]
    # Stripe cancels it at this instant (``cancel_at``).
    cancel_at: Mapped[datetime | None]
    # We canceled it because the reader disputed a payment (charge.dispute.created).
    disputed_at: Mapped[datetime | None]
    # A move to a cheaper plan at the period end, held by a Stripe subscription schedule.
    stripe_schedule_id: Mapped[str | None] = mapped_column(String(255))
    scheduled_plan_code: Mapped[str | None] = mapped_column(String(64))
    scheduled_change_at: Mapped[datetime | None]
    # Why the reader asked to stop renewing (a :data:`CANCEL_REASONS` code, and their words).
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")


class PaymentMethod(Base):
    """A card attached to a customer."""

    __tablename__ = "billing_payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_payment_method_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("billing_customers.id", ondelete="CASCADE"), index=True
    )
    brand: Mapped[str] = mapped_column(String(24), default="card")
    last4: Mapped[str] = mapped_column(String(4), default="")
    exp_month: Mapped[int] = mapped_column(default=0)
    exp_year: Mapped[int] = mapped_column(default=0)
    funding: Mapped[str] = mapped_column(String(16), default="")
    # The month ("2026-11") in which the expiry reminder for this card was last sent.
    expiry_reminder_sent_for: Mapped[str | None] = mapped_column(String(7))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Invoice(Base):
    """A recent invoice of a customer."""

    __tablename__ = "billing_invoices"
    # The dashboard's sums over recent invoices read this index alone on PostgreSQL.
    __table_args__ = (
        Index(
            "ix_billing_invoices_created",
            "created",
            postgresql_include=["status", "currency", "amount_paid", "attempt_count"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("billing_customers.id", ondelete="CASCADE"), index=True
    )
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(24))
    amount_due: Mapped[int] = mapped_column(default=0)
    amount_paid: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    billing_reason: Mapped[str | None] = mapped_column(String(40))
    attempt_count: Mapped[int] = mapped_column(default=0)
    failure_message: Mapped[str | None] = mapped_column(String(500))
    # Status of the PaymentIntent collecting it, e.g. ``requires_action`` (3-D Secure).
    payment_intent_status: Mapped[str | None] = mapped_column(String(32))
    hosted_invoice_url: Mapped[str | None] = mapped_column(String(1000))
    created: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    dunning_email_sent_at: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """A Stripe event as received, stored before it is applied (its id is unique)."""

    __tablename__ = "billing_webhook_events"
    # The events still to apply about one object, found when one of them is applied.
    __table_args__ = (
        Index(
            "ix_billing_webhook_events_unapplied_object",
            "object_id",
            postgresql_where=text("applied_at IS NULL"),
            sqlite_where=text("applied_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(80), index=True)
    object_id: Mapped[str | None] = mapped_column(String(255))
    created: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

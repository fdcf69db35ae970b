"""Plain, immutable views of a reader's billing state, read by the access decision.

Stripe's status strings appear here and in the mapping code of ``billing`` only;
everyone else asks the predicates (``on_trial``, ``in_grace``, ...).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete", "paused"})


@dataclass(frozen=True, slots=True)
class CardSnapshot:
    """The default card on file."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @property
    def expires_at(self) -> datetime:
        """The first instant the card no longer works (cards run to the end of the month)."""
        last_day = calendar.monthrange(self.exp_year, self.exp_month)[1]
        return datetime(self.exp_year, self.exp_month, last_day, tzinfo=UTC) + timedelta(days=1)

    @property
    def expiry_label(self) -> str:
        """Expiry as printed on the card, e.g. ``03/27``."""
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def is_expired(self, now: datetime) -> bool:
        """True once the expiry month is over."""
        return now >= self.expires_at

    def expires_before(self, moment: datetime) -> bool:
        """True when the card stops working before ``moment`` (e.g. the next renewal)."""
        return self.expires_at <= moment


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    """A reader's current subscription as last synced from Stripe."""

    status: str
    tier: str
    plan_name: str = ""
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    trial_end: datetime | None = None
    latest_invoice_status: str | None = None
    # When the first renewal attempt of the open invoice failed: the grace clock starts here.
    payment_failed_at: datetime | None = None
    # The latest invoice's payment waits for the reader to authenticate (3-D Secure).
    latest_payment_needs_action: bool = False
    # Why Stripe paused it (``status_details.paused``): a payment failure, a request, ...
    pause_reason: str | None = None
    # ``pause_collection`` is set: no invoice is collected, so access ends with the period.
    collection_paused: bool = False
    collection_resumes_at: datetime | None = None
    # ``cancel_at``: Stripe cancels it at this instant.
    cancel_at: datetime | None = None
    # Canceled by us because the reader disputed a payment with their bank.
    disputed: bool = False

    def is_live(self) -> bool:
        """The subscription exists in Stripe and has not ended."""
        return self.status in LIVE_STATUSES

    def has_ended(self) -> bool:
        """Canceled, or expired before its first payment."""
        return not self.is_live()

    def has_ended_by(self, now: datetime) -> bool:
        """Ended, or set to end (cancel at period end, ``cancel_at``, collection paused)
        at an instant that has passed.

        Stripe ends such a subscription at that instant; our copy may still say "active"
        until the webhook lands, but no renewal is coming, so nothing is in flight.
        """
        if self.has_ended():
            return True
        ends = self.ends_at()
        return ends is not None and now >= ends

    def ends_at(self) -> datetime | None:
        """When access stops for good without a renewal (None: it renews)."""
        if self.cancel_at is not None:
            return self.cancel_at
        if self.cancel_at_period_end or self.collection_paused:
            return self.period_ends_at()
        return None

    def can_resume(self) -> bool:
        """Set to end by the reader (or staff) in a way the reader may undo."""
        return self.is_live() and (self.cancel_at_period_end or self.cancel_at is not None)

    def has_incomplete_payment(self) -> bool:
        """The first payment failed or needs the reader's action (3-D Secure)."""
        return self.status == "incomplete"

    def is_paused(self) -> bool:
        """Stripe paused it (no invoices, no access) until it is resumed."""
        return self.status == "paused"

    def paused_for_payment(self) -> bool:
        """Paused because a payment failed (or a trial ended without a card)."""
        return self.is_paused() and self.pause_reason != "pause_requested"

    def paused_on_request(self) -> bool:
        """Paused because the reader or the publisher asked for it."""
        return self.is_paused() and self.pause_reason == "pause_requested"

    def renewal_needs_confirmation(self) -> bool:
        """A renewal waits for the reader to confirm the payment with their bank."""
        return self.status in {"past_due", "unpaid"} and self.latest_payment_needs_action

    def is_active(self) -> bool:
        """Stripe counts it active (whether or not the current period has run out)."""
        return self.status == "active"

    def is_trialing(self) -> bool:
        """Stripe counts it in a trial (whether or not the trial has run out)."""
        return self.status == "trialing"

    def on_trial(self, now: datetime) -> bool:
        """In a trial that has not run out."""
        return self.status == "trialing" and (self.trial_end is None or now < self.trial_end)

    def is_paid_up(self, now: datetime) -> bool:
        """Active with the current period paid and not yet over."""
        if self.status != "active":
            return False
        return self.current_period_end is None or now < self.current_period_end

    def is_canceling(self, now: datetime) -> bool:
        """Set to end (see :meth:`ends_at`) while the paid period still runs."""
        ends = self.ends_at()
        return ends is not None and self.is_paid_up(now) and now < ends

    def is_past_due(self) -> bool:
        """A renewal failed and Stripe is still retrying."""
        return self.status == "past_due"

    def is_unpaid(self) -> bool:
        """Stripe gave up retrying; the subscription stays open but unpaid."""
        return self.status == "unpaid"

    def grace_ends_at(self, grace: timedelta) -> datetime | None:
        """When the grace window after a failed renewal closes (None: no failure on record).

        Anchored at the first failed attempt, not the period: Stripe rolls the period
        forward before it tries to collect, so the period end says nothing about it.
        """
        return None if self.payment_failed_at is None else self.payment_failed_at + grace

    def in_grace(self, now: datetime, grace: timedelta) -> bool:
        """Past due, and the grace window after the failed renewal is still open."""
        ends = self.grace_ends_at(grace)
        return self.is_past_due() and ends is not None and now < ends

    def covers(self, tiers: frozenset[str]) -> bool:
        """Whether this plan's tier is one of ``tiers`` (an empty set: any paid plan)."""
        return not tiers or self.tier in tiers

    def period_ends_at(self) -> datetime | None:
        """The end of what has been granted so far: the trial while trialing, else the period."""
        return self.trial_end if self.status == "trialing" else self.current_period_end

    def renews_at(self) -> datetime | None:
        """The next charge, or None when the subscription will not renew."""
        if self.ends_at() is not None or self.is_paused():
            return None
        return self.period_ends_at()

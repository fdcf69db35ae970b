"""What the billing page says about a reader's subscription: one state, in plain words.

The account page branches on :attr:`BillingState.code` only, so which message and which
main action a reader sees is decided here, from the snapshot's predicates (never a
Stripe status string), not in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from billing import SubscriptionSnapshot


@dataclass(frozen=True, slots=True)
class BillingState:
    """``code``: none, trialing, active, canceling, overdue, lapsed, confirm_renewal,
    incomplete, paused, payment_paused, collection_paused or ended. ``until``: the date
    that matters in that state (trial end, access end, grace end, renewal)."""

    code: str
    words: str
    until: datetime | None = None

    @property
    def owes_money(self) -> bool:
        """A payment failed and is still owed: paying comes first."""
        return self.code in {"overdue", "lapsed", "payment_paused"}

    @property
    def may_cancel(self) -> bool:
        """Renewing, so stopping the renewals is on offer (never the main action)."""
        return self.code in {"trialing", "active", "overdue", "lapsed"}


def _day(moment: datetime | None) -> str:
    return f"{moment:%-d %B %Y}" if moment else ""


def billing_state(
    sub: SubscriptionSnapshot | None, now: datetime, grace: timedelta
) -> BillingState:
    """The state of ``sub`` as the reader should understand it."""
    if sub is None:
        return BillingState("none", "No subscription")
    if sub.has_ended_by(now):
        if sub.disputed:
            return BillingState("ended", "Ended after a disputed payment")
        ended = sub.ends_at() or sub.current_period_end
        if ended is None or ended > now:  # ended early (a first payment undone, say)
            return BillingState("ended", "Ended")
        return BillingState("ended", f"Ended on {_day(ended)}", ended)
    if sub.renewal_needs_confirmation():
        return BillingState("confirm_renewal", "Waiting for you to confirm the payment")
    if sub.has_incomplete_payment():
        return BillingState("incomplete", "Waiting for your first payment")
    if sub.paused_on_request():
        return BillingState("paused", "Paused")
    if sub.paused_for_payment():
        return BillingState("payment_paused", "Paused: a payment failed")
    if sub.is_past_due() and sub.in_grace(now, grace):
        ends = sub.grace_ends_at(grace)
        return BillingState("overdue", "Payment overdue: you can read until " + _day(ends), ends)
    if sub.is_past_due() or sub.is_unpaid():
        return BillingState("lapsed", "Payment overdue: reading is paused")
    if sub.collection_paused:
        return BillingState("collection_paused", "Payments paused", sub.ends_at())
    if sub.ends_at() is not None:
        ends = sub.ends_at()
        return BillingState("canceling", f"Canceled: you can read until {_day(ends)}", ends)
    if sub.on_trial(now):
        return BillingState("trialing", "Free trial", sub.trial_end)
    return BillingState("active", "Active", sub.renews_at())

"""A purchase whose outcome is unknown (Stripe may have acted, its answer was lost):
re-read at once, and no second purchase offered until it is settled."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from billing import BillingUnavailable, customer_for_reader, refresh_customer, snapshots_for_reader
from paywall.billing.reader_pages import back_to
from paywall.billing.support import gateway
from paywall.extensions import db


def payment_being_checked() -> bool:
    """A purchase's outcome is unknown: no second one is offered until it is settled."""
    customer = customer_for_reader(db.session, current_user.id)
    return customer is not None and customer.state_unknown_since is not None


def checking_the_payment(target: str | None) -> Response:
    """Stripe may have acted on a purchase whose answer was lost: re-read at once, and
    never say nothing was charged, nor offer a second purchase, until it is settled."""
    settle_unknown_state()
    if _subscription_is_running():
        flash("Your subscription is active. Welcome aboard!", "success")
        return back_to(target)
    flash(
        "We could not hear back from the payment service, so we are checking whether your "
        "payment went through. Your account will show the result shortly; please don't "
        "pay again meanwhile.",
        "warning",
    )
    return redirect(url_for("billing.account"))


def settle_unknown_state() -> None:
    """Re-read the reader's billing when a purchase's outcome is unknown (best effort)."""
    customer = customer_for_reader(db.session, current_user.id)
    if customer is None or customer.state_unknown_since is None:
        return
    try:
        refresh_customer(db.session, gateway(), customer)
    except BillingUnavailable:
        db.session.rollback()


def _subscription_is_running() -> bool:
    """The reader has a live subscription whose first payment went through."""
    subscription, _ = snapshots_for_reader(db.session, current_user.id)
    return (
        subscription is not None
        and subscription.is_live()
        and not subscription.has_incomplete_payment()
    )

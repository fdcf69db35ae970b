"""Gift pages: choose and pay for a gift (anyone), then redeem it by the emailed link.

The gift being bought is known by this browser's session only: no view takes a gift id
from the request, and a redeem link is its own secret (only its digest is stored).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

import billing
from billing import BillingStateError, Email, Gift, GiftOrder, active_plans, format_money, utcnow
from paywall.accounts.models import Reader
from paywall.billing.support import gateway, stripe_errors_handled, stripe_page_settings
from paywall.extensions import db
from paywall.gifts import bp
from paywall.gifts.forms import GiftForm, GiftPaymentForm, RedeemForm
from paywall.jobs import JobNotQueued, enqueue
from paywall.ratelimit import enforce_rate_limit
from paywall.validation import form_errors_text

log = logging.getLogger(__name__)

# Session key: the gift this browser is buying (its id).
GIFT_BEING_BOUGHT = "gift_being_bought"
NOT_PAID = "Your payment did not go through, so nothing was charged. Try again or use another card."


def _per_month(plan: billing.PlanView) -> str:
    return format_money(billing.gift_price(plan, 1), plan.currency)


@bp.route("/gift", methods=["GET", "POST"])
@stripe_errors_handled
def buy() -> tuple[str, int] | Response:
    """Choose a plan, a length and a recipient; the card comes on the next page."""
    plans = active_plans(db.session)
    mine = current_user.email if current_user.is_authenticated else None
    form = GiftForm(buyer_email=mine, plan=request.args.get("plan") or None)
    form.plan.choices = [SelectChoice(p.code, f"{p.name} — {_per_month(p)} a month") for p in plans]
    if form.validate_on_submit():
        enforce_rate_limit("CHECKOUT_RATE_LIMIT", "gifts.buy")  # each makes a PaymentIntent
        order = GiftOrder(
            plan_code=form.plan.data,
            months=int(form.months.data),
            recipient_email=form.recipient_email.data,
            buyer_email=form.buyer_email.data,
            message=form.message.data or "",
            buyer_reader_id=current_user.id if current_user.is_authenticated else None,
        )
        try:
            gift = billing.begin_gift(db.session, gateway(), order)
        except BillingStateError as refused:
            form.plan.errors = [refused.message]
        else:
            session[GIFT_BEING_BOUGHT] = gift.id
            return redirect(url_for("gifts.pay"))
    status = 422 if form.errors else 200
    prices = {p.code: [(n, format_money(billing.gift_price(p, n), p.currency))
                       for n in billing.GIFT_MONTHS] for p in plans}  # fmt: skip
    return render_template("gifts/buy.html", form=form, plans=plans, prices=prices), status


def _gift_being_bought() -> Gift | None:
    gift_id = session.get(GIFT_BEING_BOUGHT)
    return db.session.get(Gift, gift_id) if isinstance(gift_id, int) else None


def _queue_gift_emails(gift_id: int) -> None:
    """The recipient's link and the buyer's receipt (the job sends them once)."""
    try:
        enqueue("send_billing_email", Email.GIFT_PAID.value, gift_id)
    except JobNotQueued:
        # Still owed: the payment_intent.succeeded webhook queues them again.
        log.exception("could not queue the emails of gift %s", gift_id)


@bp.route("/gift/pay", methods=["GET", "POST"])
@stripe_errors_handled
def pay() -> tuple[str, int] | Response:
    """Pay for the gift by card (Stripe.js confirms the payment, 3-D Secure included)."""
    gift = _gift_being_bought()
    if gift is None:
        flash("Choose a gift first.", "info")
        return redirect(url_for("gifts.buy"))
    if gift.paid_at is not None:
        return redirect(url_for("gifts.sent"))
    form = GiftPaymentForm()
    error = None
    if form.validate_on_submit():
        if form.payment_intent_id.data != gift.stripe_payment_intent_id:
            error = "Your payment form expired. Please enter your card again."
        else:
            if billing.confirm_gift_payment(db.session, gateway(), gift.id):
                _queue_gift_emails(gift.id)
            db.session.refresh(gift)
            if gift.paid_at is not None:
                return redirect(url_for("gifts.sent"))
            error = NOT_PAID
    elif form.is_submitted():
        error = form_errors_text(form)
    page = render_template(
        "gifts/pay.html",
        form=form,
        gift=gift,
        amount=format_money(gift.amount, gift.currency),
        client_secret=billing.client_secret_of(gateway(), gift),
        error=error,
        **stripe_page_settings(),
    )
    return page, 422 if error else 200


@bp.get("/gift/sent")
def sent() -> str | Response:
    """The gift is paid: what happens next."""
    gift = _gift_being_bought()
    if gift is None or gift.paid_at is None:
        return redirect(url_for("gifts.buy"))
    return render_template(
        "gifts/sent.html", gift=gift, amount=format_money(gift.amount, gift.currency)
    )


def _bad_link(used: bool) -> tuple[str, int]:
    return render_template("gifts/bad_link.html", used=used), 410 if used else 404


def _comp_end(now: datetime) -> datetime | None:
    """When the reader's dated complimentary access ends, if it runs now: a gift starts
    after it (open-ended access has no end to start after: the gift starts now)."""
    until = current_user.comped_until
    return until if current_user.is_comped and until is not None and until > now else None


@bp.route("/gift/redeem/<token>", methods=["GET", "POST"])
def redeem(token: str) -> tuple[str, int] | Response:
    """Redeem a gift: sign in or create an account (and come back), then confirm."""
    gift = billing.gift_by_token(db.session, token)
    if gift is None or gift.redeemed_at is not None:
        return _bad_link(used=gift is not None)
    if not current_user.is_authenticated:
        return render_template("gifts/redeem.html", gift=gift, form=None, here=request.path), 200
    form = RedeemForm()
    if form.validate_on_submit():
        now = utcnow()
        # The reader's row locked: two gifts redeemed at once run one after the other.
        db.session.execute(select(Reader.id).where(Reader.id == current_user.id).with_for_update())
        spent = billing.redeem_gift(db.session, token, current_user.id, now, after=_comp_end(now))
        if spent is None:  # spent a moment ago, in another tab
            db.session.rollback()
            return _bad_link(used=True)
        start, until = spent.access_from, spent.access_until
        db.session.commit()
        assert start is not None and until is not None
        span = f"from {start:%-d %B %Y} " if start > now else ""
        flash(f"Your gift is redeemed: the {spent.plan_name} plan {span}until {until:%-d %B %Y}.",
              "success")  # fmt: skip
        return redirect(url_for("billing.account"))
    return render_template("gifts/redeem.html", gift=gift, form=form, here=request.path), 200

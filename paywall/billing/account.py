"""The reader's billing page and what it offers: card on file, payment confirmation,
cancel, resubscribe, resume, plan change and refresh.

Every page acts on the signed-in reader's own billing only: no view takes a customer,
subscription or invoice id from the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

import billing
from billing import (
    INVOICE_ORDER,
    BillingOutcomeUnknown,
    BillingStateError,
    CardDeclined,
    active_plans,
    customer_for_reader,
    format_money,
    invoice_key,
    invoice_view,
    invoices_query,
    overview_for_reader,
    plan_view,
    refresh_customer,
    snapshots_for_reader,
    utcnow,
)
from paywall.billing import bp
from paywall.billing.forms import CancelForm, CardForm, ChangePlanForm, NextForm
from paywall.billing.page import BillingState, billing_state
from paywall.billing.payment_check import checking_the_payment, settle_unknown_state
from paywall.billing.reader_pages import back_to, card_page, next_target
from paywall.billing.support import gateway, stripe_errors_handled, stripe_page_settings
from paywall.extensions import db
from paywall.pagination import requested_page
from paywall.validation import form_errors_text


@bp.get("/account/billing")
@login_required
def account() -> str:
    """Plan, status, renewal, card on file and invoices (a page at a time), with what the
    reader can do."""
    settle_unknown_state()
    overview = overview_for_reader(db.session, current_user.id)
    invoices = requested_page(
        invoices_query(current_user.id),
        INVOICE_ORDER,
        noun="invoices",
        shape=(datetime, int),
        item=lambda row: invoice_view(row[0]),
        key=invoice_key,
    )
    plans = [
        p for p in active_plans(db.session) if not overview.plan or p.code != overview.plan.code
    ]
    change_form = ChangePlanForm()
    change_form.plan.choices = [SelectChoice(p.code, f"{p.name} — {p.price_label}") for p in plans]
    now = utcnow()
    state = billing_state(overview.subscription, now, _grace())
    return render_template(
        "billing/account.html",
        overview=overview,
        state=state,
        comp=_comp(now),
        again=_resubscribe_offer(overview, state, now),
        invoices=invoices,
        action_form=NextForm(),
        change_form=change_form,
        can_change_plan=bool(plans),
        now=now,
    )


def _grace() -> timedelta:
    return timedelta(days=current_app.config["GRACE_PERIOD_DAYS"])


def _comp(now: datetime) -> dict[str, object] | None:
    """The reader's complimentary access when it runs now (``until`` None: open-ended),
    else the redeemed gift giving them access now (``gift``: who gave it, empty when the
    giver deleted their account; ``plan``: what it gives)."""
    until = current_user.comped_until
    if current_user.is_comped and (until is None or now < until):
        return {"until": until, "gift": None, "plan": None}
    gift = billing.running_gift_of(db.session, current_user.id, now)
    if gift is None:
        return None
    return {"until": gift.access_until, "gift": gift.buyer_email or True, "plan": gift.plan_name}


def _resubscribe_offer(overview: Any, state: BillingState, now: datetime) -> Any:
    """The ended plan, when it is still on sale and the card on file can pay for it."""
    if state.code != "ended" or overview.plan is None or overview.card is None:
        return None
    if overview.card.is_expired(now):
        return None
    on_sale = any(plan.code == overview.plan.code for plan in active_plans(db.session))
    return overview.plan if on_sale else None


@bp.route("/account/billing/card", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def update_card() -> tuple[str, int] | Response:
    """Replace the card on file; any unpaid invoice is retried with the new card at once."""
    if customer_for_reader(db.session, current_user.id) is None:
        flash("You have no card on file yet. Choose a plan to subscribe.", "info")
        return redirect(url_for("billing.subscribe"))
    form = CardForm(next=request.args.get("next", ""))
    error = None
    if form.validate_on_submit():
        target = next_target(form.next.data)
        try:
            result = billing.update_card(
                db.session, gateway(), reader_id=current_user.id,
                setup_intent_id=form.setup_intent_id.data,
            )  # fmt: skip
        except (CardDeclined, BillingStateError) as refused:
            error = refused.message
        else:
            if result.needs_confirmation:
                return redirect(url_for("billing.confirm_payment", next=target or ""))
            if result.declined:
                error = f"Your new card is saved, but the payment failed: {result.declined}"
            else:
                paid = " and your subscription is paid up" if result.paid_invoices else ""
                flash(f"Your card is updated{paid}.", "success")
                return back_to(target)
    elif form.is_submitted():
        error = form_errors_text(form)
    overview = overview_for_reader(db.session, current_user.id)
    status = 422 if error else 200
    return card_page("billing/update_card.html", form, status, overview=overview, error=error)


@bp.route("/account/billing/confirm", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def confirm_payment() -> str | Response:
    """Finish a payment the bank wants confirmed (3-D Secure)."""
    form = NextForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        customer = customer_for_reader(db.session, current_user.id)
        if customer is not None:
            refresh_customer(db.session, gateway(), customer)
        if _payment_went_through():
            flash("Payment confirmed. Welcome aboard!", "success")
            return back_to(next_target(form.next.data))
        flash("The payment is still not confirmed. Try again or use another card.", "warning")
        return redirect(url_for("billing.confirm_payment", next=form.next.data or ""))
    try:
        client_secret = billing.payment_to_confirm(db.session, gateway(), current_user.id)
    except BillingStateError:
        client_secret = None
    if client_secret is None:
        flash("There is no payment waiting for confirmation.", "info")
        return redirect(url_for("billing.account"))
    subscription, _ = snapshots_for_reader(db.session, current_user.id)
    renewal = subscription is not None and subscription.renewal_needs_confirmation()
    return render_template(
        "billing/confirm.html",
        form=form,
        client_secret=client_secret,
        renewal=renewal,
        **stripe_page_settings(),
    )


def _payment_went_through() -> bool:
    """The payment the bank asked to confirm is paid: the subscription runs with neither
    its first payment nor a renewal outstanding (a past-due renewal is not confirmed)."""
    subscription, _ = snapshots_for_reader(db.session, current_user.id)
    return (
        subscription is not None
        and subscription.is_live()
        and not subscription.has_incomplete_payment()
        and not subscription.is_past_due()
        and not subscription.is_unpaid()
    )


@bp.route("/account/billing/cancel", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def cancel() -> tuple[str, int] | Response:
    """Ask to confirm (GET: the day access ends, an optional reason), then stop renewing."""
    overview = overview_for_reader(db.session, current_user.id)
    state = billing_state(overview.subscription, utcnow(), _grace())
    if not state.may_cancel:
        flash("You have no subscription renewing, so there is nothing to cancel.", "info")
        return redirect(url_for("billing.account"))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            row = billing.cancel_at_period_end(
                db.session, gateway(), current_user.id,
                reason=form.reason.data or None, comment=form.comment.data,
            )  # fmt: skip
        except BillingStateError as refused:
            flash(refused.message, "warning")
        else:
            ends = f" on {row.current_period_end:%-d %B %Y}" if row.current_period_end else ""
            flash(f"Your subscription will end{ends}. You can resume it until then.", "info")
        return redirect(url_for("billing.account"))
    status = 422 if form.is_submitted() else 200
    sub = overview.subscription
    access_ends = sub.period_ends_at() if sub is not None and not state.owes_money else None
    page = render_template(
        "billing/cancel.html", form=form, overview=overview, state=state, access_ends=access_ends
    )
    return page, status


@bp.post("/account/billing/resubscribe")
@login_required
@stripe_errors_handled
def resubscribe() -> Response:
    """Start the ended plan again with the card on file, in one click."""
    if not NextForm().validate_on_submit():
        flash("Your session had expired, so nothing was charged. Please try again.", "warning")
        return redirect(url_for("billing.account"))
    try:
        result = billing.resubscribe(db.session, gateway(), reader_id=current_user.id)
    except CardDeclined as declined:
        flash(f"{declined.message} No payment was taken; enter another card.", "error")
        return redirect(url_for("billing.subscribe"))
    except BillingOutcomeUnknown:
        return checking_the_payment(None)
    except BillingStateError as refused:
        flash(refused.message, "warning")
        return redirect(url_for("billing.account"))
    if result.needs_confirmation:
        return redirect(url_for("billing.confirm_payment"))
    flash("Welcome back! Your subscription is running again.", "success")
    return redirect(url_for("billing.account"))


@bp.route("/account/billing/resume", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def resume() -> str | Response:
    """Keep a subscription that was set to end (GET asks to confirm)."""
    form = NextForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            billing.resume_subscription(db.session, gateway(), current_user.id)
        except BillingStateError as refused:
            flash(refused.message, "warning")
            return redirect(url_for("billing.account"))
        flash("Your subscription is running and renews as before.", "success")
        return back_to(next_target(form.next.data))
    subscription, _ = snapshots_for_reader(db.session, current_user.id)
    paused = subscription is not None and subscription.paused_on_request()
    return render_template("billing/resume.html", form=form, paused=paused)


def _plan_choices() -> list[SelectChoice]:
    return [SelectChoice(p.code, p.name) for p in active_plans(db.session)]


@bp.route("/account/billing/plan", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def change_plan() -> str | Response:
    """Show what a move to another plan costs and when it applies (GET), then make it."""
    form = ChangePlanForm(plan=request.args.get("plan", ""))
    form.plan.choices = _plan_choices()
    if form.validate_on_submit():
        return _make_plan_change(form.plan.data)
    if form.is_submitted() or form.plan.data not in {c.value for c in form.plan.choices}:
        flash("Choose one of the plans on offer.", "warning")
        return redirect(url_for("billing.account"))
    try:
        change = billing.preview_plan_change(db.session, gateway(), current_user.id, form.plan.data)
    except BillingStateError as refused:
        flash(refused.message, "warning")
        return redirect(url_for("billing.account"))
    overview = overview_for_reader(db.session, current_user.id)
    return render_template(
        "billing/change_plan.html",
        form=form,
        change=change,
        new_plan=plan_view(change.plan),
        overview=overview,
        due_now=format_money(change.due_now, change.currency),
    )


def _make_plan_change(plan_code: str) -> Response:
    try:
        result = billing.change_plan(db.session, gateway(), current_user.id, plan_code)
    except BillingStateError as refused:
        flash(refused.message, "warning")
        return redirect(url_for("billing.account"))
    if result.needs_confirmation:
        return redirect(url_for("billing.confirm_payment"))
    if result.declined:
        flash(f"Your plan is unchanged: {result.declined}", "warning")
    elif result.applied:
        flash("Your new plan starts now.", "success")
    elif result.applies_at:
        flash(f"Your plan changes on {result.applies_at:%-d %B %Y}.", "success")
    return redirect(url_for("billing.account"))


@bp.post("/account/billing/refresh")
@login_required
@stripe_errors_handled
def refresh() -> Response:
    """Re-read this reader's billing from Stripe (e.g. after a change made elsewhere)."""
    customer = customer_for_reader(db.session, current_user.id)
    if NextForm().validate_on_submit() and customer is not None:
        changes = refresh_customer(db.session, gateway(), customer).changes
        message = "We found changes and updated your account." if changes else "All up to date."
        flash(message, "info")
    return redirect(url_for("billing.account"))

"""Reader billing pages: choose a plan, enter a card, and manage the subscription.

Every page acts on the signed-in reader's own billing only: no view takes a customer,
subscription or invoice id from the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

import billing
from billing import (
    INVOICE_ORDER,
    BillingOutcomeUnknown,
    BillingStateError,
    BillingUnavailable,
    CardDeclined,
    PlanView,
    Promotion,
    PromotionCodeRefused,
    active_plans,
    customer_for_reader,
    format_money,
    invoice_key,
    invoice_view,
    invoices_query,
    live_subscription,
    overview_for_reader,
    plan_view,
    refresh_customer,
    snapshots_for_reader,
    utcnow,
)
from paywall.accounts import service as account_service
from paywall.accounts import sessions
from paywall.billing import bp
from paywall.billing.forms import (
    CancelForm,
    CardForm,
    ChangePlanForm,
    CheckoutForm,
    NextForm,
    SubscribeForm,
)
from paywall.billing.page import BillingState, billing_state
from paywall.billing.support import gateway, stripe_errors_handled, stripe_page_settings
from paywall.console.funnel import record_conversion
from paywall.console.models import SUBSCRIPTION
from paywall.extensions import db
from paywall.pagination import requested_page
from paywall.ratelimit import enforce_rate_limit
from paywall.security import safe_next_url
from paywall.validation import form_errors_text

# Session key: the card form (SetupIntent) this browser was given before it had an account.
CHECKOUT_CARD = "checkout_setup_intent"


def _next(value: str | None = None) -> str | None:
    return safe_next_url(value or request.args.get("next"))


def _back(target: str | None) -> Response:
    return redirect(target or url_for("billing.account"))


def _payment_being_checked() -> bool:
    """A purchase's outcome is unknown: no second one is offered until it is settled."""
    customer = customer_for_reader(db.session, current_user.id)
    return customer is not None and customer.state_unknown_since is not None


def _has_live_subscription() -> bool:
    customer = customer_for_reader(db.session, current_user.id)
    return customer is not None and live_subscription(db.session, customer.id) is not None


@bp.get("/subscribe")
def subscribe() -> str | Response:
    """The plans on sale: price, what each includes, any trial. Anyone may look."""
    if current_user.is_authenticated:
        if _has_live_subscription():
            flash("You already have a subscription. You can change its plan here.", "info")
            return redirect(url_for("billing.account"))
        if _payment_being_checked():
            return redirect(url_for("billing.account"))
    return render_template("billing/plans.html", plans=active_plans(db.session), next=_next() or "")


def _plan_or_404(code: str):  # type: ignore[no-untyped-def]
    plan = next((p for p in active_plans(db.session) if p.code == code), None)
    if plan is None:
        abort(404, "That plan is not on sale.")
    return plan


def _card_page(
    template: str, form: CardForm, status: int = 200, **context: object
) -> tuple[str, int]:
    """A page with the card form, backed by a fresh SetupIntent."""
    setup = billing.begin_card_setup(db.session, gateway(), current_user.id, current_user.email)
    page = render_template(
        template, form=form, client_secret=setup.client_secret, **stripe_page_settings(), **context
    )
    return page, status


def _checkout_page(
    plan: PlanView,
    form: SubscribeForm,
    error: str | None,
    client_secret: str | None = None,
    promotion: Promotion | None = None,
) -> tuple[str, int]:
    """The checkout page for ``plan`` (with a SetupIntent of its own unless given one)."""
    trial_ends = utcnow() + timedelta(days=plan.trial_days) if plan.trial_days else None
    context = {"plan": plan, "error": error, "trial_ends": trial_ends, "promotion": promotion}
    status = 422 if error or form.errors else 200
    if client_secret is None:
        return _card_page("billing/checkout.html", form, status, **context)
    page = render_template(
        "billing/checkout.html",
        form=form,
        client_secret=client_secret,
        **stripe_page_settings(),
        **context,
    )
    return page, status


@bp.route("/subscribe/<code>", methods=["GET", "POST"])
@stripe_errors_handled
def checkout(code: str) -> tuple[str, int] | Response:
    """Enter a card and subscribe to the plan ``code``; without an account, the email
    entered with the card makes one in the same step."""
    plan = _plan_or_404(code)
    if not current_user.is_authenticated:
        return _checkout_without_account(plan)
    form = SubscribeForm(next=request.args.get("next", ""))
    error, promotion = None, None
    if _applying_a_code(form):
        promotion = _promotion(plan, form, current_user.id)
        error = "; ".join(form.csrf_token.errors) or None
    elif form.validate_on_submit():
        promotion = _promotion(plan, form, current_user.id)
        if not form.promotion_code.errors:
            outcome = _subscribe(
                plan, form.setup_intent_id.data, _next(form.next.data), form.promotion_code.data
            )
            if isinstance(outcome, Response):
                return outcome
            error = outcome
    elif form.is_submitted():
        error = form_errors_text(form)
    return _checkout_page(plan, form, error, promotion=promotion)


def _applying_a_code(form: SubscribeForm) -> bool:
    """The checkout's "Apply" was pressed: check the code and show the price, nothing more
    (the card is not needed yet; the CSRF token and the code's own format are)."""
    if not form.is_submitted() or "apply" not in request.form:
        return False
    form.csrf_token.validate(form)
    form.promotion_code.validate(form)
    if not form.promotion_code.data and not form.promotion_code.errors:
        form.promotion_code.errors = ["Enter a promotion code."]
    return True


def _promotion(plan: PlanView, form: SubscribeForm, reader_id: int | None) -> Promotion | None:
    """The typed promotion code priced by the server with Stripe; a refused one becomes the
    field's error. None when no (valid) code was typed."""
    code = form.promotion_code.data or ""
    if form.csrf_token.errors or form.promotion_code.errors or not code:
        return None
    try:
        return billing.check_promotion(db.session, gateway(), plan.code, code, reader_id)
    except PromotionCodeRefused as refused:
        form.promotion_code.errors = [refused.message]
        return None


def _subscribe(
    plan: PlanView,
    setup_intent_id: str,
    target: str | None,
    promotion_code: str = "",
    *,
    card_before_account: bool = False,
) -> Response | str:
    """Subscribe the signed-in reader: where they go next, or what to tell them on the form."""
    try:
        result = billing.subscribe(
            db.session,
            gateway(),
            reader_id=current_user.id,
            email=current_user.email,
            plan_code=plan.code,
            setup_intent_id=setup_intent_id,
            card_before_account=card_before_account,
            promotion_code=promotion_code or "",
        )
    except PromotionCodeRefused as refused:
        return f"{refused.message} Nothing was charged."
    except CardDeclined as declined:
        return f"{declined.message} No payment was taken; try another card."
    except BillingOutcomeUnknown:
        return _checking_the_payment(target)
    except BillingStateError as refused:
        if refused.code not in ("already_subscribed", "state_unknown"):
            return refused.message
        flash(refused.message, "warning")
        return redirect(url_for("billing.account"))
    record_conversion(current_user.id, SUBSCRIPTION, target)
    if result.needs_confirmation:
        return redirect(url_for("billing.confirm_payment", next=target or ""))
    trial = f" Your {plan.trial_days}-day free trial starts today." if plan.trial_days else ""
    flash(f"Welcome aboard! You're subscribed to {plan.name}.{trial}", "success")
    return _back(target)


def _checkout_without_account(plan: PlanView) -> tuple[str, int] | Response:
    """Subscribing in one step: email and card on one page. A new email gets an account
    (no password yet; a confirmation email), is signed in here and subscribes; an email
    that has an account is emailed a sign-in link back to this page, and nothing is made.

    The card form's SetupIntent has no customer yet, so only the one this browser was
    given (kept in its session) is accepted, once.
    """
    enforce_rate_limit("CHECKOUT_RATE_LIMIT", "billing.checkout")
    form = CheckoutForm(next=request.args.get("next", ""))
    error, promotion = None, None
    if _applying_a_code(form):
        promotion = _promotion(plan, form, None)
        error = "; ".join(form.csrf_token.errors) or None
    elif form.validate_on_submit():
        target = _next(form.next.data)
        promotion = _promotion(plan, form, None)  # before any account is made
        if form.setup_intent_id.data != session.pop(CHECKOUT_CARD, None):
            error = "Your card form expired. Please enter your card again."
        elif not form.promotion_code.errors:
            reader = account_service.start_account_at_checkout(form.email.data, form.name.data)
            if reader is None:
                return _sign_in_to_subscribe(form.email.data, plan, target)
            sessions.sign_in(reader)
            outcome = _subscribe(
                plan,
                form.setup_intent_id.data,
                target,
                form.promotion_code.data,
                card_before_account=True,
            )
            if isinstance(outcome, Response):
                flash(f"We've emailed {reader.email} a link to confirm your address.", "info")
                return outcome
            # Declined: the account is made and signed in; the card form is now theirs.
            again = SubscribeForm(
                formdata=None, next=form.next.data, promotion_code=form.promotion_code.data
            )
            return _checkout_page(plan, again, outcome, promotion=promotion)
    elif form.is_submitted():
        error = "; ".join([*form.setup_intent_id.errors, *form.errors.get("csrf_token", [])])
    setup = billing.begin_card_setup_before_account(gateway())
    session[CHECKOUT_CARD] = setup.setup_intent_id
    return _checkout_page(
        plan, form, error or None, client_secret=setup.client_secret, promotion=promotion
    )


def _sign_in_to_subscribe(email: str, plan: PlanView, target: str | None) -> tuple[str, int]:
    """The email has an account: its owner signs in (by the emailed link or a password)
    and comes back to this plan's checkout. Nothing is charged; the page says no more
    than that a link was sent."""
    back = url_for("billing.checkout", code=plan.code, next=target or None)
    account_service.send_sign_in_link(email, back)
    page = render_template(
        "accounts/link_sent.html",
        heading="Check your email to continue",
        message=(
            f"To subscribe with {email}, open the link we've emailed to it: it signs you in "
            "and brings you back here to finish. Nothing has been charged."
        ),
        sign_in_url=url_for("accounts.sign_in", next=back),
    )
    return page, 200


def _checking_the_payment(target: str | None) -> Response:
    """Stripe may have acted on a purchase whose answer was lost: re-read at once, and
    never say nothing was charged, nor offer a second purchase, until it is settled."""
    _settle_unknown_state()
    if _subscription_is_running():
        flash("Your subscription is active. Welcome aboard!", "success")
        return _back(target)
    flash(
        "We could not hear back from the payment service, so we are checking whether your "
        "payment went through. Your account will show the result shortly; please don't "
        "pay again meanwhile.",
        "warning",
    )
    return redirect(url_for("billing.account"))


def _settle_unknown_state() -> None:
    """Re-read the reader's billing when a purchase's outcome is unknown (best effort)."""
    customer = customer_for_reader(db.session, current_user.id)
    if customer is None or customer.state_unknown_since is None:
        return
    try:
        refresh_customer(db.session, gateway(), customer)
    except BillingUnavailable:
        db.session.rollback()


@bp.get("/account/billing")
@login_required
def account() -> str:
    """Plan, status, renewal, card on file and invoices (a page at a time), with what the
    reader can do."""
    _settle_unknown_state()
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
        target = _next(form.next.data)
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
                return _back(target)
    elif form.is_submitted():
        error = form_errors_text(form)
    overview = overview_for_reader(db.session, current_user.id)
    status = 422 if error else 200
    return _card_page("billing/update_card.html", form, status, overview=overview, error=error)


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
            return _back(_next(form.next.data))
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


def _subscription_is_running() -> bool:
    """The reader has a live subscription whose first payment went through."""
    subscription, _ = snapshots_for_reader(db.session, current_user.id)
    return (
        subscription is not None
        and subscription.is_live()
        and not subscription.has_incomplete_payment()
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
        return _checking_the_payment(None)
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
        return _back(_next(form.next.data))
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

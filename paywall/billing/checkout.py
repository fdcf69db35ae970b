"""Subscribing: the plans on sale, and the checkout that takes a card (and, without an
account, an email that makes one in the same step) and any promotion code.

Every page acts on the signed-in reader's own billing only: no view takes a customer,
subscription or invoice id from the request.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

import billing
from billing import (
    BillingOutcomeUnknown,
    BillingStateError,
    CardDeclined,
    PlanView,
    Promotion,
    PromotionCodeRefused,
    active_plans,
    customer_for_reader,
    live_subscription,
    utcnow,
)
from paywall.accounts import sessions, signin, signup
from paywall.billing import bp
from paywall.billing.forms import CheckoutForm, SubscribeForm
from paywall.billing.payment_check import checking_the_payment, payment_being_checked
from paywall.billing.reader_pages import back_to, card_page, next_target
from paywall.billing.support import gateway, stripe_errors_handled, stripe_page_settings
from paywall.console.funnel import record_conversion
from paywall.console.models import SUBSCRIPTION
from paywall.extensions import db
from paywall.ratelimit import enforce_rate_limit
from paywall.validation import form_errors_text

# Session key: the card form (SetupIntent) this browser was given before it had an account.
CHECKOUT_CARD = "checkout_setup_intent"


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
        if payment_being_checked():
            return redirect(url_for("billing.account"))
    return render_template(
        "billing/plans.html", plans=active_plans(db.session), next=next_target() or ""
    )


def _plan_or_404(code: str):  # type: ignore[no-untyped-def]
    plan = next((p for p in active_plans(db.session) if p.code == code), None)
    if plan is None:
        abort(404, "That plan is not on sale.")
    return plan


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
        return card_page("billing/checkout.html", form, status, **context)
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
                plan,
                form.setup_intent_id.data,
                next_target(form.next.data),
                form.promotion_code.data,
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
        return checking_the_payment(target)
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
    return back_to(target)


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
        target = next_target(form.next.data)
        promotion = _promotion(plan, form, None)  # before any account is made
        if form.setup_intent_id.data != session.pop(CHECKOUT_CARD, None):
            error = "Your card form expired. Please enter your card again."
        elif not form.promotion_code.errors:
            reader = signup.start_account_at_checkout(form.email.data, form.name.data)
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
    signin.send_sign_in_link(email, back)
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

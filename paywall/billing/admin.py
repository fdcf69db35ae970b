"""Publisher pages: plans (synced to Stripe), subscribers and revenue, complimentary access."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from billing import (
    STATUS_WORDS,
    SUBSCRIBER_ORDER,
    BillingError,
    PlanInput,
    all_plans,
    save_plan,
    subscriber_row,
    subscribers_query,
    sync_catalog,
    utcnow,
)
from paywall.accounts.comps import comped_readers, grant_comp, revoke_comp
from paywall.accounts.decorators import admin_required, staff_required
from paywall.accounts.lookup import AccountError, normalise_email
from paywall.accounts.models import Reader
from paywall.audit.log import record
from paywall.billing import bp
from paywall.billing.forms import CompForm, NextForm, PlanForm, minor_units
from paywall.billing.support import gateway, kept_revenue
from paywall.extensions import db
from paywall.pagination import PAGE_SIZE, requested_page
from paywall.security import safe_next_url
from paywall.validation import form_errors_text, show_on_form


def _sync_and_report() -> None:
    try:
        changes = sync_catalog(db.session, gateway(), on_change=record)
    except BillingError as error:
        flash(f"Saved, but Stripe could not be updated: {error.message} "
              "Try again, or run `paywall sync-catalog`.", "warning")  # fmt: skip
        return
    flash(
        "Plans saved and in sync with Stripe" + (f": {'; '.join(changes)}." if changes else "."),
        "success",
    )


@bp.route("/admin/plans", methods=["GET", "POST"])
@admin_required
def plans() -> str | Response:
    """The catalogue; the form adds a plan or updates the one with the same code."""
    form = PlanForm()
    if form.validate_on_submit():
        save_plan(db.session, PlanInput(
            code=form.code.data, name=form.name.data, tier=form.tier.data,
            amount=minor_units(form.amount.data, form.currency.data), currency=form.currency.data,
            interval=form.interval.data, trial_days=form.trial_days.data or 0,
            description=form.description.data or "", active=form.active.data,
            position=form.position.data or 0,
        ), on_change=record)  # fmt: skip
        _sync_and_report()
        return redirect(url_for("billing.plans"))
    status = 422 if form.errors else 200
    return render_template(
        "billing/admin_plans.html", form=form, plans=all_plans(db.session)
    ), status


@bp.post("/admin/plans/sync")
@admin_required
def sync_plans() -> Response:
    """Push every plan to Stripe now."""
    if NextForm().validate_on_submit():
        _sync_and_report()
    return redirect(url_for("billing.plans"))


@bp.get("/admin/subscribers")
@staff_required
def subscribers() -> str:
    """Subscribers a page at a time, searched by email and filtered by status and plan,
    with plan, card and renewal; revenue at a glance."""
    search = request.args.get("email", "").strip()[:254]
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_WORDS:
        abort(400, "There is no such subscription status.")
    plans = {plan.code: plan.name for plan in all_plans(db.session)}
    plan = request.args.get("plan") or None
    if plan is not None and plan not in plans:
        abort(400, "There is no such plan.")
    reader_ids = (
        select(Reader.id).where(Reader.email.contains(normalise_email(search), autoescape=True))
        if search
        else None
    )
    page = requested_page(
        subscribers_query(status=status, plan=plan, reader_ids=reader_ids),
        SUBSCRIBER_ORDER,
        noun="subscribers",
        shape=(int,),
        item=subscriber_row,
        key=lambda row: (row.customer_id,),
    )
    emails = dict(
        db.session.execute(
            select(Reader.id, Reader.email).where(Reader.id.in_([r.reader_id for r in page.items]))
        ).all()
    )
    comped, comped_count = comped_readers(PAGE_SIZE)
    return render_template(
        "billing/admin_subscribers.html",
        page=page,
        emails=emails,
        search=search,
        status=status,
        statuses=STATUS_WORDS,
        plan=plan,
        plans=plans,
        revenue=kept_revenue(utcnow()),
        comp_form=CompForm(),
        comped=comped,
        comped_count=comped_count,
        action_form=NextForm(),
    )


@bp.post("/admin/comps")
@admin_required
def grant() -> str | Response:
    """Give a reader complimentary access."""
    form = CompForm()
    if form.validate_on_submit():
        try:
            reader = grant_comp(form.email.data, form.until.data)
        except AccountError as error:
            show_on_form(form, error)
        else:
            flash(f"{reader.email} now reads everything for free.", "success")
            return redirect(url_for("billing.subscribers"))
    flash(form_errors_text(form), "warning")
    return redirect(url_for("billing.subscribers"))


@bp.post("/admin/comps/<int:reader_id>/revoke")
@admin_required
def revoke(reader_id: int) -> Response:
    """End a reader's complimentary access, then go back (to ``next``, if on this site)."""
    form = NextForm()
    if form.validate_on_submit():
        revoke_comp(reader_id)
        flash("Complimentary access ended.", "info")
    return redirect(safe_next_url(form.next.data) or url_for("billing.subscribers"))

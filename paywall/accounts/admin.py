"""Staff pages about readers: the list (search, filter by state) and one reader's page."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from billing import (
    INVOICE_ORDER,
    invoice_key,
    invoice_view,
    invoices_query,
    subscriber_row,
    subscribers_query,
)
from paywall.accounts import bp
from paywall.accounts.decorators import admin_required, staff_required
from paywall.accounts.directory import READER_ORDER, READER_STATES, readers_query
from paywall.accounts.forms import RoleForm
from paywall.accounts.lookup import AccountError
from paywall.accounts.models import Reader, Role
from paywall.accounts.roles import change_role
from paywall.extensions import db
from paywall.pagination import requested_page


@bp.get("/admin/readers")
@staff_required
def readers() -> str:
    """Every account a page at a time, searched by email and filtered by state, with each
    reader's subscription."""
    search = request.args.get("email", "").strip()[:254]
    state = request.args.get("state") or None
    if state is not None and state not in READER_STATES:
        abort(400, "There is no such reader state.")
    page = requested_page(
        readers_query(search=search, state=state),
        READER_ORDER,
        noun="readers",
        shape=(int,),
        item=lambda row: row[0],
        key=lambda reader: (reader.id,),
    )
    shown = select(Reader.id).where(Reader.id.in_([reader.id for reader in page.items]))
    subscriptions = {
        row.reader_id: row
        for row in map(subscriber_row, db.session.execute(subscribers_query(reader_ids=shown)))
    }
    return render_template(
        "accounts/admin_readers.html",
        page=page,
        subscriptions=subscriptions,
        search=search,
        state=state,
        states=READER_STATES,
    )


@bp.get("/admin/readers/<int:reader_id>")
@staff_required
def reader(reader_id: int) -> str:
    """One reader's account, subscription and invoices (a page at a time)."""
    found = _reader_or_404(reader_id)
    return _reader_page(found, RoleForm(formdata=None, role=found.role))


@bp.post("/admin/readers/<int:reader_id>/role")
@admin_required
def role(reader_id: int) -> str | Response | tuple[str, int]:
    """Make a reader an editor or admin, or a reader again."""
    found = _reader_or_404(reader_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            changed = change_role(found, Role(form.role.data), by=current_user.id)
        except AccountError as error:
            db.session.rollback()
            form.role.errors = [error.message]
        else:
            if changed:
                flash(f"{found.email} is now {'an' if found.role == Role.ADMIN else 'a'} "
                      f"{found.role}.", "success")  # fmt: skip
            return redirect(url_for("accounts.reader", reader_id=found.id))
    return _reader_page(found, form), 422


def _reader_or_404(reader_id: int) -> Reader:
    found = db.session.get(Reader, reader_id)
    if found is None:
        abort(404, "There is no reader with this number.")
    return found


def _reader_page(found: Reader, role_form: RoleForm) -> str:
    current = db.session.execute(
        subscribers_query(reader_ids=select(Reader.id).where(Reader.id == found.id))
    ).first()
    subscription = subscriber_row(current) if current is not None else None
    invoices = requested_page(
        invoices_query(found.id),
        INVOICE_ORDER,
        noun="invoices",
        shape=(datetime, int),
        item=lambda row: invoice_view(row[0]),
        key=invoice_key,
    )
    return render_template(
        "accounts/admin_reader.html",
        reader=found,
        subscription=subscription,
        invoices=invoices,
        role_form=role_form,
    )

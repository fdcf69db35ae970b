"""The reader's data rights: change the email, download my data, delete my account."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from billing import utcnow
from paywall.accounts import bp, data_rights
from paywall.accounts.forms import ChangeEmailForm, ConfirmForm, DeleteAccountForm
from paywall.accounts.lookup import AccountError
from paywall.accounts.routes import account_page, bad_link_page
from paywall.accounts.tokens import TokenError
from paywall.billing.support import stripe_errors_handled
from paywall.ratelimit import rate_limited
from paywall.validation import show_on_form


@bp.post("/account/email")
@login_required
@rate_limited("EMAIL_LINK_RATE_LIMIT")
def request_email_change() -> str | Response:
    """Ask to move the account to a new address: a link goes there, a notice to the old one."""
    form = ChangeEmailForm(prefix=ChangeEmailForm.PREFIX)
    if form.validate_on_submit():
        try:
            new = data_rights.request_email_change(
                current_user.id,
                form.new_email.data,
                form.current_password.data or "",
                session_id=current_user.session_id,
            )
        except AccountError as error:
            show_on_form(form, error)
        else:
            flash(
                f"We've sent a link to {new}. Your email stays {current_user.email} "
                "until you open it.",
                "success",
            )
            return redirect(url_for("accounts.account"))
    return account_page(email_form=form)


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str) -> str | Response | tuple[str, int]:
    """Confirm a new email address from the emailed link (GET shows a button, POST
    changes it, once); the reader's other sessions end."""
    form = ConfirmForm()
    try:
        reader, new = data_rights.email_change_for(token)
        if form.validate_on_submit():
            here = current_user.is_authenticated and current_user.id == reader.id
            data_rights.change_email(token, keep_session=current_user.session_id if here else None)
            flash(f"Your email address is now {new}. Other devices are signed out.", "success")
            return redirect(url_for("accounts.account" if here else "accounts.sign_in"))
    except TokenError as error:
        return bad_link_page(error, "accounts.account", "Back to your account")
    except AccountError as error:
        return render_template(
            "accounts/confirm_email_change.html", form=form, new_email=new, problem=error.message
        ), 409
    return render_template("accounts/confirm_email_change.html", form=form, new_email=new)


@bp.get("/account/data")
@login_required
def download_data() -> Response:
    """Everything kept about the signed-in reader, as a JSON file."""
    data = data_rights.export(current_user.id, session_id=current_user.session_id)
    response = current_app.response_class(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", mimetype="application/json"
    )
    filename = f"my-data-{utcnow():%Y-%m-%d}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@stripe_errors_handled
def delete_account() -> str | Response:
    """Delete the account after the reader types their email or password; any
    subscription ends at once, and they are signed out everywhere."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            canceled = data_rights.delete_account(current_user.id, form.confirmation.data)
        except AccountError as error:
            show_on_form(form, error)
        else:
            logout_user()
            message = "Your account is deleted and you're signed out everywhere."
            if canceled:
                message += " Your subscription has ended; you won't be charged again."
            flash(message, "success")
            return redirect(url_for("articles.home"))
    return render_template("accounts/delete_account.html", form=form)

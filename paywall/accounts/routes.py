"""Sign up, sign in (password or emailed link), sign out, reset, and the account page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from paywall.accounts import bp, password_changes, roles, sessions, signin, signup
from paywall.accounts.codes import CodeRefused
from paywall.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    EmailLinkForm,
    ResetPasswordForm,
    SignInCodeForm,
    SignInForm,
    SignUpForm,
)
from paywall.accounts.lookup import AccountError, find_by_email
from paywall.accounts.models import Role
from paywall.accounts.tokens import TokenError
from paywall.console.funnel import record_conversion
from paywall.console.models import SIGN_UP
from paywall.ratelimit import rate_limited
from paywall.security import safe_next_url
from paywall.validation import show_on_form

LINK_SENT = "If an account exists for {email}, we've emailed it a link. It works once."
SIGN_IN_SENT = "If an account exists for {email}, we've emailed it a sign-in link and a code."
CODE_REQUEST = "sign_in_code"  # session key: the pending code's request token, and the email
SIGN_UP_SENT = "We've sent an email to {email}. Open the link in it to finish."
SIGN_IN_FAILED = (
    "That email and password don't match an account. "
    "Just signed up? Open the link we emailed you first."
)
MAIL_FAILED = "We couldn't send the confirmation email just now. Please try again in a minute."


def _next_target(form_value: str | None = None) -> str | None:
    return safe_next_url(form_value or request.args.get("next"))


def _go_on(target: str | None) -> Response:
    return redirect(target or url_for("articles.home"))


@bp.route("/signup", methods=["GET", "POST"])
@rate_limited("SIGNUP_RATE_LIMIT")
def sign_up() -> str | Response:
    """Start an account; the emailed link finishes it (the same answer for a taken email)."""
    if current_user.is_authenticated:
        return _go_on(_next_target())
    form = SignUpForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            signup.sign_up(
                form.email.data,
                form.password.data,
                form.name.data or "",
                _next_target(form.next.data),
            )
        except AccountError as error:
            show_on_form(form, error)
        else:
            return render_template(
                "accounts/link_sent.html",
                heading="Check your email to finish",
                message=SIGN_UP_SENT.format(email=form.email.data),
            )
    return render_template("accounts/sign_up.html", form=form)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def confirm_sign_up(token: str) -> str | Response:
    """Finish signing up from the emailed link (GET shows a button; POST confirms the
    email and signs in, once), then go on to where the reader was going."""
    return _sign_in_by_link(
        token,
        find=signup.reader_for_sign_up_link,
        use=_use_sign_up_link,
        welcome="Welcome! Your email address is confirmed and you're signed in.",
        retry_label="Email me a sign-in link",
        template="accounts/confirm_sign_up.html",
    )


def _use_sign_up_link(token: str) -> Any:
    """Finish the sign-up, credited to the article the reader came from (if any)."""
    reader = signup.use_sign_up_link(token)
    record_conversion(reader.id, SIGN_UP, _next_target())
    return reader


def _sign_in_by_link(
    token: str,
    *,
    find: Callable[[str], Any],
    use: Callable[[str], Any],
    welcome: str,
    retry_label: str,
    template: str,
) -> str | Response:
    """An emailed link that signs in: GET shows a button (mail scanners open links), POST
    spends the link once and goes on to where the reader was going."""
    form = ConfirmForm()
    try:
        reader = find(token)
        if form.validate_on_submit():
            sessions.sign_in(use(token))
            flash(welcome, "success")
            return _go_on(_next_target())
    except TokenError as error:
        return bad_link_page(error, "accounts.request_sign_in_link", retry_label)
    return render_template(template, form=form, reader=reader)


@bp.route("/signin", methods=["GET", "POST"])
@rate_limited("SIGNIN_RATE_LIMIT")
def sign_in() -> str | Response:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return _go_on(_next_target())
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        reader = signin.authenticate(form.email.data, form.password.data)
        if reader is None:
            form.password.errors.append(SIGN_IN_FAILED)
        else:
            signin.record_sign_in(reader)
            sessions.sign_in(reader, remember=form.remember.data)
            return _go_on(_next_target(form.next.data))
    return render_template("accounts/sign_in.html", form=form)


@bp.post("/signout")
def sign_out() -> Response:
    """Sign out of this browser: its session ends, whoever else holds a copy of its cookies."""
    sessions.sign_out()
    flash("You're signed out.", "success")
    return redirect(url_for("articles.home"))


@bp.route("/signin/link", methods=["GET", "POST"])
@rate_limited("EMAIL_LINK_RATE_LIMIT")
def request_sign_in_link() -> str | Response:
    """Ask for a one-time sign-in link and code by email; the answer is the code form."""
    form = EmailLinkForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        target = _next_target(form.next.data)
        earlier = session.get(CODE_REQUEST) or {}
        code_request = signin.send_sign_in_link(
            form.email.data, target, replacing=earlier.get("request")
        )
        session[CODE_REQUEST] = {"request": code_request, "email": form.email.data}
        return _code_page(SignInCodeForm(formdata=None, next=target or ""))
    return render_template("accounts/request_link.html", form=form)


@bp.route("/signin/code", methods=["GET", "POST"])
@rate_limited("SIGNIN_RATE_LIMIT")
def sign_in_with_code() -> str | Response:
    """Sign in on this browser with the code from the sign-in email it asked for."""
    pending = session.get(CODE_REQUEST) or {}
    form = SignInCodeForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            reader = signin.use_sign_in_code(pending.get("request"), form.code.data)
        except CodeRefused as error:
            show_on_form(form, error)
        else:
            session.pop(CODE_REQUEST, None)
            sessions.sign_in(reader)
            flash("You're signed in.", "success")
            return _go_on(_next_target(form.next.data))
    elif request.method == "GET" and not pending:
        return redirect(url_for("accounts.request_sign_in_link", next=_next_target()))
    return _code_page(form)


def _code_page(form: SignInCodeForm) -> str:
    email = (session.get(CODE_REQUEST) or {}).get("email")
    return render_template(
        "accounts/sign_in_code.html",
        form=form,
        message=SIGN_IN_SENT.format(email=email) if email else None,
    )


@bp.route("/signin/link/<token>", methods=["GET", "POST"])
def sign_in_with_link(token: str) -> str | Response:
    """Confirm and spend an emailed sign-in link (GET shows a button; POST signs in)."""
    return _sign_in_by_link(
        token,
        find=signin.reader_for_sign_in_link,
        use=signin.use_sign_in_link,
        welcome="You're signed in.",
        retry_label="Email me a new sign-in link",
        template="accounts/confirm_link.html",
    )


@bp.route("/verify/<token>")
def verify_email(token: str) -> str | Response:
    """Confirm an email address from the emailed link."""
    try:
        signup.verify_email(token)
    except TokenError as error:
        return bad_link_page(error, "accounts.account", "Send a new confirmation link")
    flash("Thanks — your email address is confirmed.", "success")
    return redirect(
        url_for("accounts.account") if current_user.is_authenticated else url_for("articles.home")
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@rate_limited("EMAIL_LINK_RATE_LIMIT")
def forgot_password() -> str | Response:
    """Ask for a password-reset link."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        password_changes.send_password_reset(form.email.data)
        return render_template(
            "accounts/link_sent.html", message=LINK_SENT.format(email=form.email.data)
        )
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    """Choose a new password from an emailed reset link."""
    form = ResetPasswordForm()
    try:
        password_changes.reader_for_reset(token)
        if form.validate_on_submit():
            try:
                reader = password_changes.reset_password(token, form.password.data)
            except AccountError as error:
                show_on_form(form, error)
            else:
                signin.record_sign_in(reader)
                sessions.sign_in(reader)
                flash("Your password is changed, and you're signed in.", "success")
                return redirect(url_for("accounts.account"))
    except TokenError as error:
        return bad_link_page(error, "accounts.forgot_password", "Email me a new reset link")
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response:
    """The reader's account: email, confirmation, password, where they are signed in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            password_changes.change_password(
                current_user.id,
                form.current_password.data,
                form.password.data,
                keep_session=current_user.session_id,
            )
        except AccountError as error:
            show_on_form(form, error)
        else:
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.account"))
    return account_page(form=form)


def account_page(
    form: ChangePasswordForm | None = None, email_form: ChangeEmailForm | None = None
) -> str:
    """The account page, with the forms as submitted when one of them had errors."""
    return render_template(
        "accounts/account.html",
        form=form or ChangePasswordForm(formdata=None),
        email_form=email_form or ChangeEmailForm(formdata=None, prefix=ChangeEmailForm.PREFIX),
        resend_form=ConfirmForm(formdata=None),
        session_form=ConfirmForm(formdata=None),
        live_sessions=sorted(  # this device first, then the most recently used
            sessions.live_sessions(current_user.id),
            key=lambda row: row.id != current_user.session_id,
        ),
    )


@bp.post("/account/sessions/<int(max=2147483647):session_id>/signout")
@login_required
def end_session(session_id: int) -> Response:
    """Sign out one device listed on the account page (this one: an ordinary sign-out)."""
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    if session_id == current_user.session_id:
        return sign_out()
    if sessions.end_session(current_user.id, session_id):
        flash("That device is signed out.", "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/signout-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """Sign out on every device, this one included."""
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    signin.sign_out_everywhere(current_user.id)
    logout_user()
    flash("You're signed out on every device.", "success")
    return redirect(url_for("articles.home"))


@bp.post("/account/verify")
@login_required
@rate_limited("EMAIL_LINK_RATE_LIMIT")
def resend_verification() -> Response:
    """Send the email-confirmation link again."""
    if ConfirmForm().validate_on_submit() and not current_user.email_verified:
        if signup.send_verification_email(current_user):
            flash(f"We've sent a new confirmation link to {current_user.email}.", "success")
        else:
            flash(MAIL_FAILED, "error")
    return redirect(url_for("accounts.account"))


def bad_link_page(error: TokenError, endpoint: str, label: str) -> tuple[str, int]:
    return (
        render_template(
            "accounts/bad_link.html",
            expired=error.expired,
            retry_url=url_for(endpoint),
            retry_label=label,
        ),
        400,
    )


@bp.cli.command("create-admin")
@click.argument("email")
@click.option("--password", help="Password (prompted for when not given for a new account).")
@click.option("--role", type=click.Choice([Role.EDITOR.value, Role.ADMIN.value]), default="admin")
def create_admin_command(email: str, password: str | None, role: str) -> None:
    """Create a staff account for EMAIL, or promote an existing one."""
    if password is None and find_by_email(email) is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        reader, created = roles.create_or_promote_staff(email, password, Role(role))
    except AccountError as error:
        raise click.UsageError(error.message) from error
    click.echo(f"{'Created' if created else 'Updated'} {reader.email} as {role}.")

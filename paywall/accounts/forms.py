"""Account forms. Domain rules (which passwords are accepted) live in the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from paywall.accounts.codes import normalise_code


def strip_spaces(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def printable_text(form: FlaskForm, field: StringField) -> None:
    """Refuse control characters (a NUL byte cannot even be stored in PostgreSQL)."""
    if field.data and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in field.data):
        raise ValidationError("Use letters, numbers and punctuation only.")


def printable_lines(form: FlaskForm, field: StringField) -> None:
    """:func:`printable_text` for several lines: line breaks and tabs are fine."""
    if field.data and any(
        (ord(c) < 32 and c not in "\r\n\t") or 127 <= ord(c) < 160 for c in field.data
    ):
        raise ValidationError("Use letters, numbers and punctuation only.")


PASSWORD_HINT = "At least 10 characters and hard to guess: a few unrelated words work well."  # noqa: S105
EMAIL_VALIDATORS = [
    DataRequired("Enter your email address."),
    Email("Enter a valid email address."),
    Length(max=254),
]


class SignUpForm(FlaskForm):
    name = StringField(
        "Name", validators=[Optional(), Length(max=120), printable_text], filters=[strip_spaces],
        description="Optional: how we greet you in emails.",
    )  # fmt: skip
    email = EmailField("Email", validators=EMAIL_VALIDATORS, filters=[strip_spaces])
    password = PasswordField(
        "Password", validators=[DataRequired("Choose a password."), Length(max=200)],
        description=PASSWORD_HINT,
    )  # fmt: skip
    next = HiddenField()


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=EMAIL_VALIDATORS, filters=[strip_spaces])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class EmailLinkForm(FlaskForm):
    """Ask for an emailed link (sign-in link or password reset)."""

    email = EmailField("Email", validators=EMAIL_VALIDATORS, filters=[strip_spaces])
    next = HiddenField()


class SignInCodeForm(FlaskForm):
    """Type the code from the sign-in email (whether it is right is the service's call)."""

    code = StringField(
        "Sign-in code",
        validators=[DataRequired("Enter the 6-digit code from the email."), Length(max=40)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"},
        description="The 6 digits from the email; spaces and dashes are fine.",
    )
    next = HiddenField()

    def validate_code(self, field: StringField) -> None:
        if normalise_code(field.data or "") is None:
            raise ValidationError("Enter the 6 digits from the email.")


class ConfirmForm(FlaskForm):
    """A bare POST button, so mail scanners that prefetch links don't spend them."""


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), Length(max=200)],
        description=PASSWORD_HINT,
    )  # fmt: skip
    confirm = PasswordField(
        "Repeat the new password", validators=[EqualTo("password", "The passwords don't match.")]
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])


class ChangeEmailForm(FlaskForm):
    """On the account page beside the password form: prefixed, so no field ids clash."""

    PREFIX = "change-email"

    new_email = EmailField("New email", validators=EMAIL_VALIDATORS, filters=[strip_spaces])
    current_password = PasswordField(
        "Current password", validators=[Optional(), Length(max=200)],
        description="Signed in by emailed link and never chose one? Leave it empty.",
    )  # fmt: skip


class DeleteAccountForm(FlaskForm):
    confirmation = PasswordField(
        "Your email address or your password",
        validators=[DataRequired("Type your email address or your password."), Length(max=254)],
    )


class RoleForm(FlaskForm):
    """An admin makes a reader an editor or admin, or a reader again."""

    role = SelectField(
        "Role",
        choices=[
            SelectChoice("reader", "Reader"),
            SelectChoice("editor", "Editor: writes articles"),
            SelectChoice("admin", "Admin: also plans, prices, comps, sites, keys and roles"),
        ],
    )

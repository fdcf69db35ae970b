"""Domain errors that belong to one form field, shared by every feature's service."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm


class FieldError(ValueError):
    """Input a use case cannot accept; ``field`` names the form field to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def form_errors_text(form: FlaskForm) -> str:
    """Every field error of ``form`` as one sentence-list, for a message above the form."""
    return "; ".join(error for errors in form.errors.values() for error in errors)


def show_on_form(form: FlaskForm, error: FieldError) -> None:
    """Show ``error`` next to its field (or as a flash message when the form lacks it)."""
    field = getattr(form, error.field, None)
    if field is None:
        flash(error.message, "error")
    else:
        field.errors = [*field.errors, error.message]

"""The upload form of the readers import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file.")],
        description="First line: the column names. email is required; name and "
        "stripe_customer_id are optional; other columns (as in an export) are ignored.",
    )
    dry_run = BooleanField("Dry run: only show what would change", default=True)

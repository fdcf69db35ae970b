"""The editors' site form; key actions are bare POST buttons (CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from paywall.accounts.forms import printable_text


class SiteForm(FlaskForm):
    name = StringField(
        "Site name", validators=[DataRequired("Name the site."), Length(max=120), printable_text]
    )
    allowed_origins = TextAreaField(
        "Allowed origins",
        validators=[DataRequired("Add the origin the site is served from."), Length(max=4000)],
        description="One per line, scheme and host only, e.g. https://news.example.com",
    )
    plan_codes = StringField(
        "Default plans",
        validators=[Optional(), Length(max=300), printable_text],
        description="Plan codes the Subscribe button offers, comma-separated (empty: all).",
    )
    logo_url = StringField(
        "Logo",
        validators=[Optional(), Length(max=500)],
        description="Shown in the sign-in window: an https address of an image (optional).",
    )
    accent_color = StringField(
        "Accent colour",
        validators=[Optional(), Length(max=7)],
        description="Buttons and links in the sign-in window, like #1d4ed8 (optional).",
    )


class KeyActionForm(FlaskForm):
    """Rotate or revoke keys, disable or enable the site: a button with a CSRF token."""

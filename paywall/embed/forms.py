"""The editors' site form; key actions are bare POST buttons (CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField, TextAreaField, widgets
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
    plan_codes = SelectMultipleField(
        "Default plans",
        choices=[],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
        render_kw={"class": "checkbox-list"},
        description="The plans the Subscribe button offers (none ticked: all of them).",
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

    def offer_plans(self, codes: list[str], current: tuple[str, ...] = ()) -> SiteForm:
        """Tick-boxes for the plans' ``codes``, and any ``current`` one no plan has now."""
        gone = [code for code in current if code not in codes]
        self.plan_codes.choices = [SelectChoice(c, c) for c in codes] + [
            SelectChoice(c, f"{c} (no such plan now)") for c in gone
        ]
        return self


class KeyActionForm(FlaskForm):
    """Rotate or revoke keys, disable or enable the site: a button with a CSRF token."""

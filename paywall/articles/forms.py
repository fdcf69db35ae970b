"""The editor's article form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

ACCESS_CHOICES = [
    SelectChoice("free", "Free — anyone"),
    SelectChoice("registered", "Free account — signed-in readers"),
    SelectChoice("paid", "Subscribers — any plan"),
    SelectChoice("tiers", "Only these plan tiers"),
]
FORMAT_CHOICES = [SelectChoice("markdown", "Markdown"), SelectChoice("html", "HTML")]


class ArticleForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        "Address", validators=[Optional(), Length(max=200)],
        description="Leave blank to make one from the title.",
    )  # fmt: skip
    author = StringField("Author", validators=[Optional(), Length(max=200)])
    section = StringField(
        "Section", validators=[Optional(), Length(max=80)],
        description="The part of the paper it belongs to, e.g. Politics; blank for none.",
    )  # fmt: skip
    dek = TextAreaField(
        "Summary", validators=[Optional(), Length(max=500)],
        description="Shown on the front page and above the gate.",
    )  # fmt: skip
    access_level = SelectField("Who can read it", choices=ACCESS_CHOICES, default="paid")
    tiers = SelectMultipleField(
        "Plan tiers", choices=[],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
        render_kw={"class": "checkbox-list"},
        description="Subscribers to a plan of a ticked tier read it, when only certain "
        "tiers may. The tiers are those of the plans.",
    )  # fmt: skip
    body_format = SelectField("Format", choices=FORMAT_CHOICES)
    body_source = TextAreaField(
        "Body", validators=[DataRequired()],
        description="Put <!-- more --> on its own line where the teaser should end.",
    )  # fmt: skip
    teaser_paragraphs = IntegerField(
        "Teaser paragraphs", validators=[Optional(), NumberRange(min=0, max=50)],
        description="Used when the body has no <!-- more --> marker. Blank: the site default.",
    )  # fmt: skip
    published = BooleanField("Published")
    published_at = DateTimeLocalField(
        "Publication time (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M",
        description="Blank: now, when published.",
    )  # fmt: skip

    def offer_tiers(self, tiers: list[str], current: list[str]) -> None:
        """Tick-boxes for the plans' ``tiers``; a ``current`` one no plan has any more is
        shown as such (saving refuses it until it is unticked)."""
        gone = [tier for tier in current if tier not in tiers]
        self.tiers.choices = [SelectChoice(t, t) for t in tiers] + [
            SelectChoice(t, f"{t} (no plan has this tier)") for t in gone
        ]

    def validate_tiers(self, field: SelectMultipleField) -> None:
        if self.access_level.data == "tiers" and not field.data:
            raise ValidationError("Tick at least one plan tier.")

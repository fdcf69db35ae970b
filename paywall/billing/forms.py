"""Billing forms. Card numbers never reach these: Stripe.js sends them to Stripe."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from billing import CANCEL_REASONS, INTERVALS
from paywall.accounts.forms import EMAIL_VALIDATORS, printable_lines, printable_text, strip_spaces


class CardForm(FlaskForm):
    """Posted by the card form's script once Stripe.js has confirmed the SetupIntent."""

    setup_intent_id = HiddenField(
        validators=[
            DataRequired("Enter your card details."),
            Regexp(r"^seti_[A-Za-z0-9_]{1,200}$", message="Enter your card details again."),
        ]
    )
    next = HiddenField()


class SubscribeForm(CardForm):
    """The checkout's card form, with an optional promotion code (checked with Stripe
    when applied, and again when subscribing)."""

    promotion_code = StringField(
        "Promotion code", filters=[strip_spaces],
        validators=[Optional(), Length(max=200), Regexp(r"^[A-Za-z0-9-]*$",
        message="Promotion codes have only letters, digits and dashes.")],
    )  # fmt: skip


class CheckoutForm(SubscribeForm):
    """Subscribing without an account: the email (and name) make the account in the same
    step. Field order is the page's: who you are, then the card."""

    email = EmailField(
        "Email", validators=EMAIL_VALIDATORS, filters=[strip_spaces],
        description="For your receipts and to sign in. We'll ask you to confirm it.",
    )  # fmt: skip
    name = StringField(
        "Name", validators=[Optional(), Length(max=120), printable_text],
        filters=[strip_spaces], description="Optional: how we greet you in emails.",
    )  # fmt: skip


class NextForm(FlaskForm):
    """A button that does one thing (cancel, resume, refresh, confirm), then returns."""

    next = HiddenField()


class CancelForm(FlaskForm):
    """Stop renewing, with an optional reason for the publisher."""

    reason = SelectField(
        "Why are you leaving? (optional)",
        choices=[SelectChoice("", "Rather not say")]
        + [SelectChoice(code, words) for code, words in CANCEL_REASONS.items()],
        default="",
        validators=[Optional()],
    )
    comment = TextAreaField(
        "Anything else we should know? (optional)",
        validators=[
            Optional(),
            Length(max=500, message="Please keep it under 500 characters."),
            printable_lines,
        ],
    )


class ChangePlanForm(FlaskForm):
    plan = SelectField("New plan", validators=[DataRequired("Choose a plan.")])


# Decimal places of each currency a plan may be priced in (Stripe's "minor units").
MINOR_UNITS = {"usd": 2, "eur": 2, "gbp": 2}


def exact_price(form: PlanForm, field: DecimalField) -> None:
    """Refuse a price the currency cannot hold exactly (9.999 dollars), never round it."""
    amount: Decimal | None = field.data
    if amount is None:
        return
    if not amount.is_finite():
        raise StopValidation("Enter a price, like 9.00.")
    places = MINOR_UNITS.get(form.currency.data or "", 2)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise StopValidation(
            f"Use at most {places} decimal places, like 9.99: "
            f"{(form.currency.data or '').upper()} has no smaller coin."
        )


def minor_units(amount: Decimal, currency: str) -> int:
    """A validated price in the currency's smallest unit: 9.99 USD is 999."""
    return int(amount.scaleb(MINOR_UNITS.get(currency, 2)))


class PlanForm(FlaskForm):
    """A plan as the publisher defines it."""

    code = StringField(
        "Code", validators=[DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{0,40}$",
        message="Lowercase letters, digits and dashes.")],
        description="Stable identifier, e.g. monthly. Used in links and in Stripe.",
    )  # fmt: skip
    name = StringField("Name", validators=[DataRequired(), Length(max=120), printable_text])
    tier = StringField(
        "Tier", default="standard",
        validators=[DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$",
        message="Lowercase letters, digits and dashes.")],
        description="Articles limited to tiers list these names.",
    )  # fmt: skip
    amount = DecimalField(
        "Price", places=2,
        validators=[
            DataRequired("Enter a price."), exact_price, NumberRange(min=0.5, max=100000)
        ],
        description="Per interval, e.g. 9.00.",
    )  # fmt: skip
    currency = SelectField(
        "Currency", choices=[SelectChoice(c, c.upper()) for c in ("usd", "eur", "gbp")]
    )
    interval = SelectField(
        "Billed every", choices=[SelectChoice(i, i) for i in INTERVALS], default="month"
    )
    trial_days = IntegerField(
        "Trial days", default=0, validators=[Optional(), NumberRange(min=0, max=365)]
    )
    description = StringField(
        "Description", validators=[Optional(), Length(max=300), printable_text]
    )
    position = IntegerField("Order", default=0, validators=[Optional(), NumberRange(0, 1000)])
    active = BooleanField("On sale", default=True)


class CompForm(FlaskForm):
    """Complimentary access for one reader."""

    email = EmailField("Reader's email", validators=[DataRequired(), Email(), Length(max=254)])
    until = DateField("Until (optional)", validators=[Optional()])

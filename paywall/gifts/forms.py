"""Gift forms. Card numbers never reach these: Stripe.js sends them to Stripe."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from billing import GIFT_MONTHS
from paywall.accounts.forms import EMAIL_VALIDATORS, printable_lines, strip_spaces


class GiftForm(FlaskForm):
    """What to give, to whom, and who is giving it (the plan choices are set by the view)."""

    plan = SelectField("Plan", validators=[DataRequired("Choose a plan.")])
    months = SelectField(
        "Length",
        choices=[SelectChoice(str(n), f"{n} month{'s' if n > 1 else ''}") for n in GIFT_MONTHS],
        default="3",
        validators=[DataRequired("Choose how many months.")],
    )
    recipient_email = EmailField(
        "Recipient's email", validators=EMAIL_VALIDATORS, filters=[strip_spaces],
        description="We email them a link to start reading once you've paid.",
    )  # fmt: skip
    message = TextAreaField(
        "Your message", validators=[Length(max=500), printable_lines], filters=[strip_spaces],
        description="Optional: sent with the gift. Up to 500 characters.", render_kw={"rows": 3},
    )  # fmt: skip
    buyer_email = EmailField(
        "Your email", validators=EMAIL_VALIDATORS, filters=[strip_spaces],
        description="For your receipt.",
    )  # fmt: skip


class GiftPaymentForm(FlaskForm):
    """Posted by the card form's script once Stripe.js has confirmed the payment."""

    payment_intent_id = HiddenField(
        validators=[
            DataRequired("Enter your card details."),
            Regexp(r"^pi_[A-Za-z0-9_]{1,200}$", message="Enter your card details again."),
        ]
    )
    next = HiddenField()


class RedeemForm(FlaskForm):
    """Confirm redeeming a gift (a button: mail scanners open links, they do not post)."""

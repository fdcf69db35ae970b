"""Promotion codes on the checkout: made at Stripe (as in its dashboard), applied on the
real form, priced by the server, redeemed on the subscription.

Against the Stripe emulator, through the real forms.
"""

from __future__ import annotations

import secrets
import time

import pytest
from sqlalchemy import func, select

import billing
from billing.models import Customer, Invoice, Subscription
from devstripe.demo_billing import seed_promotion_code
from paywall.accounts.models import Reader
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.emulated import EmulatorClient
from tests.factories import SECRET
from tests.helpers import text


def new_code(stripe: EmulatorClient, prefix: str = "WELCOME", **promotion: object) -> str:
    """A 30 %-off-for-3-months coupon and a promotion code for it (unique per test: the
    emulator lives for the whole run); ``promotion`` overrides the code's or coupon's."""
    coupon_fields = {
        "percent_off": 30, "duration": "repeating", "duration_in_months": 3,
    }  # fmt: skip
    for name in ("percent_off", "amount_off", "currency", "duration", "duration_in_months"):
        if name in promotion:
            coupon_fields[name] = promotion.pop(name)
    coupon_fields = {k: v for k, v in coupon_fields.items() if v is not None}
    coupon = stripe.post("/v1/coupons", coupon_fields)
    code = f"{prefix}{secrets.token_hex(3).upper()}"
    stripe.post(
        "/v1/promotion_codes",
        {"code": code, "promotion": {"type": "coupon", "coupon": coupon["id"]}, **promotion},
    )
    return code


def apply_code(page, code: str):
    form = page.forms["card-form"]
    form["promotion_code"] = code
    return form.submit("apply", expect_errors=True)


def count(live, model) -> int:
    return live.query(lambda s: s.scalar(select(func.count()).select_from(model)))


def stripe_invoices_of(live, stripe: EmulatorClient, email: str) -> list[dict]:
    customer = live.query(
        lambda s: s.scalar(
            select(Customer)
            .join(Reader, Reader.id == Customer.reader_id)
            .where(Reader.email == email)
        )
    )
    if customer is None:
        return []
    return stripe.get(f"/v1/invoices?customer={customer.stripe_customer_id}")["data"]


def test_a_valid_code_shows_the_discount_then_the_first_invoice_is_discounted(
    billing_app, stripe_side
):
    code = new_code(stripe_side)
    slug = billing_app.article()
    reader = billing_app.subscriber()
    page = reader.web.get(f"/subscribe/monthly?next=/articles/{slug}")
    assert "$9.00 / month" in text(page)

    applied = apply_code(page, code.lower())  # any case, as at Stripe
    assert applied.status_int == 200
    assert applied.html.select_one("#promotion-terms").text == (
        "$9.00 → $6.30 for 3 months, then $9.00 / month"
    )
    assert "$2.70 off" in applied.html.select_one("#promotion-applied").text
    assert applied.html.select_one("#card-submit").text == "Subscribe for $6.30"
    assert count(billing_app, Subscription) == 0  # applying charges nothing

    done = reader._submit_card(applied, "4242424242424242", (12, 2030))
    assert done.status_int == 302, text(done)
    assert SECRET in reader.read(slug).text

    [invoice] = stripe_invoices_of(billing_app, stripe_side, reader.email)
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 630
    assert invoice["total_discount_amounts"][0]["amount"] == 270
    subscription_id = invoice["parent"]["subscription_details"]["subscription"]
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["discounts"]
    [found] = stripe_side.get(f"/v1/promotion_codes?code={code}")["data"]
    assert found["times_redeemed"] == 1
    rows = billing_app.query(lambda s: s.scalars(select(Invoice)).all())
    assert [(row.amount_paid, row.amount_due) for row in rows] == [(630, 630)]
    assert "$6.30" in text(reader.billing_page())


def _refused_codes(stripe: EmulatorClient) -> dict[str, tuple[str, str]]:
    """Codes Stripe would refuse for the $9.00 monthly plan, and what the reader is told."""
    inactive = new_code(stripe, "OFF")
    [found] = stripe.get(f"/v1/promotion_codes?code={inactive}")["data"]
    stripe.post(f"/v1/promotion_codes/{found['id']}", {"active": False})
    return {
        "unknown": ("NOSUCHCODE", "isn't valid"),
        "expired": (new_code(stripe, "OLD", expires_at=int(time.time()) - 60), "isn't valid"),
        "inactive": (inactive, "isn't valid"),
        "other currency": (
            new_code(
                stripe, "EUR", percent_off=None, amount_off=200, currency="eur", duration="once"
            ),
            "is for prices in EUR",
        ),
        "badly typed": ("50% OFF", "only letters, digits and dashes"),
    }


@pytest.mark.parametrize(
    "kind", ["unknown", "expired", "inactive", "other currency", "badly typed"]
)
def test_a_code_stripe_would_refuse_is_a_field_error_and_nothing_is_charged(
    billing_app, stripe_side, kind
):
    code, told = _refused_codes(stripe_side)[kind]
    reader = billing_app.subscriber()
    page = reader.web.get("/subscribe/monthly")

    applied = apply_code(page, code)
    assert applied.status_int == 422
    assert told in applied.html.select_one("#promotion_code-errors").text
    assert applied.html.select_one("#promotion-terms") is None

    # Subscribing with it anyway (no Apply) is refused the same way, before any charge.
    answer = reader._submit_card(applied, "4242424242424242", (12, 2030), promotion_code=code)
    assert answer.status_int == 422
    assert told in text(answer)
    assert count(billing_app, Subscription) == 0
    assert stripe_invoices_of(billing_app, stripe_side, reader.email) == []


def test_a_first_time_code_is_refused_to_a_reader_who_paid_before(billing_app, stripe_side):
    code = new_code(stripe_side, "FIRST", restrictions={"first_time_transaction": True})
    newcomer = billing_app.subscriber()
    assert "first-time" not in text(apply_code(newcomer.web.get("/subscribe/monthly"), code))

    reader = billing_app.subscriber()
    assert reader.subscribe("monthly").status_int == 302
    applied = apply_code(reader.web.get("/subscribe/premium"), code)
    assert applied.status_int == 422
    assert "first-time subscribers only" in text(applied)


def test_a_code_applies_in_the_one_step_checkout(billing_app, stripe_side):
    code = new_code(stripe_side)
    slug = billing_app.article()
    newcomer = billing_app.newcomer("promo.newcomer@example.com")
    page = newcomer.web.get(f"/subscribe/monthly?next=/articles/{slug}")
    form = page.forms["card-form"]
    form["email"] = newcomer.email
    applied = apply_code(page, code)
    assert applied.status_int == 200
    assert "$9.00 → $6.30 for 3 months" in text(applied)
    assert applied.forms["card-form"]["email"].value == newcomer.email  # kept
    assert count(billing_app, Reader) == 0  # applying makes no account

    done = newcomer._submit_card(applied, "4242424242424242", (12, 2030))
    assert done.status_int == 302, text(done)
    assert SECRET in newcomer.read(slug).text
    [invoice] = stripe_invoices_of(billing_app, stripe_side, newcomer.email)
    assert invoice["amount_paid"] == 630


def test_a_refused_code_in_the_one_step_checkout_makes_no_account(billing_app, stripe_side):
    newcomer = billing_app.newcomer("promo.refused@example.com")
    answer = newcomer.subscribe_in_one_step("monthly")  # without a code: works as before
    assert answer.status_int == 302
    other = billing_app.newcomer("promo.other@example.com")
    page = other.web.get("/subscribe/monthly")
    answer = other._submit_card(
        page, "4242424242424242", (12, 2030), email=other.email, promotion_code="NOSUCHCODE"
    )
    assert answer.status_int == 422
    assert "isn't valid" in text(answer)
    assert count(billing_app, Reader) == 1 and count(billing_app, Subscription) == 1


def test_the_demo_promotion_code_takes_30_percent_off_three_months(billing_app, stripe_side):
    code = seed_promotion_code(stripe_side)
    assert seed_promotion_code(stripe_side) == code  # the demo run again: made once
    assert len(stripe_side.get(f"/v1/promotion_codes?code={code}")["data"]) == 1
    with billing_app.twin.app_context():
        welcome = billing.check_promotion(db.session, gateway(), "monthly", code.lower(), None)
    assert welcome.terms == "$9.00 → $6.30 for 3 months, then $9.00 / month"

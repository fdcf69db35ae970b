"""Promotion codes: a code the reader types, checked with Stripe, priced on the server.

Publishers make coupons and promotion codes in Stripe's dashboard. The checkout asks
Stripe for the code (:meth:`StripeGateway.find_promotion_code`), refuses one that
Stripe would refuse for this plan and reader, and shows what the reader will pay; the
subscription is then created with the code's id, so Stripe applies the discount. The
price shown is computed here from Stripe's coupon, never taken from the browser.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from billing.errors import BillingStateError
from billing.gateway import StripeGateway
from billing.models import Plan
from billing.state import format_money

Obj = dict[str, Any]
# What Stripe accepts in a code: letters, digits and dashes.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,200}$")


class PromotionCodeRefused(BillingStateError):
    """The promotion code cannot be used here (unknown, expired, another currency...)."""

    code = "promotion_code_invalid"


@dataclass(frozen=True, slots=True)
class Promotion:
    """A promotion code valid for one plan, and what it makes the reader pay."""

    promotion_code_id: str
    code: str
    currency: str
    price: int  # the plan's price per interval, in minor units
    first_price: int  # what each discounted invoice comes to
    duration: str  # once | repeating | forever
    months: int | None  # for ``repeating``
    interval: str

    @property
    def discount(self) -> int:
        return self.price - self.first_price

    @property
    def discount_label(self) -> str:
        return format_money(self.discount, self.currency)

    @property
    def first_price_label(self) -> str:
        return format_money(self.first_price, self.currency)

    @property
    def terms(self) -> str:
        """ "$9.00 → $6.30 for 3 months, then $9.00 / month"."""
        was = format_money(self.price, self.currency)
        now = format_money(self.first_price, self.currency)
        every = f"{was} / {self.interval}"
        if self.duration == "forever":
            return f"{was} → {now} / {self.interval}"
        if self.duration == "repeating" and self.months:
            span = "1 month" if self.months == 1 else f"{self.months} months"
            return f"{was} → {now} for {span}, then {every}"
        return f"{was} → {now} for the first {self.interval}, then {every}"


def _refused(message: str) -> PromotionCodeRefused:
    return PromotionCodeRefused(message)


def _coupon(found: Obj) -> Obj:
    coupon = (found.get("promotion") or {}).get("coupon")
    if not isinstance(coupon, dict):
        raise _refused("That promotion code can't be used here.")
    return coupon


def _expired(at: int | None, now: float) -> bool:
    return at is not None and at <= now


def _discounted(coupon: Obj, plan: Plan) -> int:
    """The plan's price after the coupon (Stripe rounds a percentage to the unit)."""
    if coupon.get("percent_off") is not None:
        off = round(plan.amount * float(coupon["percent_off"]) / 100)
    else:
        currency_options = coupon.get("currency_options") or {}
        amount_off = coupon.get("amount_off")
        if coupon.get("currency") != plan.currency:
            amount_off = (currency_options.get(plan.currency) or {}).get("amount_off")
        if amount_off is None:
            currency = (coupon.get("currency") or "").upper()
            raise _refused(
                f"That promotion code is for prices in {currency}; "
                f"this plan is in {plan.currency.upper()}."
            )
        off = int(amount_off)
    return max(0, plan.amount - off)


def _check_restrictions(found: Obj, plan: Plan, paid_before: bool) -> None:
    restrictions = found.get("restrictions") or {}
    if restrictions.get("first_time_transaction") and paid_before:
        raise _refused("That promotion code is for first-time subscribers only.")
    minimum = restrictions.get("minimum_amount")
    if minimum and restrictions.get("minimum_amount_currency") not in (None, plan.currency):
        options = restrictions.get("currency_options") or {}
        minimum = (options.get(plan.currency) or {}).get("minimum_amount")
        if minimum is None:
            raise _refused(f"That promotion code can't be used for prices in {plan.currency}.")
    if minimum and plan.amount < minimum:
        raise _refused(
            f"That promotion code needs a purchase of at least "
            f"{format_money(int(minimum), plan.currency)}."
        )


def find_promotion(
    gateway: StripeGateway, code: str, plan: Plan, customer_id: str | None = None
) -> Promotion:
    """The promotion code ``code`` priced for ``plan`` and this customer (None: a reader
    without an account yet), or :class:`PromotionCodeRefused` saying why not."""
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise _refused("Promotion codes have only letters, digits and dashes.")
    found = gateway.find_promotion_code(code)
    if found is None:
        raise _refused("That promotion code isn't valid, or it has expired.")
    coupon = _coupon(found)
    now = time.time()
    if (
        _expired(found.get("expires_at"), now)
        or _expired(coupon.get("redeem_by"), now)
        or not coupon.get("valid", True)
    ):
        raise _refused("That promotion code has expired.")
    limit = found.get("max_redemptions")
    if limit is not None and found.get("times_redeemed", 0) >= limit:
        raise _refused("That promotion code has been used up.")
    owner = found.get("customer")
    if owner and (owner if isinstance(owner, str) else owner.get("id")) != customer_id:
        raise _refused("That promotion code isn't valid, or it has expired.")
    applies_to = (coupon.get("applies_to") or {}).get("products")
    if applies_to and plan.stripe_product_id not in applies_to:
        raise _refused(f"That promotion code doesn't apply to {plan.name}.")
    paid_before = customer_id is not None and gateway.has_paid_invoices(customer_id)
    _check_restrictions(found, plan, paid_before)
    return Promotion(
        promotion_code_id=found["id"],
        code=found.get("code") or code,
        currency=plan.currency,
        price=plan.amount,
        first_price=_discounted(coupon, plan),
        duration=coupon.get("duration") or "once",
        months=coupon.get("duration_in_months"),
        interval=plan.interval,
    )

"""Coupons and promotion codes, held by the adapter (localstripe applies no discounts).

A publisher makes them in Stripe's dashboard; here the tooling (tests, the demo) makes
them through ``/v1/coupons`` and ``/v1/promotion_codes``, answered in the pinned shapes.
A subscription created with ``discounts=[{"promotion_code": ...}]`` is checked as Stripe
checks a redemption, and its first invoice is discounted: localstripe bills a pending
invoice item of minus the discount with the subscription's first period. The
subscription and the invoice show the Discount (``discounts``,
``total_discount_amounts``) as overlays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devstripe.events import new_id
from devstripe.upstream import Answer, error_answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

Obj = dict[str, Any]


@dataclass
class Promotions:
    coupons: dict[str, Obj] = field(default_factory=dict)
    codes: dict[str, Obj] = field(default_factory=dict)  # by promotion code id


def _promotions(adapter: Adapter) -> Promotions:
    return adapter.held.promotions


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _missing(name: str) -> Answer:
    return error_answer(
        400, f"Missing required param: {name}.", code="parameter_missing", param=name
    )


def _no_such(kind: str, object_id: str) -> Answer:
    return error_answer(404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id")


# -- coupons ------------------------------------------------------------------------------
async def create_coupon(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    duration = params.get("duration") or "once"
    percent_off = params.get("percent_off")
    amount_off = _int(params.get("amount_off"))
    if (percent_off is None) == (amount_off is None):
        return error_answer(400, "Coupon must have either percent_off or amount_off.")
    if amount_off is not None and not params.get("currency"):
        return _missing("currency")
    if duration == "repeating" and not params.get("duration_in_months"):
        return _missing("duration_in_months")
    coupon_id = params.get("id") or new_id("")[:8]
    coupon = {
        "id": coupon_id, "object": "coupon", "created": int(time.time()), "livemode": False,
        "amount_off": amount_off,
        "currency": params.get("currency") if amount_off is not None else None,
        "applies_to": None,  # currency_options: answered only when expanded
        "duration": duration,
        "duration_in_months": _int(params.get("duration_in_months")),
        "max_redemptions": _int(params.get("max_redemptions")),
        "metadata": dict(params.get("metadata") or {}),
        "name": params.get("name") or None,
        "percent_off": float(percent_off) if percent_off is not None else None,
        "redeem_by": _int(params.get("redeem_by")),
        "times_redeemed": 0, "valid": True,
    }  # fmt: skip
    _promotions(adapter).coupons[coupon_id] = coupon
    return Answer(200, _current_coupon(coupon), shaped=True)


def _current_coupon(coupon: Obj) -> Obj:
    """The coupon as it is now: no longer ``valid`` once past ``redeem_by`` or used up."""
    shown = dict(coupon)
    over = coupon["redeem_by"] is not None and coupon["redeem_by"] <= time.time()
    used = coupon["max_redemptions"] is not None and (
        coupon["times_redeemed"] >= coupon["max_redemptions"]
    )
    shown["valid"] = coupon["valid"] and not over and not used
    return shown


async def retrieve_coupon(adapter: Adapter, call: Call) -> Answer:
    coupon = _promotions(adapter).coupons.get(call.ids["id"])
    if coupon is None:
        return _no_such("coupon", call.ids["id"])
    return Answer(200, _current_coupon(coupon), shaped=True)


# -- promotion codes -------------------------------------------------------------------
async def create_promotion_code(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    promotion = params.get("promotion") or {}
    coupon = _promotions(adapter).coupons.get(promotion.get("coupon") or "")
    if coupon is None:
        return error_answer(
            400, f"No such coupon: '{promotion.get('coupon')}'", param="promotion[coupon]"
        )
    code = params.get("code") or new_id("")[:8].upper()
    taken = [
        c for c in _promotions(adapter).codes.values()
        if c["active"] and c["code"].lower() == code.lower()
    ]  # fmt: skip
    if taken:
        return error_answer(400, "An active promotion code with `code` already exists.")
    restrictions = params.get("restrictions") or {}
    first_time = str(restrictions.get("first_time_transaction", "false")).lower() == "true"
    found = {
        "id": new_id("promo_"), "object": "promotion_code", "created": int(time.time()),
        "livemode": False, "active": str(params.get("active", "true")).lower() == "true",
        "code": code, "customer": params.get("customer"), "customer_account": None,
        "expires_at": _int(params.get("expires_at")),
        "max_redemptions": _int(params.get("max_redemptions")),
        "metadata": dict(params.get("metadata") or {}),
        "promotion": {"type": "coupon", "coupon": coupon["id"]},
        "restrictions": {
            "currency_options": {},
            "first_time_transaction": first_time,
            "minimum_amount": _int(restrictions.get("minimum_amount")),
            "minimum_amount_currency": restrictions.get("minimum_amount_currency"),
        },
        "times_redeemed": 0,
    }  # fmt: skip
    _promotions(adapter).codes[found["id"]] = found
    return Answer(200, _shown(adapter, found, call.params.get("expand")), shaped=True)


def _is_active(adapter: Adapter, promotion_code: Obj) -> bool:
    """Stripe: active only while its own flag is set, it has not expired, it is not used
    up, and its coupon is valid."""
    coupon = _current_coupon(_promotions(adapter).coupons[promotion_code["promotion"]["coupon"]])
    expired = (
        promotion_code["expires_at"] is not None and promotion_code["expires_at"] <= time.time()
    )
    used = promotion_code["max_redemptions"] is not None and (
        promotion_code["times_redeemed"] >= promotion_code["max_redemptions"]
    )
    return promotion_code["active"] and not expired and not used and coupon["valid"]


def _shown(adapter: Adapter, promotion_code: Obj, expand: Any, prefix: str = "") -> Obj:
    shown = {**promotion_code, "active": _is_active(adapter, promotion_code)}
    coupon_id = promotion_code["promotion"]["coupon"]
    if f"{prefix}promotion.coupon" in [str(e) for e in expand or []]:
        coupon = _current_coupon(_promotions(adapter).coupons[coupon_id])
        shown["promotion"] = {"type": "coupon", "coupon": coupon}
    return shown


async def list_promotion_codes(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    limit = int(params.get("limit", 10))
    found = sorted(_promotions(adapter).codes.values(), key=lambda c: -c["created"])
    if params.get("code") is not None:
        found = [c for c in found if c["code"].lower() == str(params["code"]).lower()]
    if params.get("coupon") is not None:
        found = [c for c in found if c["promotion"]["coupon"] == params["coupon"]]
    if params.get("active") is not None:
        wanted = str(params["active"]).lower() == "true"
        found = [c for c in found if _is_active(adapter, c) == wanted]
    body = {
        "object": "list",
        "data": [_shown(adapter, c, params.get("expand"), "data.") for c in found[:limit]],
        "has_more": len(found) > limit,
        "url": "/v1/promotion_codes",
    }
    return Answer(200, body, shaped=True)


async def retrieve_promotion_code(adapter: Adapter, call: Call) -> Answer:
    found = _promotions(adapter).codes.get(call.ids["id"])
    if found is None:
        return _no_such("promotion code", call.ids["id"])
    return Answer(200, _shown(adapter, found, call.params.get("expand")), shaped=True)


async def update_promotion_code(adapter: Adapter, call: Call) -> Answer:
    found = _promotions(adapter).codes.get(call.ids["id"])
    if found is None:
        return _no_such("promotion code", call.ids["id"])
    if "active" in call.params:
        found["active"] = str(call.params["active"]).lower() == "true"
    found["metadata"].update(call.params.get("metadata") or {})
    return Answer(200, _shown(adapter, found, call.params.get("expand")), shaped=True)


# -- redeeming one on a new subscription -----------------------------------------------
@dataclass
class Redemption:
    """A promotion code being applied to a subscription being made."""

    promotion_code: Obj
    coupon: Obj
    amount: int  # taken off the first invoice
    invoice_item_id: str | None
    discount_id: str = field(default_factory=lambda: new_id("di_"))


def _refused(message: str) -> Answer:
    return error_answer(400, message, code="promotion_code_invalid", param="discounts")


async def redeem(adapter: Adapter, params: Obj) -> Redemption | Answer | None:
    """Check the ``discounts`` of a subscription about to be made as Stripe does and bill
    the discount as a pending invoice item; None when there are none."""
    discounts = params.pop("discounts", None) or []
    if not discounts:
        return None
    wanted = discounts[0].get("promotion_code") if isinstance(discounts[0], dict) else None
    promotion_code = _promotions(adapter).codes.get(wanted or "")
    if promotion_code is None:
        return _refused(f"No such promotion code: '{wanted}'")
    if not _is_active(adapter, promotion_code):
        return _refused("This promotion code is inactive, expired or used up.")
    coupon = _promotions(adapter).coupons[promotion_code["promotion"]["coupon"]]
    customer_id = params.get("customer")
    if promotion_code["customer"] and promotion_code["customer"] != customer_id:
        return _refused("This promotion code cannot be redeemed by this customer.")
    plan_id = (params.get("items") or [{}])[0].get("plan")
    plan = await adapter.upstream.get(f"/v1/plans/{plan_id}")
    if coupon["amount_off"] is not None and coupon["currency"] != plan["currency"]:
        return _refused("This promotion code's coupon is in another currency.")
    restrictions = promotion_code["restrictions"]
    if restrictions["minimum_amount"] and plan["amount"] < restrictions["minimum_amount"]:
        return _refused("This promotion code requires a larger minimum amount.")
    if restrictions["first_time_transaction"]:
        paid = await adapter.upstream.get("/v1/invoices", {"customer": customer_id, "limit": 100})
        if any(i.get("status") == "paid" and i.get("amount_paid") for i in paid["data"]):
            return _refused(
                "This promotion code cannot be redeemed because the associated customer "
                "has prior transactions."
            )
    amount = discount_on(coupon, plan["amount"])
    item_id = None
    if amount and not params.get("trial_period_days"):
        item = await adapter.upstream.call(
            "POST",
            "/v1/invoiceitems",
            {"customer": customer_id, "amount": -amount, "currency": plan["currency"],
             "description": f"Discount ({promotion_code['code']})"},
        )  # fmt: skip
        if not item.ok:
            return item
        item_id = item.body["id"]
    return Redemption(promotion_code, coupon, amount, item_id)


def discount_on(coupon: Obj, amount: int) -> int:
    """What the coupon takes off ``amount`` (Stripe rounds a percentage to the unit)."""
    if coupon["percent_off"] is not None:
        return round(amount * coupon["percent_off"] / 100)
    return min(amount, coupon["amount_off"] or 0)


async def settle(adapter: Adapter, redemption: Redemption, answer: Answer) -> None:
    """After the create: count the redemption and show the Discount, or, when nothing was
    made, take the pending invoice item back."""
    if not answer.ok:
        if redemption.invoice_item_id:
            await adapter.upstream.call("DELETE", f"/v1/invoiceitems/{redemption.invoice_item_id}")
        return
    subscription = answer.body
    redemption.promotion_code["times_redeemed"] += 1
    redemption.coupon["times_redeemed"] += 1
    discount = redemption.discount_id
    adapter.overlays.add(subscription["id"], {"discounts": [discount]})
    latest = subscription.get("latest_invoice")
    latest_id = latest["id"] if isinstance(latest, dict) else latest
    if latest_id and redemption.invoice_item_id:
        adapter.overlays.add(
            latest_id,
            {"discounts": [discount],
             "total_discount_amounts": [{"amount": redemption.amount, "discount": discount}]},
        )  # fmt: skip
    subscription["discounts"] = [discount]

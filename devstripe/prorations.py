"""What Stripe bills for a price change in the middle of a period (pure arithmetic).

Moving a subscription item from one price to another at ``at`` credits the time left on
the old price and charges that time on the new one, each prorated to the second over the
item's current period and rounded half up to the smallest currency unit:

    credit = -round(old unit amount * quantity * (period end - at) / period length)
    charge = +round(new unit amount * quantity * (period end - at) / period length)

A new price billed on another cycle (monthly to yearly) resets the billing cycle: the
whole new price is charged for a period starting at ``at``. The lines come as the pinned
version's invoice line items; :func:`preview_invoice` wraps them as the draft Invoice
``POST /v1/invoices/create_preview`` answers (its id is prefixed ``upcoming_in``).
"""

from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

_DAYS = {"day": 1, "week": 7}
_MONTHS = {"month": 1, "year": 12}


def add_interval(moment: int, interval: str, count: int = 1) -> int:
    """``moment`` plus ``count`` intervals, as Stripe bills them (31 Jan + 1 month: 28 Feb)."""
    if interval in _DAYS:
        return moment + count * _DAYS[interval] * 86_400
    if interval not in _MONTHS:
        raise ValueError(f"unknown interval {interval!r}")
    when = datetime.fromtimestamp(moment, UTC)
    year, month = divmod(when.month - 1 + count * _MONTHS[interval], 12)
    year += when.year
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return int(when.replace(year=year, month=month + 1, day=day).timestamp())


def prorated(amount: int, start: int, end: int, at: int) -> int:
    """The part of ``amount`` (for ``start``..``end``) that falls after ``at``, rounded half up."""
    if end <= start:
        return 0
    left = min(max(end - at, 0), end - start)
    sign = -1 if amount < 0 else 1
    return sign * ((2 * abs(amount) * left + (end - start)) // (2 * (end - start)))


def same_cycle(old: Obj, new: Obj) -> bool:
    """Whether two Prices bill on the same cycle (a change keeps the billing period)."""
    old_recurring, new_recurring = old.get("recurring") or {}, new.get("recurring") or {}
    return (old_recurring.get("interval"), old_recurring.get("interval_count") or 1) == (
        new_recurring.get("interval"),
        new_recurring.get("interval_count") or 1,
    )


@dataclass(frozen=True)
class Line:
    """One line a price change bills: a credit (negative) or a charge."""

    amount: int
    description: str
    price: Obj  # the pinned Price
    quantity: int
    period_start: int
    period_end: int
    proration: bool = True


def _day(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%-d %b %Y")


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def price_change(item: Obj, new_price: Obj, at: int, old_name: str, new_name: str) -> list[Line]:
    """The lines Stripe bills for moving ``item`` (a pinned subscription item, with its
    period and price) to ``new_price`` at ``at``: the credit, then the charge."""
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    at = min(max(at, start), end)
    quantity = int(item.get("quantity") or 1)
    old_price = item["price"]
    old_amount = int(old_price.get("unit_amount") or 0) * quantity
    new_amount = int(new_price.get("unit_amount") or 0) * quantity
    credit = Line(
        -prorated(old_amount, start, end, at),
        f"Unused time on {old_name} after {_day(at)}",
        old_price,
        quantity,
        at,
        end,
    )
    if not same_cycle(old_price, new_price):  # the billing period starts again, at ``at``
        return [credit, full_period(new_price, quantity, new_name, at)]
    charge = Line(
        prorated(new_amount, start, end, at),
        f"Remaining time on {new_name} after {_day(at)}",
        new_price,
        quantity,
        at,
        end,
    )
    return [credit, charge]


def full_period(price: Obj, quantity: int, name: str, start: int) -> Line:
    """A whole period on ``price`` from ``start`` (what a renewal or a new cycle bills)."""
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or "month"
    unit = int(price.get("unit_amount") or 0)
    return Line(
        unit * quantity,
        f"{quantity} \N{MULTIPLICATION SIGN} {name} "
        f"(at {_money(unit, price['currency'])} / {interval})",
        price,
        quantity,
        start,
        add_interval(start, interval, recurring.get("interval_count") or 1),
        proration=False,
    )


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(7)


def line_item(
    line: Line,
    *,
    invoice_id: str | None,
    subscription_id: str,
    subscription_item_id: str,
    invoice_item_id: str | None = None,
    line_id: str | None = None,
) -> Obj:
    """``line`` as the pinned version's invoice line item of a subscription's invoice."""
    price = line.price
    return {
        "id": line_id or new_id("il_tmp_"),
        "object": "line_item",
        "amount": line.amount,
        "currency": price["currency"],
        "description": line.description,
        "discount_amounts": [],
        "discountable": not line.proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item_id,
                "proration": line.proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": subscription_item_id,
            },
        },
        "period": {"start": line.period_start, "end": line.period_end},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price.get("product")},
            "unit_amount_decimal": None
            if price.get("unit_amount") is None
            else str(price["unit_amount"]),
        },
        "quantity": line.quantity,
        "quantity_decimal": str(line.quantity),
        "subscription": subscription_id,
        "subtotal": line.amount,
        "taxes": [],
    }


def preview_invoice(
    *,
    account: Obj,
    customer: Obj,
    subscription_id: str,
    lines: list[Obj],
    currency: str,
    at: int,
    billing_reason: str,
    period: tuple[int, int],
    proration_date: int | None,
) -> Obj:
    """The draft Invoice a preview answers: ``lines`` (pinned line items), not stored.

    The customer's balance applies as it would on finalizing: a debt is added, a credit
    taken off; what is left is ``amount_due`` (never below zero).
    """
    invoice_id = new_id("upcoming_in_")
    for line in lines:
        line["invoice"] = invoice_id
    subtotal = sum(line["amount"] for line in lines)
    balance = int(customer.get("balance") or 0)
    due = max(0, subtotal + balance)
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": account.get("country"),
        "account_name": (account.get("settings") or {}).get("dashboard", {}).get("display_name"),
        "account_tax_ids": None,
        "amount_due": due,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": due,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "confirmation_secret": None,
        "created": at,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt") or "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": None,
                "subscription": subscription_id,
                "subscription_proration_date": proration_date,
            },
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": balance,
        "statement_descriptor": None,
        "status": "draft",
        "status_details": None,
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": None,
        "threshold_reason": None,
        "total": subtotal,
        "total_discount_amounts": [],
        "total_excluding_tax": subtotal,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }

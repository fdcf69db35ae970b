"""``POST /v1/invoices/create_preview``: the invoice a subscription change would bill.

localstripe's preview credits the whole of every earlier invoice and charges nothing for
the new price; the adapter computes Stripe's (:mod:`devstripe.prorations`):

* ``subscription_details[proration_behavior]=always_invoice``: the invoice made at once,
  the prorations of the price change only;
* ``create_prorations`` (Stripe's default) or ``none``: the next renewal's invoice, the
  next period on the new price after the prorations (none with ``none``) and the
  customer's other pending invoice items;
* no ``subscription_details``: the next renewal's invoice as things stand.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from devstripe.prorations import (
    Line,
    full_period,
    line_item,
    preview_invoice,
    price_change,
    same_cycle,
)
from devstripe.reshape import price_of_plan
from devstripe.upstream import Answer, error_answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

Obj = dict[str, Any]


async def product_name(adapter: Adapter, price: Obj) -> str:
    """The name a line gives a price: its product's, else its id."""
    product = price.get("product")
    found = await adapter.upstream.call("GET", f"/v1/products/{product}") if product else None
    return (found.body.get("name") if found is not None and found.ok else None) or price["id"]


def _items(subscription: Obj) -> list[Obj]:
    return (subscription.get("items") or {}).get("data") or []


async def create_preview(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    subscription_id = params.get("subscription")
    if not subscription_id:
        return error_answer(
            400,
            "The Stripe emulator previews a subscription's invoices only: pass subscription.",
            param="subscription",
        )
    found = await adapter.upstream.call("GET", f"/v1/subscriptions/{subscription_id}")
    if not found.ok:
        return found
    subscription = adapter.shaped(found.body)
    customer_id = params.get("customer") or subscription["customer"]
    if customer_id != subscription["customer"]:
        return error_answer(
            400,
            f"The subscription {subscription_id} does not belong to the customer {customer_id}.",
            param="subscription",
        )
    customer = adapter.shaped(await adapter.upstream.get(f"/v1/customers/{customer_id}"))
    details = params.get("subscription_details") or {}
    at = int(details.get("proration_date") or time.time())
    [item, *others] = _items(subscription)
    if others:
        return error_answer(400, "The Stripe emulator has subscriptions of one item only.")
    price = item["price"]
    wanted = (details.get("items") or [{}])[0]
    if wanted.get("id") not in (None, item["id"]):
        return error_answer(
            400,
            f"Invalid subscription_item: {wanted['id']} is not an item of {subscription_id}.",
            param="subscription_details[items][0][id]",
        )
    if wanted.get("price") and wanted["price"] != price["id"]:
        plan = await adapter.upstream.call("GET", f"/v1/plans/{wanted['price']}")
        if not plan.ok:
            return error_answer(
                400,
                f"No such price: '{wanted['price']}'",
                code="resource_missing",
                param="subscription_details[items][0][price]",
            )
        price = price_of_plan(plan.body)
        if price["currency"] != item["price"]["currency"]:
            return error_answer(
                400,
                "All of a subscription's prices share a currency: the price specified is in "
                f"{price['currency']}, the subscription in {item['price']['currency']}.",
                param="subscription_details[items][0][price]",
            )
    behavior = details.get("proration_behavior") or "create_prorations"
    quantity = int(item.get("quantity") or 1)
    name = await product_name(adapter, price)
    lines: list[Line] = []
    if price["id"] != item["price"]["id"]:
        lines = price_change(item, price, at, await product_name(adapter, item["price"]), name)
        if behavior == "none":
            lines = [line for line in lines if not line.proration]
    shown = [_line(line, subscription_id, item["id"]) for line in lines]
    if behavior == "always_invoice" or not same_cycle(item["price"], price):
        # Invoiced at once: the prorations, and the new cycle when the change starts one.
        period, reason = (at, at), "subscription_update"
    else:  # the next renewal's invoice: the prorations, then the next period
        end = int(item["current_period_end"])
        shown.append(_line(full_period(price, quantity, name, end), subscription_id, item["id"]))
        shown.extend(await _pending_lines(adapter, customer_id))
        period, reason = (int(item["current_period_start"]), end), "subscription_cycle"
    invoice = preview_invoice(
        account=adapter.held.account,
        customer=customer,
        subscription_id=subscription_id,
        lines=shown,
        currency=item["price"]["currency"],
        at=at,
        billing_reason=reason,
        period=period,
        proration_date=at if any(line.proration for line in lines) else None,
    )
    return Answer(200, invoice, shaped=True)


def _line(line: Line, subscription_id: str, item_id: str) -> Obj:
    return line_item(
        line, invoice_id=None, subscription_id=subscription_id, subscription_item_id=item_id
    )


async def _pending_lines(adapter: Adapter, customer_id: str) -> list[Obj]:
    """The customer's invoice items not yet on an invoice, as a preview's lines."""
    found = await adapter.upstream.get("/v1/invoiceitems", {"customer": customer_id, "limit": 100})
    lines = []
    for item in found["data"]:
        if item.get("invoice"):
            continue
        raw = {
            "id": "il_tmp_" + item["id"].removeprefix("ii_"),
            "object": "line_item",
            "type": "invoiceitem",
            "invoice_item": item["id"],
            "subscription": item.get("subscription"),
            "plan": item.get("plan"),
            "proration": item.get("proration"),
            "amount": item["amount"],
            "currency": item["currency"],
            "description": item.get("description"),
            "period": item.get("period"),
            "metadata": item.get("metadata") or {},
            "quantity": item.get("quantity") or 1,
            "livemode": False,
            "invoice": None,
        }
        lines.append(adapter.shaped(copy.deepcopy(raw)))
    return lines

"""Requests localstripe lacks or spells differently, each done as Stripe does it.

One handler per endpoint that needs more than forwarding; every other request is
forwarded as it came (:func:`forward`). Handlers answer in localstripe's shapes, plus
overlays; the adapter reshapes every answer on its way out.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devstripe import promotions
from devstripe.account import retrieve_account
from devstripe.events import Endpoint, new_id
from devstripe.held import PendingUpdate
from devstripe.previews import create_preview, product_name
from devstripe.prorations import Line, line_item, price_change, same_cycle
from devstripe.reshape import invoice_payments, invoices_in, price_of_plan
from devstripe.schedules import (
    canceled_with,
    create_schedule,
    release_schedule,
    retrieve_schedule,
    update_schedule,
)
from devstripe.upstream import ADAPTER_AUTHORIZATION, Answer, UpstreamRefused, error_answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

Obj = dict[str, Any]
Handler = Callable[["Adapter", "Call"], Awaitable[Answer]]

# Values of ``cancel_at`` that name the end of the current period.
PERIOD_END_NAMES = ("min_period_end", "max_period_end", "max_billed_until")
# Everything localstripe has, for lists the adapter filters and pages itself.
WHOLE_LIST = 10_000
# Stripe discards a pending update its invoice has not paid within 23 hours.
PENDING_UPDATE_SECONDS = 23 * 3600
UNSET: Any = object()  # a parameter not sent


# -- forwarding, with the invoice's ``payments`` the pinned version has ------------------
async def forward(
    adapter: Adapter,
    method: str,
    path: str,
    params: Obj | None = None,
    authorization: str | None = ADAPTER_AUTHORIZATION,
) -> Answer:
    """Forward to localstripe; ``expand`` paths through ``payments`` are answered here."""
    params = dict(params or {})
    expand = [str(item) for item in params.get("expand") or []]
    through_payments = [e.split(".") for e in expand if "payments" in e.split(".")]
    if through_payments:
        kept = [e for e in expand if "payments" not in e.split(".")]
        invoices_at = {".".join(s[: s.index("payments")]) for s in through_payments}
        params["expand"] = kept + sorted(invoices_at - set(kept) - {"", "data"})
        if not params["expand"]:
            del params["expand"]
    answer = await adapter.upstream.call(method, path, params, authorization)
    if answer.ok:
        for segments in sorted(through_payments, key=len):
            await _add_payments(adapter, answer.body, segments)
    return answer


async def _add_payments(adapter: Adapter, body: Obj, segments: list[str]) -> None:
    at = segments.index("payments")
    expand_intent = segments[at + 1 :] == ["data", "payment", "payment_intent"]
    for invoice in invoices_in(body, segments[:at]):
        intent = invoice.get("payment_intent")
        if expand_intent and isinstance(intent, str):
            intent = await adapter.upstream.get(f"/v1/payment_intents/{intent}")
        invoice["payments"] = invoice_payments(invoice, intent)


async def forward_call(adapter: Adapter, call: Call) -> Answer:
    """The request as it came, with its own credentials (Stripe.js sends its key in the body)."""
    return await forward(adapter, call.method, call.path, call.params, call.authorization)


# -- setup intents --------------------------------------------------------------------
async def create_intent(adapter: Adapter, call: Call) -> Answer:
    """A SetupIntent or PaymentIntent: ``allowed_payment_method_types`` (the pinned name)
    becomes localstripe's old name."""
    params = dict(call.params)
    allowed = params.pop("allowed_payment_method_types", None)
    if allowed is not None:
        params.setdefault("payment_method_types", allowed)
    for name in ("automatic_payment_methods", "excluded_payment_method_types"):
        params.pop(name, None)  # localstripe offers cards only, which these leave in
    answer = await forward(adapter, "POST", call.path, params)
    if answer.ok and allowed is not None:
        adapter.overlays.add(answer.body["id"], {"allowed_payment_method_types": allowed})
    return answer


async def confirm_setup_intent(adapter: Adapter, call: Call) -> Answer:
    """A confirmed SetupIntent attaches its card to its customer (localstripe does not)."""
    answer = await forward_call(adapter, call)
    intent = answer.body
    if answer.ok and intent.get("status") == "succeeded" and intent.get("customer"):
        method = await adapter.upstream.get(f"/v1/payment_methods/{intent['payment_method']}")
        if method.get("customer") != intent["customer"]:
            await adapter.upstream.call(
                "POST",
                f"/v1/payment_methods/{method['id']}/attach",
                {"customer": intent["customer"]},
            )
    return answer


# -- subscriptions --------------------------------------------------------------------
def _plans_for_prices(items: Any) -> Any:
    """A Price's id is its Plan's (see reshape.price_of_plan), so ``price`` names the plan."""
    if not isinstance(items, list):
        return items
    return [
        {**{k: v for k, v in item.items() if k != "price"}, "plan": item["price"]}
        if isinstance(item, dict) and "price" in item
        else item
        for item in items
    ]


def _cancel_at(value: Any, subscription: Obj) -> int | None:
    """A ``cancel_at`` value as a timestamp; a named period end is the current one."""
    if value in PERIOD_END_NAMES:
        return int(subscription["current_period_end"])
    return None if value in ("", None) else int(value)


async def create_subscription(adapter: Adapter, call: Call) -> Answer:
    params = dict(call.params)
    if "items" in params:
        params["items"] = _plans_for_prices(params["items"])
    # localstripe always tries the first payment and leaves the subscription incomplete
    # when it fails, which is allow_incomplete; it cannot hold the payment for the browser.
    if params.get("payment_behavior") in ("default_incomplete", "pending_if_incomplete"):
        params["payment_behavior"] = "allow_incomplete"
    if params.get("proration_behavior") not in (None, "create_prorations", "none"):
        del params["proration_behavior"]
    afterwards = {n: params.pop(n) for n in ("cancel_at", "cancel_at_period_end") if n in params}
    redemption = await promotions.redeem(adapter, params)
    if isinstance(redemption, Answer):
        return redemption
    answer = await forward(adapter, "POST", call.path, params)
    if redemption is not None:
        await promotions.settle(adapter, redemption, answer)
    if not answer.ok:
        return answer
    subscription = answer.body
    latest = subscription.get("latest_invoice")
    if latest:
        latest_id = latest["id"] if isinstance(latest, dict) else latest
        adapter.overlays.add(latest_id, {"billing_reason": "subscription_create"})
    if afterwards:  # localstripe takes these on updates only
        if "cancel_at" in afterwards:
            afterwards["cancel_at"] = _cancel_at(afterwards["cancel_at"], subscription)
        update = {k: v for k, v in afterwards.items() if v is not None}
        if update:
            await adapter.upstream.call("POST", f"/v1/subscriptions/{subscription['id']}", update)
            subscription.update(update)
    return answer


async def update_subscription(adapter: Adapter, call: Call) -> Answer:
    """An update as Stripe makes it: a price change prorated (or held as a pending update
    until its invoice is paid), ``pause_collection`` and a null ``cancel_at`` held here, and
    ``customer.subscription.updated`` sent when anything changed."""
    subscription_id = call.ids["id"]
    path = f"/v1/subscriptions/{subscription_id}"
    params = dict(call.params)
    proration = params.pop("proration_behavior", None) or "create_prorations"
    behavior = params.pop("payment_behavior", None)  # see _change_price
    pause = params.pop("pause_collection", UNSET)
    at = int(params.pop("proration_date", None) or time.time())
    expand = params.pop("expand", None)
    if params.get("default_payment_method") == "":
        del params["default_payment_method"]  # localstripe has no subscription-level card
    before = await adapter.upstream.get(path)
    shown_before = adapter.shaped(copy.deepcopy(before))
    change = None
    if "items" in params:
        found = await _price_change(adapter, shown_before, params["items"])
        if isinstance(found, Answer):
            return found
        change = found
        if change is None:
            params["items"] = _plans_for_prices(params["items"])
        else:
            del params["items"]
    if "cancel_at" in params:
        cancel_at = _cancel_at(params.pop("cancel_at"), before)
        adapter.overlays.forget(subscription_id, "cancel_at")
        if cancel_at is None:  # localstripe cannot unset it: the adapter holds the null
            adapter.overlays.add(subscription_id, {"cancel_at": None})
        else:
            params["cancel_at"] = cancel_at
    if params:  # localstripe refuses an update that changes nothing
        answer = await forward(adapter, "POST", path, params)
        if not answer.ok:
            return answer
    if pause is not UNSET:
        _hold_pause(adapter, subscription_id, pause)
    if change is not None:
        await _change_price(adapter, before, change, proration, behavior, at)
    after = adapter.shaped(await adapter.upstream.get(path))
    changed = {
        name: shown_before.get(name) for name in after if shown_before.get(name) != after[name]
    }
    if changed:
        adapter.deliveries.emit("customer.subscription.updated", after, changed)
    return await forward(adapter, "GET", path, {"expand": expand} if expand else {})


@dataclass(frozen=True)
class PriceChange:
    """One subscription item moving to another price."""

    item: Obj  # as it is (pinned shape: period and price)
    plan: Obj  # localstripe's plan of the new price
    price: Obj  # the new Price (pinned shape)


def _items(subscription: Obj) -> list[Obj]:
    return (subscription.get("items") or {}).get("data") or []


async def _price_change(
    adapter: Adapter, subscription: Obj, items: Any
) -> PriceChange | Answer | None:
    """The price change ``items`` asks for (one item, by id, to another price), an error
    Stripe would answer, or None when no price changes (quantity or metadata only)."""
    if not (isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict)):
        return None
    wanted = items[0]
    current = next((i for i in _items(subscription) if i["id"] == wanted.get("id")), None)
    if (
        current is None
        or set(wanted) != {"id", "price"}
        or wanted["price"] == current["price"]["id"]
    ):
        return None
    found = await adapter.upstream.call("GET", f"/v1/plans/{wanted['price']}")
    if not found.ok:
        return error_answer(
            400, f"No such price: '{wanted['price']}'", code="resource_missing",
            param="items[0][price]",
        )  # fmt: skip
    price = price_of_plan(found.body)
    if price["currency"] != current["price"]["currency"]:
        return error_answer(
            400,
            f"The price specified is in {price['currency']}, but this subscription is in "
            f"{current['price']['currency']}: all of a subscription's prices share a currency.",
            param="items[0][price]",
        )
    if not same_cycle(current["price"], price):
        return error_answer(
            400,
            "The Stripe emulator cannot move a subscription to a price billed on another "
            "cycle (localstripe keeps a subscription's first billing period).",
            param="items[0][price]",
        )
    return PriceChange(current, found.body, price)


async def _change_price(
    adapter: Adapter,
    subscription: Obj,
    change: PriceChange,
    proration: str,
    behavior: str | None,
    at: int,
) -> None:
    """Move the item, billing the prorations as asked.

    ``pending_if_incomplete`` with ``always_invoice``: the proration invoice is made and
    paid first, and the item moves only once it is paid; until then the subscription
    keeps its price and shows ``pending_update``. Otherwise the item moves at once
    (localstripe's own prorations, the whole of every earlier invoice, are dropped) and
    the prorations are invoiced now (``always_invoice``), left for the next invoice
    (``create_prorations``) or not made (``none``).
    """
    names = [await product_name(adapter, price) for price in (change.item["price"], change.price)]
    lines = price_change(change.item, change.price, at, *names)
    item_id = change.item["id"]
    if proration == "always_invoice" and behavior == "pending_if_incomplete":
        invoice = await _invoice_lines(adapter, subscription, item_id, lines)
        if invoice["status"] == "paid":
            await move_item(adapter, subscription, item_id, change.price["id"])
        else:
            await _hold_pending_update(adapter, subscription, change, invoice)
        return
    moved = await move_item(adapter, subscription, item_id, change.price["id"])
    new_item_id = _items(moved)[0]["id"]
    if proration == "always_invoice":
        await _invoice_lines(adapter, moved, new_item_id, lines)
    elif proration == "create_prorations":
        for line in lines:
            await _invoice_item(adapter, moved, line.amount, line.description, line)


async def move_item(adapter: Adapter, subscription: Obj, item_id: str, price_id: str) -> Obj:
    """Put the item on ``price_id`` at localstripe, without the prorations it makes (it
    credits the whole of every earlier invoice); the subscription as it is then."""
    path = f"/v1/subscriptions/{subscription['id']}"
    customer_id = subscription["customer"]
    before = {item["id"] for item in await _pending_items(adapter, customer_id)}
    moved = await adapter.upstream.call(
        "POST", path, {"items": [{"id": item_id, "plan": price_id}]}
    )
    if not moved.ok:
        raise UpstreamRefused(moved)
    for item in await _pending_items(adapter, customer_id):
        if item["id"] not in before and item.get("subscription") == subscription["id"]:
            await adapter.upstream.call("DELETE", f"/v1/invoiceitems/{item['id']}")
    return moved.body


async def _invoice_item(
    adapter: Adapter, subscription: Obj, amount: int, description: str, line: Line | None = None
) -> Obj:
    """A pending invoice item of the subscription (a proration when ``line`` says so)."""
    params: Obj = {
        "customer": subscription["customer"],
        "subscription": subscription["id"],
        "amount": amount,
        "currency": subscription.get("currency") or _items(subscription)[0]["plan"]["currency"],
        "description": description,
    }
    if line is not None:
        params |= {
            "proration": line.proration,
            "plan": line.price["id"],
            "period_start": line.period_start,
            "period_end": line.period_end,
        }
    made = await adapter.upstream.call("POST", "/v1/invoiceitems", params)
    if not made.ok:
        raise UpstreamRefused(made)
    return made.body


async def _invoice_lines(
    adapter: Adapter, subscription: Obj, item_id: str, lines: list[Line]
) -> Obj:
    """Invoice ``lines`` now and try to collect them; the invoice after the attempt.

    localstripe bills a subscription's invoice for the whole period too; an invoice item
    cancels that line, and the answers show neither (an overlay holds the lines shown).
    """
    current = await adapter.upstream.get(f"/v1/subscriptions/{subscription['id']}")
    billed = sum(i["plan"]["amount"] * (i.get("quantity") or 1) for i in _items(current))
    made = {
        (await _invoice_item(adapter, current, line.amount, line.description, line))["id"]: line
        for line in lines
    }
    offset = await _invoice_item(adapter, current, -billed, "The period already billed")
    created = await adapter.upstream.call(
        "POST", "/v1/invoices", {"customer": current["customer"], "subscription": current["id"]}
    )
    if not created.ok:
        raise UpstreamRefused(created)
    invoice = created.body
    shown = []
    for raw in (invoice.get("lines") or {}).get("data") or []:
        if raw.get("type") == "subscription" or raw.get("invoice_item") == offset["id"]:
            continue
        line = made.get(raw.get("invoice_item"))
        shown.append(
            adapter.shaped(copy.deepcopy(raw))
            if line is None
            else line_item(
                line, invoice_id=invoice["id"], subscription_id=current["id"],
                subscription_item_id=item_id, invoice_item_id=raw["invoice_item"],
                line_id=raw["id"],
            )
        )  # fmt: skip
    adapter.overlays.add(
        invoice["id"],
        {"billing_reason": "subscription_update", "lines": {"data": shown, "has_more": False}},
    )
    paid = await adapter.upstream.call("POST", f"/v1/invoices/{invoice['id']}/pay")
    return paid.body if paid.ok else await adapter.upstream.get(f"/v1/invoices/{invoice['id']}")


async def _hold_pending_update(
    adapter: Adapter, subscription: Obj, change: PriceChange, invoice: Obj
) -> None:
    """The proration invoice was not paid: the change waits for it, shown as
    ``pending_update``; the subscription goes on as it was (active, old price)."""
    subscription_id = subscription["id"]
    quantity = int(change.item.get("quantity") or 1)
    expires_at = int(time.time()) + PENDING_UPDATE_SECONDS
    pending = PendingUpdate(
        subscription_id, invoice["id"], change.item["id"], change.price["id"], quantity, expires_at
    )
    item = {
        **change.item,
        "plan": adapter.shaped(copy.deepcopy(change.plan)),
        "price": change.price,
    }
    shown = {
        "billing_cycle_anchor": None, "cancel_at_period_end": None, "discount": None,
        "discounts": None, "expires_at": expires_at, "metadata": None,
        "subscription_items": [item], "trial_end": None, "trial_from_plan": None,
    }  # fmt: skip
    pending.shown = adapter.overlays.add(subscription_id, {"pending_update": shown})
    # A failed payment of this invoice leaves the subscription as it was (localstripe
    # makes it past_due when a 3-D Secure challenge fails).
    pending.guard = adapter.overlays.add(
        subscription_id, {"status": "active"}, upstream={"status": "past_due"}
    )
    adapter.held.pending_updates[invoice["id"]] = pending
    intent_id = invoice.get("payment_intent")
    intent = await adapter.upstream.get(f"/v1/payment_intents/{intent_id}") if intent_id else {}
    shown_invoice = adapter.shaped(copy.deepcopy(invoice))
    if intent.get("status") == "requires_action":
        adapter.deliveries.emit("invoice.payment_action_required", shown_invoice)
    else:  # localstripe sends nothing for a declined payment of an invoice
        adapter.deliveries.emit("invoice.payment_failed", shown_invoice)


async def settle_pending_updates(adapter: Adapter) -> None:
    """Apply each pending update whose invoice is now paid; drop those that expired.

    One caller at a time: the request that paid an invoice and localstripe's late
    ``invoice.*`` event both settle, and whichever comes second waits until the first
    has applied the update, so a request that paid answers only once it shows.
    """
    async with adapter.held.settling:
        for invoice_id, pending in list(adapter.held.pending_updates.items()):
            expired = time.time() > pending.expires_at
            found = await adapter.upstream.call("GET", f"/v1/invoices/{invoice_id}")
            paid = found.ok and found.body.get("status") == "paid"
            if paid or expired:
                await _settle(adapter, adapter.held.pending_updates.pop(invoice_id), paid)


async def _settle(adapter: Adapter, pending: PendingUpdate, paid: bool) -> None:
    """Apply the update (its invoice is paid) or drop it (expired), and tell it."""
    path = f"/v1/subscriptions/{pending.subscription_id}"
    subscription = await adapter.upstream.get(path)
    before = adapter.shaped(copy.deepcopy(subscription))
    if paid:
        await move_item(adapter, subscription, pending.item_id, pending.price_id)
    for overlay in (pending.shown, pending.guard):
        adapter.overlays.discard(pending.subscription_id, overlay)
    after = adapter.shaped(await adapter.upstream.get(path))
    previous = {name: before.get(name) for name in ("items", "pending_update", "status")}
    kind = "applied" if paid else "expired"
    adapter.deliveries.emit(f"customer.subscription.pending_update_{kind}", after, previous)
    adapter.deliveries.emit("customer.subscription.updated", after, previous)


def _hold_pause(adapter: Adapter, subscription_id: str, pause: Any) -> None:
    """``pause_collection`` (``""`` unsets it): shown on the subscription, held here."""
    adapter.overlays.forget(subscription_id, "pause_collection")
    if not isinstance(pause, dict):
        return
    resumes_at = pause.get("resumes_at")
    shown = {
        "behavior": pause["behavior"],
        "resumes_at": None if resumes_at in (None, "") else int(resumes_at),
    }
    adapter.overlays.add(subscription_id, {"pause_collection": shown})


async def _pending_items(adapter: Adapter, customer_id: str) -> list[Obj]:
    """The customer's proration items not yet on an invoice."""
    found = await adapter.upstream.get(
        "/v1/invoiceitems", {"customer": customer_id, "limit": WHOLE_LIST}
    )
    return [item for item in found["data"] if item.get("proration")]


async def invoice_now(
    adapter: Adapter, customer_id: str, subscription_id: str, reason: str
) -> Answer:
    """Invoice the subscription now and try to collect it, as Stripe does on its own."""
    made = await adapter.upstream.call(
        "POST", "/v1/invoices", {"customer": customer_id, "subscription": subscription_id}
    )
    if not made.ok:
        return made
    adapter.overlays.add(made.body["id"], {"billing_reason": reason})
    return await adapter.upstream.call("POST", f"/v1/invoices/{made.body['id']}/pay")


async def resume_subscription(adapter: Adapter, call: Call) -> Answer:
    """Resume a paused subscription (only the adapter can pause one: an overlay)."""
    subscription_id = call.ids["id"]
    path = f"/v1/subscriptions/{subscription_id}"
    expand = {"expand": call.params["expand"]} if "expand" in call.params else {}
    current = adapter.shaped(await adapter.upstream.get(path))
    if current["status"] != "paused":
        return error_answer(
            400,
            f"This subscription cannot be resumed because its status is {current['status']}; "
            "only a paused subscription can be resumed.",
        )
    adapter.overlays.forget(subscription_id, "status", "status_details", "pause_collection")
    resumed = adapter.shaped(await adapter.upstream.get(path))
    adapter.deliveries.emit("customer.subscription.resumed", resumed)
    adapter.deliveries.emit("customer.subscription.updated", resumed)
    return await forward(adapter, "GET", path, expand)


async def cancel_subscription(adapter: Adapter, call: Call) -> Answer:
    """Cancel now; a schedule attached to the subscription is canceled with it."""
    answer = await forward_call(adapter, call)
    if answer.ok:
        canceled_with(adapter, call.ids["id"])
    return answer


async def authenticate_payment(adapter: Adapter, call: Call) -> Answer:
    """Stripe.js's 3-D Secure step (the stand-in's own route): a payment it completes may
    pay an invoice an update waits for."""
    answer = await forward_call(adapter, call)
    if answer.ok:
        await settle_pending_updates(adapter)
    return answer


async def confirm_payment_intent(adapter: Adapter, call: Call) -> Answer:
    """Stripe.js's ``confirmCardPayment`` with a card: the card becomes a PaymentMethod,
    the intent is confirmed with it (and may then ask for 3-D Secure). localstripe takes
    neither a card nor a publishable key here, so the adapter does it; the server's own
    confirmation is forwarded as it came."""
    if call.from_server or "payment_method_data" not in call.params:
        return await forward_call(adapter, call)
    path = f"/v1/payment_intents/{call.ids['id']}"
    intent = await adapter.upstream.get(path)
    if call.params.get("client_secret") != intent.get("client_secret"):
        return error_answer(404, f"No such payment_intent: '{call.ids['id']}'")
    method = await adapter.upstream.call("POST", "/v1/payment_methods", {
        k: v for k, v in call.params["payment_method_data"].items() if k != "billing_details"
    })  # fmt: skip
    if not method.ok:
        return method
    # A declined attempt leaves its failed charge; Stripe lets the next card try anew.
    changes = {"payment_method": method.body["id"], "latest_charge": None}
    updated = await adapter.upstream.call("POST", path, changes)
    if not updated.ok:
        return updated
    return await forward(adapter, "POST", f"{path}/confirm", {})


# -- invoices -------------------------------------------------------------------------
async def create_invoice(adapter: Adapter, call: Call) -> Answer:
    answer = await forward_call(adapter, call)
    if answer.ok:
        adapter.overlays.add(answer.body["id"], {"billing_reason": "manual"})
    return answer


async def pay_invoice(adapter: Adapter, call: Call) -> Answer:
    """Pay now; a failed payment is a 402, as at Stripe (localstripe answers 200, open)."""
    params = {k: v for k, v in call.params.items() if k != "off_session"}  # always off-session
    answer = await forward(adapter, "POST", call.path, params)
    if answer.ok and answer.body.get("status") == "paid":
        await settle_pending_updates(adapter)  # an update may have waited for this invoice
    if not answer.ok or answer.body.get("status") == "paid":
        return answer
    intent_id = answer.body.get("payment_intent")
    intent = await adapter.upstream.get(f"/v1/payment_intents/{intent_id}") if intent_id else {}
    if intent.get("status") == "requires_action":
        return error_answer(
            402,
            "This payment requires additional user action before it can be completed "
            "successfully. Payment can be completed using the PaymentIntent associated "
            "with the invoice.",
            kind="card_error",
            code="invoice_payment_intent_requires_action",
        )
    failure = intent.get("last_payment_error") or {}
    if failure:
        return error_answer(
            402,
            failure.get("message") or "Your card was declined.",
            kind="card_error",
            code=failure.get("code") or "card_declined",
            charge=failure.get("charge"),
        )
    return answer


async def mark_uncollectible(adapter: Adapter, call: Call) -> Answer:
    """Held by the adapter while localstripe's own copy stays open."""
    invoice_id = call.ids["id"]
    path = f"/v1/invoices/{invoice_id}"
    current = adapter.shaped(await adapter.upstream.get(path))
    if current["status"] != "open":
        return error_answer(
            400, f"You can only mark an open invoice uncollectible; it is {current['status']}."
        )
    now = int(time.time())
    adapter.overlays.add(invoice_id, {"status": "uncollectible"}, upstream={"status": "open"})
    adapter.overlays.add(invoice_id, {"status_transitions": {"marked_uncollectible_at": now}})
    marked = adapter.shaped(await adapter.upstream.get(path))
    adapter.deliveries.emit("invoice.marked_uncollectible", marked)
    adapter.deliveries.emit("invoice.updated", marked)
    expand = {"expand": call.params["expand"]} if "expand" in call.params else {}
    return await forward(adapter, "GET", path, expand)


# -- prices, kept as localstripe's plans (a price's id is its plan's) --------------------
async def create_price(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    recurring = params.get("recurring") or {}
    if not recurring.get("interval"):
        return error_answer(400, "The Stripe emulator has recurring prices only.")
    product = params.get("product")
    if not product and params.get("product_data"):
        made = await forward(adapter, "POST", "/v1/products", params["product_data"])
        if not made.ok:
            return made
        product = made.body["id"]
    plan = {
        "id": new_id("price_"), "product": product, "currency": params.get("currency"),
        "amount": params.get("unit_amount"), "interval": recurring["interval"],
        "interval_count": recurring.get("interval_count", 1),
        **{name: params[name] for name in ("metadata", "nickname", "active") if name in params},
    }  # fmt: skip
    answer = await forward(adapter, "POST", "/v1/plans", plan)
    if answer.ok and params.get("lookup_key"):
        adapter.overlays.add(answer.body["id"], {"lookup_key": params["lookup_key"]})
    return _as_prices(answer)


async def retrieve_price(adapter: Adapter, call: Call) -> Answer:
    return _as_prices(await forward(adapter, "GET", f"/v1/plans/{call.ids['id']}"))


async def update_price(adapter: Adapter, call: Call) -> Answer:
    changes = {k: v for k, v in call.params.items() if k in ("active", "metadata", "nickname")}
    path = f"/v1/plans/{call.ids['id']}"
    return _as_prices(await forward(adapter, "POST" if changes else "GET", path, changes))


async def list_prices(adapter: Adapter, call: Call) -> Answer:
    wanted = {k: v for k, v in call.params.items() if k in ("active", "product", "limit")}
    return _as_prices(await forward(adapter, "GET", "/v1/plans", wanted))


def _as_prices(answer: Answer) -> Answer:
    if not answer.ok:
        return answer
    if answer.body.get("object") == "list":
        answer.body["data"] = [price_of_plan(plan) for plan in answer.body["data"]]
        answer.body["url"] = "/v1/prices"
        return answer
    return Answer(answer.status, price_of_plan(answer.body))


# -- lists the pinned version filters by status ----------------------------------------
def _subscription_matches(subscription: Obj, status: str | None) -> bool:
    ended = subscription["status"] in ("canceled", "incomplete_expired")
    if status is None:
        return not ended
    return status == "all" or (ended if status == "ended" else subscription["status"] == status)


def _invoice_matches(invoice: Obj, status: str | None) -> bool:
    return status is None or invoice["status"] == status


async def list_subscriptions(adapter: Adapter, call: Call) -> Answer:
    return await _filtered_list(adapter, call, _subscription_matches, {"status": "all"})


async def list_invoices(adapter: Adapter, call: Call) -> Answer:
    return await _filtered_list(adapter, call, _invoice_matches, {})


async def _filtered_list(
    adapter: Adapter, call: Call, matches: Callable[[Obj, str | None], bool], upstream: Obj
) -> Answer:
    """All of localstripe's list, reshaped (overlays change statuses), filtered, paged."""
    params = dict(call.params)
    status = params.pop("status", None)
    limit = int(params.pop("limit", 10))
    after, before = params.pop("starting_after", None), params.pop("ending_before", None)
    answer = await forward(adapter, "GET", call.path, {**params, **upstream, "limit": WHOLE_LIST})
    if not answer.ok:
        return answer
    everything = adapter.shaped(answer.body)["data"]  # oldest first within a second
    order = {item["id"]: index for index, item in enumerate(everything)}
    found = [item for item in everything if matches(item, status)]
    found.sort(key=lambda item: (item.get("created") or 0, order[item["id"]]), reverse=True)
    ids = [item["id"] for item in found]
    if before in ids:
        start = max(0, ids.index(before) - limit)
        page, has_more = found[start : ids.index(before)], start > 0
    else:
        start = ids.index(after) + 1 if after in ids else 0
        page, has_more = found[start : start + limit], len(found) > start + limit
    body = {"object": "list", "data": page, "has_more": has_more, "url": call.path}
    return Answer(200, body, shaped=True)


# -- webhook endpoints, held by the adapter ---------------------------------------------
def _endpoint_or_404(adapter: Adapter, endpoint_id: str) -> Endpoint | Answer:
    endpoint = adapter.deliveries.endpoints.get(endpoint_id)
    if endpoint is None:
        return error_answer(
            404, f"No such webhook endpoint: '{endpoint_id}'", code="resource_missing", param="id"
        )
    return endpoint


def _events_param(value: Any) -> list[str]:
    return [str(event) for event in value] if isinstance(value, list) else [str(value)]


async def create_webhook_endpoint(adapter: Adapter, call: Call) -> Answer:
    params = call.params
    for name in ("url", "enabled_events"):
        if not params.get(name):
            return error_answer(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
    endpoint = Endpoint(
        url=params["url"],
        enabled_events=_events_param(params["enabled_events"]),
        api_version=params.get("api_version"),
        description=params.get("description") or None,
        metadata=dict(params.get("metadata") or {}),
    )
    adapter.deliveries.endpoints[endpoint.id] = endpoint
    return Answer(200, endpoint.as_stripe(with_secret=True), shaped=True)


async def list_webhook_endpoints(adapter: Adapter, call: Call) -> Answer:
    endpoints = sorted(adapter.deliveries.endpoints.values(), key=lambda e: -e.created)
    limit = int(call.params.get("limit", 10))
    body = {
        "object": "list",
        "data": [endpoint.as_stripe() for endpoint in endpoints[:limit]],
        "has_more": len(endpoints) > limit,
        "url": "/v1/webhook_endpoints",
    }
    return Answer(200, body, shaped=True)


async def retrieve_webhook_endpoint(adapter: Adapter, call: Call) -> Answer:
    found = _endpoint_or_404(adapter, call.ids["id"])
    return found if isinstance(found, Answer) else Answer(200, found.as_stripe(), shaped=True)


async def update_webhook_endpoint(adapter: Adapter, call: Call) -> Answer:
    found = _endpoint_or_404(adapter, call.ids["id"])
    if isinstance(found, Answer):
        return found
    params = call.params
    if "url" in params:
        found.url = params["url"]
    if "enabled_events" in params:
        found.enabled_events = _events_param(params["enabled_events"])
    if "disabled" in params:
        found.status = "disabled" if str(params["disabled"]).lower() == "true" else "enabled"
    if "description" in params:
        found.description = params["description"] or None
    for key, value in (params.get("metadata") or {}).items():
        if value == "":
            found.metadata.pop(key, None)
        else:
            found.metadata[key] = value
    return Answer(200, found.as_stripe(), shaped=True)


async def delete_webhook_endpoint(adapter: Adapter, call: Call) -> Answer:
    found = _endpoint_or_404(adapter, call.ids["id"])
    if isinstance(found, Answer):
        return found
    del adapter.deliveries.endpoints[found.id]
    body = {"id": found.id, "object": "webhook_endpoint", "deleted": True}
    return Answer(200, body, shaped=True)


# -- events the adapter made itself ------------------------------------------------------
async def retrieve_event(adapter: Adapter, call: Call) -> Answer:
    emitted = adapter.deliveries.emitted.get(call.ids["id"])
    if emitted is not None:
        return Answer(200, emitted, shaped=True)
    return await forward_call(adapter, call)


ID = r"(?P<id>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in (
        ("POST", "/v1/setup_intents", create_intent),
        ("POST", "/v1/payment_intents", create_intent),
        ("POST", f"/v1/setup_intents/{ID}/confirm", confirm_setup_intent),
        ("POST", "/v1/subscriptions", create_subscription),
        ("GET", "/v1/subscriptions", list_subscriptions),
        ("POST", f"/v1/subscriptions/{ID}", update_subscription),
        ("POST", f"/v1/subscriptions/{ID}/resume", resume_subscription),
        ("DELETE", f"/v1/subscriptions/{ID}", cancel_subscription),
        ("POST", "/v1/subscription_schedules", create_schedule),
        ("GET", f"/v1/subscription_schedules/{ID}", retrieve_schedule),
        ("POST", f"/v1/subscription_schedules/{ID}", update_schedule),
        ("POST", f"/v1/subscription_schedules/{ID}/release", release_schedule),
        ("POST", f"/v1/payment_intents/{ID}/_authenticate", authenticate_payment),
        ("POST", f"/v1/payment_intents/{ID}/confirm", confirm_payment_intent),
        ("POST", "/v1/prices", create_price),
        ("GET", "/v1/prices", list_prices),
        ("GET", f"/v1/prices/{ID}", retrieve_price),
        ("POST", f"/v1/prices/{ID}", update_price),
        ("POST", "/v1/invoices", create_invoice),
        ("POST", "/v1/invoices/create_preview", create_preview),
        ("GET", "/v1/invoices", list_invoices),
        ("POST", f"/v1/invoices/{ID}/pay", pay_invoice),
        ("POST", f"/v1/invoices/{ID}/mark_uncollectible", mark_uncollectible),
        ("POST", "/v1/webhook_endpoints", create_webhook_endpoint),
        ("GET", "/v1/webhook_endpoints", list_webhook_endpoints),
        ("GET", f"/v1/webhook_endpoints/{ID}", retrieve_webhook_endpoint),
        ("POST", f"/v1/webhook_endpoints/{ID}", update_webhook_endpoint),
        ("DELETE", f"/v1/webhook_endpoints/{ID}", delete_webhook_endpoint),
        ("GET", f"/v1/events/{ID}", retrieve_event),
        ("GET", "/v1/account", retrieve_account),
        ("POST", "/v1/coupons", promotions.create_coupon),
        ("GET", f"/v1/coupons/{ID}", promotions.retrieve_coupon),
        ("POST", "/v1/promotion_codes", promotions.create_promotion_code),
        ("GET", "/v1/promotion_codes", promotions.list_promotion_codes),
        ("GET", f"/v1/promotion_codes/{ID}", promotions.retrieve_promotion_code),
        ("POST", f"/v1/promotion_codes/{ID}", promotions.update_promotion_code),
    )
]


def route(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    """The handler for a request, and the ids its path names."""
    for route_method, pattern, handler in ROUTES:
        found = pattern.match(path)
        if route_method == method and found:
            return handler, found.groupdict()
    return forward_call, {}

"""localstripe's objects, reshaped into the pinned API version's shapes (pure functions).

localstripe answers in shapes of about 2019: the PaymentIntent named on the invoice, the
billing period on the subscription, Plans without Prices. Each ``_shape_<object>``
below adds what the pinned version has and, unless ``legacy`` is asked for, removes what
it no longer has. Fields the adapter holds itself (an uncollectible invoice, a paused
subscription) come from :class:`Overlays`, merged into every answer naming the object.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The version the product pins (the SDK's), which every answer and event is shaped as. The
# SDK itself is read only by the gateway and by devstripe.contract.
from billing.gateway import API_VERSION

Obj = dict[str, Any]

# Fields localstripe answers that the pinned version no longer has.
REMOVED: dict[str, frozenset[str]] = {
    "subscription": frozenset({
        "current_period_start", "current_period_end", "plan", "quantity", "tax_percent",
        "trial_from_plan", "trial_period_days", "discount",
    }),
    "subscription_item": frozenset({"invoice", "livemode"}),
    "invoice": frozenset({
        "subscription", "payment_intent", "charge", "date", "tax", "tax_percent",
        "total_tax_amounts", "discount", "application_fee",
    }),
    "line_item": frozenset({
        "plan", "proration", "subscription_item", "invoice_item", "tax_amounts", "tax_rates",
        "type", "created",
    }),
    "payment_intent": frozenset({"charges", "invoice"}),
    "charge": frozenset({"invoice"}),
    "customer": frozenset({"account_balance", "business_vat_id"}),
    "plan": frozenset({"name", "statement_descriptor"}),
    "product": frozenset({"attributes", "caption"}),
    "list": frozenset({"total_count"}),
}  # fmt: skip

# Customer fields the pinned version answers only when asked for with ``expand``.
CUSTOMER_INCLUDABLE = ("sources", "subscriptions", "tax_ids")


@dataclass
class Overlay:
    """Fields the adapter holds for one object, merged while ``upstream`` still holds.

    ``upstream`` names values localstripe's own copy must have for the overlay to apply
    (an invoice marked uncollectible stays so only while localstripe still has it open).
    """

    fields: Obj
    upstream: Obj = field(default_factory=dict)

    def applies_to(self, obj: Obj) -> bool:
        return all(obj.get(name) == value for name, value in self.upstream.items())


class Overlays:
    """Per-object overlays, by object id."""

    def __init__(self) -> None:
        self._by_id: dict[str, list[Overlay]] = {}

    def add(self, object_id: str, fields: Obj, upstream: Obj | None = None) -> Overlay:
        overlay = Overlay(fields, upstream or {})
        self._by_id.setdefault(object_id, []).append(overlay)
        return overlay

    def discard(self, object_id: str, overlay: Overlay) -> None:
        """Drop one overlay added earlier (by identity)."""
        kept = [other for other in self._by_id.get(object_id, []) if other is not overlay]
        self._by_id[object_id] = kept

    def forget(self, object_id: str, *names: str) -> None:
        """Drop overlaid ``names`` of the object (all of its overlays when none are named)."""
        if not names:
            self._by_id.pop(object_id, None)
            return
        for overlay in self._by_id.get(object_id, []):
            for name in names:
                overlay.fields.pop(name, None)

    def apply(self, obj: Obj) -> None:
        upstream = dict(obj)  # guards look at localstripe's values, not at earlier overlays
        for overlay in self._by_id.get(obj.get("id") or "", []):
            if overlay.applies_to(upstream):
                _merge(obj, overlay.fields)


def _merge(target: Obj, fields: Obj) -> None:
    for name, value in fields.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            _merge(target[name], value)
        else:  # a copy: an answer changed later must not change the overlay
            target[name] = copy.deepcopy(value)


@dataclass
class Shaping:
    """How to reshape one answer."""

    legacy: bool = False  # keep the fields the pinned version dropped (tolerant mode)
    overlays: Overlays = field(default_factory=Overlays)
    expand: tuple[str, ...] = ()  # the request's expand paths


def reshape(value: Any, shaping: Shaping) -> Any:
    """Reshape every Stripe object in ``value`` (in place, events too) and return it."""
    if isinstance(value, list):
        for item in value:
            reshape(item, shaping)
    elif isinstance(value, dict):
        kind = value.get("object")  # an event's data has an "object" too: the object
        shaper = SHAPERS.get(kind) if isinstance(kind, str) else None
        if value.get("deleted") is True:
            shaper = None  # a deleted object is its id, its object and "deleted" only
        if shaper is not None:
            shaper(value, shaping)
        for child in value.values():
            reshape(child, shaping)
        if isinstance(kind, str):
            shaping.overlays.apply(value)
    return value


def _drop(obj: Obj, shaping: Shaping) -> None:
    if not shaping.legacy:
        for name in REMOVED.get(obj["object"], ()):
            obj.pop(name, None)


def _items(subscription: Obj) -> list[Obj]:
    return (subscription.get("items") or {}).get("data") or []


def _shape_subscription(sub: Obj, shaping: Shaping) -> None:
    start, end = sub.get("current_period_start"), sub.get("current_period_end")
    plan = sub.get("plan") or next((i.get("plan") for i in _items(sub)), None) or {}
    for item in _items(sub):
        item.setdefault("current_period_start", start)
        item.setdefault("current_period_end", end)
        item.setdefault("subscription", sub.get("id"))
    if sub.get("billing_cycle_anchor") is None:
        sub["billing_cycle_anchor"] = start
    canceled = sub.get("status") == "canceled"
    sub.setdefault("status_details", None)
    sub.setdefault("pause_collection", None)
    sub.setdefault("pending_update", None)
    sub.setdefault("schedule", None)
    sub.setdefault("default_payment_method", None)
    sub.setdefault("default_source", None)
    sub.setdefault("collection_method", "charge_automatically")
    sub.setdefault("currency", plan.get("currency") if isinstance(plan, dict) else None)
    sub.setdefault("discounts", [])
    sub.setdefault("cancellation_details", {
        "comment": None, "feedback": None,
        "reason": "cancellation_requested" if canceled else None,
    })  # fmt: skip
    _drop(sub, shaping)


def _shape_subscription_item(item: Obj, shaping: Shaping) -> None:
    plan = item.get("plan")
    if isinstance(plan, dict) and "price" not in item:
        item["price"] = price_of_plan(plan)
    item.setdefault("discounts", [])
    item.setdefault("billing_thresholds", None)
    _drop(item, shaping)


def price_of_plan(plan: Obj) -> Obj:
    """The Price the pinned version shows for a localstripe Plan (same id, same terms)."""
    return {
        "id": plan["id"],
        "object": "price",
        "active": plan.get("active", True),
        "billing_scheme": plan.get("billing_scheme") or "per_unit",
        "created": plan.get("created"),
        "currency": plan.get("currency"),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": dict(plan.get("metadata") or {}),
        "nickname": plan.get("nickname"),
        "product": plan.get("product"),
        "recurring": {
            "interval": plan.get("interval"),
            "interval_count": plan.get("interval_count") or 1,
            "meter": None,
            "trial_period_days": plan.get("trial_period_days"),
            "usage_type": plan.get("usage_type") or "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": plan.get("tiers_mode"),
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": plan.get("amount"),
        "unit_amount_decimal": None if plan.get("amount") is None else str(plan["amount"]),
    }


def _shape_invoice(invoice: Obj, shaping: Shaping) -> None:
    subscription = invoice.get("subscription")
    if subscription and not invoice.get("parent"):
        invoice["parent"] = {"type": "subscription_details"}
    if subscription:
        details = invoice["parent"].setdefault("subscription_details", {})
        details.setdefault("subscription", subscription)
        details.setdefault("metadata", None)
        details.setdefault("subscription_proration_date", None)
        invoice["parent"].setdefault("quote_details", None)
    invoice.setdefault("parent", None)
    transitions = invoice.setdefault("status_transitions", {})
    for name in ("finalized_at", "marked_uncollectible_at", "paid_at", "voided_at"):
        transitions.setdefault(name, None)
    due, paid = invoice.get("amount_due") or 0, invoice.get("amount_paid") or 0
    invoice.setdefault("amount_remaining", max(0, due - paid))
    invoice.setdefault("amount_overpaid", 0)
    invoice.setdefault("amount_shipping", 0)
    invoice.setdefault("discounts", [])
    invoice.setdefault("total_taxes", [])
    invoice.setdefault("last_finalization_error", None)
    invoice.setdefault("hosted_invoice_url", None)
    invoice.setdefault("status_details", None)
    _drop(invoice, shaping)


def _shape_line_item(line: Obj, shaping: Shaping) -> None:
    plan = line.get("plan") if isinstance(line.get("plan"), dict) else None
    proration = bool(line.get("proration"))
    if line.get("type") == "subscription":
        line.setdefault("parent", {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None, "proration": proration, "proration_details": None,
                "subscription": line.get("subscription"),
                "subscription_item": line.get("subscription_item"),
            },
        })  # fmt: skip
    elif line.get("type") == "invoiceitem":
        line.setdefault("parent", {
            "type": "invoice_item_details",
            "subscription_item_details": None,
            "invoice_item_details": {
                "invoice_item": line.get("invoice_item"), "proration": proration,
                "proration_details": None, "subscription": line.get("subscription"),
            },
        })  # fmt: skip
    line.setdefault("pricing", None if plan is None else {
        "type": "price_details",
        "price_details": {"price": plan["id"], "product": plan.get("product")},
        "unit_amount_decimal": None if plan.get("amount") is None else str(plan["amount"]),
    })  # fmt: skip
    line.setdefault("subtotal", line.get("amount"))
    line.setdefault("taxes", [])
    line.setdefault("discount_amounts", [])
    line.setdefault("discountable", True)
    line.setdefault("discounts", [])
    line.setdefault("pretax_credit_amounts", [])
    _drop(line, shaping)


def _shape_payment_intent(intent: Obj, shaping: Shaping) -> None:
    succeeded = intent.get("status") == "succeeded"
    intent.setdefault("payment_method_types", ["card"])
    intent.setdefault("amount_received", intent.get("amount") if succeeded else 0)
    intent.setdefault("amount_capturable", 0)
    intent.setdefault("confirmation_method", "automatic")
    intent.setdefault("canceled_at", None)
    intent.setdefault("cancellation_reason", None)
    intent.setdefault("description", None)
    intent.setdefault("setup_future_usage", None)
    charge = intent.get("latest_charge")
    if isinstance(charge, dict) and not any(
        path.split(".")[-1] == "latest_charge" for path in shaping.expand
    ):  # localstripe expands it unasked; Stripe answers its id
        intent["latest_charge"] = charge.get("id")
    _drop(intent, shaping)


def _shape_charge(charge: Obj, shaping: Shaping) -> None:
    succeeded = charge.get("status") == "succeeded"
    failed = charge.get("status") == "failed"
    captured = succeeded and charge.get("captured", True)
    charge.setdefault("amount_captured", charge.get("amount") if captured else 0)
    charge.setdefault("disputed", False)
    charge.setdefault("billing_details", {
        "address": None, "email": None, "name": None, "phone": None, "tax_id": None,
    })  # fmt: skip
    charge.setdefault("fraud_details", {})
    charge.setdefault("outcome", {
        "advice_code": None, "network_advice_code": None, "network_decline_code": None,
        "network_status": "declined_by_network" if failed else "approved_by_network",
        "reason": charge.get("failure_code") if failed else None,
        "risk_level": "normal", "risk_score": None, "rule": None,
        "seller_message": "The bank did not return any further details with this decline."
        if failed else "Payment complete.",
        "type": "issuer_declined" if failed else "authorized",
    })  # fmt: skip
    for name in (
        "application", "application_fee", "application_fee_amount", "authorization_code",
        "calculated_statement_descriptor", "failure_balance_transaction", "on_behalf_of",
        "receipt_url", "review", "shipping", "source_transfer", "statement_descriptor_suffix",
        "transfer_data", "transfer_group",
    ):  # fmt: skip
        charge.setdefault(name, None)
    _drop(charge, shaping)


def _shape_customer(customer: Obj, shaping: Shaping) -> None:
    if "account_balance" in customer:
        customer.setdefault("balance", customer["account_balance"])
    if not shaping.legacy:
        for name in CUSTOMER_INCLUDABLE:
            if name not in shaping.expand:
                customer.pop(name, None)
    _drop(customer, shaping)


def _shape_event(event: Obj, shaping: Shaping) -> None:
    event["api_version"] = API_VERSION  # its data.object is reshaped like any answer
    event.setdefault("pending_webhooks", 0)
    event.setdefault("request", {"id": None, "idempotency_key": None})


SHAPERS: dict[str, Callable[[Obj, Shaping], None]] = {
    "subscription": _shape_subscription,
    "subscription_item": _shape_subscription_item,
    "invoice": _shape_invoice,
    "line_item": _shape_line_item,
    "payment_intent": _shape_payment_intent,
    "customer": _shape_customer,
    "charge": _shape_charge,
    "event": _shape_event,
    **{kind: _drop for kind in ("plan", "product", "list")},
}


# -- invoice payments (the pinned version's replacement for invoice.payment_intent) -------
def invoice_payments(invoice: Obj, intent: Obj | str | None) -> Obj:
    """The ``payments`` list of a localstripe invoice, whose one PaymentIntent is ``intent``."""
    return {
        "object": "list",
        "data": [invoice_payment(invoice, intent)] if intent else [],
        "has_more": False,
        "url": "/v1/invoice_payments",
    }


def invoice_payment(invoice: Obj, intent: Obj | str) -> Obj:
    """The default InvoicePayment of ``invoice``, paid (or not yet) by ``intent``."""
    intent_id = intent["id"] if isinstance(intent, dict) else intent
    transitions = invoice.get("status_transitions") or {}
    status = {"paid": "paid", "void": "canceled"}.get(invoice.get("status") or "", "open")
    return {
        "object": "invoice_payment",
        "id": "inpay_" + intent_id.removeprefix("pi_"),
        "invoice": invoice["id"],
        "payment": {"type": "payment_intent", "payment_intent": intent},
        "status": status,
        "amount_paid": invoice.get("amount_paid") if status == "paid" else None,
        "amount_requested": invoice.get("amount_due") or 0,
        "currency": invoice.get("currency"),
        "is_default": True,
        "livemode": False,
        "created": (intent.get("created") if isinstance(intent, dict) else None)
        or invoice.get("created"),
        "status_transitions": {
            "paid_at": transitions.get("paid_at") if status == "paid" else None,
            "canceled_at": transitions.get("voided_at") if status == "canceled" else None,
        },
    }


def invoices_in(value: Any, path: list[str]) -> Iterator[Obj]:
    """The invoices reached by following ``path`` (an expand path's segments) from ``value``."""
    if not path:
        if isinstance(value, dict) and value.get("object") == "invoice":
            yield value
        return
    head, rest = path[0], path[1:]
    child = value.get(head) if isinstance(value, dict) else None
    if isinstance(child, list):
        for item in child:
            yield from invoices_in(item, rest)
    elif isinstance(child, dict):
        yield from invoices_in(child, rest)

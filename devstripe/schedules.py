"""Subscription schedules, held by the adapter (localstripe has none).

A schedule is made from a subscription (``from_subscription``): one phase, the current
period on the current price. An update replaces its phases (the first must keep the
current phase's start and price; each next one starts where the one before ends; the
last, without an end, lasts one billing period) and its ``end_behavior``. While attached,
the subscription's ``schedule`` names it (an overlay). Stripe's clock is the adapter's
renewal control (:mod:`devstripe.renewals`): a renewal that starts a later phase moves
the subscription to that phase's price; one past the last phase releases the schedule.
Events are sent as Stripe sends them: ``subscription_schedule.created|updated|released|
canceled``, and ``customer.subscription.updated`` when the subscription changes.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import TYPE_CHECKING, Any

from devstripe.held import Schedule
from devstripe.prorations import add_interval
from devstripe.reshape import price_of_plan
from devstripe.upstream import Answer, error_answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

Obj = dict[str, Any]

OPEN = ("not_started", "active")  # the statuses a schedule can still be changed in
END_BEHAVIORS = ("release", "cancel", "none", "renew")


def _automatic_tax() -> Obj:
    return {"disabled_reason": None, "enabled": False, "liability": None}


def phase(price: Obj, quantity: int, start: int, end: int, proration: str) -> Obj:
    """One phase of a schedule: ``quantity`` of ``price`` from ``start`` until ``end``."""
    return {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "automatic_tax": _automatic_tax(),
        "billing_cycle_anchor": None,
        "billing_thresholds": None,
        "collection_method": None,
        "currency": price["currency"],
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "end_date": end,
        "invoice_settings": None,
        "items": [
            {
                "billing_thresholds": None,
                "discounts": [],
                "metadata": {},
                "plan": price["id"],
                "price": price["id"],
                "quantity": quantity,
                "tax_rates": [],
            }
        ],
        "metadata": {},
        "on_behalf_of": None,
        "proration_behavior": proration,
        "start_date": start,
        "transfer_data": None,
        "trial": False,
        "trial_end": None,
    }


def new_schedule(subscription: Obj) -> Obj:
    """The schedule ``from_subscription`` makes: the current period as its one phase."""
    [item] = subscription["items"]["data"]
    start, end = int(item["current_period_start"]), int(item["current_period_end"])
    quantity = int(item.get("quantity") or 1)
    return {
        "id": "sub_sched_" + secrets.token_hex(8),
        "object": "subscription_schedule",
        "application": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "canceled_at": None,
        "completed_at": None,
        "created": int(time.time()),
        "current_phase": {"end_date": end, "start_date": start},
        "customer": subscription["customer"],
        "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": _automatic_tax(),
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": None,
            "collection_method": subscription.get("collection_method") or "charge_automatically",
            "default_payment_method": None,
            "description": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "days_until_due": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": "release",
        "livemode": False,
        "metadata": {},
        "pause_schedules": [],
        "phases": [phase(item["price"], quantity, start, end, "create_prorations")],
        "released_at": None,
        "released_subscription": None,
        "status": "active",
        "subscription": subscription["id"],
        "test_clock": None,
    }


def _missing(schedule_id: str) -> Answer:
    return error_answer(
        404,
        f"No such subscription_schedule: '{schedule_id}'",
        code="resource_missing",
        param="id",
    )


def _closed(held: Schedule, doing: str) -> Answer | None:
    status = held.obj["status"]
    if status in OPEN:
        return None
    return error_answer(
        400,
        f"You cannot {doing} a subscription schedule that is currently in the `{status}` "
        "status. It must be in one of the following statuses: `not_started`, `active`.",
    )


def _shown(held: Schedule) -> Answer:
    return Answer(200, copy.deepcopy(held.obj), shaped=True)


def attached(adapter: Adapter, subscription_id: str) -> Schedule | None:
    """The open schedule attached to the subscription, if any."""
    for held in adapter.held.schedules.values():
        if held.obj["subscription"] == subscription_id and held.obj["status"] in OPEN:
            return held
    return None


async def _subscription(adapter: Adapter, subscription_id: str) -> Obj:
    return adapter.shaped(await adapter.upstream.get(f"/v1/subscriptions/{subscription_id}"))


def _emit_schedule(
    adapter: Adapter, kind: str, held: Schedule, previous: Obj | None = None
) -> None:
    adapter.deliveries.emit(f"subscription_schedule.{kind}", copy.deepcopy(held.obj), previous)


# -- the API ---------------------------------------------------------------------------
async def create_schedule(adapter: Adapter, call: Call) -> Answer:
    subscription_id = call.params.get("from_subscription")
    if not subscription_id:
        return error_answer(
            400,
            "The Stripe emulator makes schedules from a subscription only: pass from_subscription.",
            param="from_subscription",
        )
    found = await adapter.upstream.call("GET", f"/v1/subscriptions/{subscription_id}")
    if not found.ok:
        return error_answer(
            400,
            f"No such subscription: '{subscription_id}'",
            code="resource_missing",
            param="from_subscription",
        )
    subscription = adapter.shaped(found.body)
    already = attached(adapter, subscription_id)
    if already is not None:
        return error_answer(
            400,
            "You cannot migrate a subscription that is already attached to a schedule: "
            f"`{already.obj['id']}`.",
            param="from_subscription",
        )
    if subscription["status"] in ("canceled", "incomplete_expired"):
        return error_answer(
            400,
            f"You cannot migrate a subscription in the `{subscription['status']}` status.",
            param="from_subscription",
        )
    if len(subscription["items"]["data"]) != 1:
        return error_answer(400, "The Stripe emulator has subscriptions of one item only.")
    obj = new_schedule(subscription)
    held = Schedule(obj, billed_until=obj["current_phase"]["end_date"])
    held.overlay = adapter.overlays.add(subscription_id, {"schedule": obj["id"]})
    adapter.held.schedules[obj["id"]] = held
    _emit_schedule(adapter, "created", held)
    adapter.deliveries.emit(
        "customer.subscription.updated",
        await _subscription(adapter, subscription_id),
        {"schedule": None},
    )
    return _shown(held)


async def retrieve_schedule(adapter: Adapter, call: Call) -> Answer:
    held = adapter.held.schedules.get(call.ids["id"])
    return _missing(call.ids["id"]) if held is None else _shown(held)


async def update_schedule(adapter: Adapter, call: Call) -> Answer:
    held = adapter.held.schedules.get(call.ids["id"])
    if held is None:
        return _missing(call.ids["id"])
    refused = _closed(held, "update")
    if refused is not None:
        return refused
    params = call.params
    lacking = set(params) - {"phases", "end_behavior", "metadata", "expand", "proration_behavior"}
    if lacking:
        return error_answer(
            400,
            f"The Stripe emulator's schedules lack {', '.join(sorted(lacking))}.",
            param=sorted(lacking)[0],
        )
    before = copy.deepcopy(held.obj)
    if "phases" in params:
        phases = await _phases(adapter, held, params["phases"])
        if isinstance(phases, Answer):
            return phases
        held.obj["phases"] = phases
        first = phases[0]
        held.obj["current_phase"] = {
            "end_date": first["end_date"],
            "start_date": first["start_date"],
        }
    if params.get("end_behavior"):
        held.obj["end_behavior"] = params["end_behavior"]
    for key, value in (params.get("metadata") or {}).items():
        if value == "":
            held.obj["metadata"].pop(key, None)
        else:
            held.obj["metadata"][key] = value
    previous = {name: value for name, value in before.items() if held.obj[name] != value}
    if previous:
        _emit_schedule(adapter, "updated", held, previous)
    return _shown(held)


async def _phases(adapter: Adapter, held: Schedule, given: Any) -> list[Obj] | Answer:
    """The phases asked for, each checked as Stripe checks them, in the pinned shape."""
    if not isinstance(given, list) or not given:
        return error_answer(400, "A schedule needs at least one phase.", param="phases")
    subscription = await _subscription(adapter, held.obj["subscription"])
    [item] = subscription["items"]["data"]
    current = held.obj["current_phase"] or {}
    phases: list[Obj] = []
    for index, asked in enumerate(given):
        where = f"phases[{index}]"
        items = asked.get("items")
        if not isinstance(items, list) or len(items) != 1 or not items[0].get("price"):
            return error_answer(
                400,
                "The Stripe emulator's schedule phases have one item, with a price.",
                param=f"{where}[items]",
            )
        found = await adapter.upstream.call("GET", f"/v1/plans/{items[0]['price']}")
        if not found.ok:
            return error_answer(
                400,
                f"No such price: '{items[0]['price']}'",
                code="resource_missing",
                param=f"{where}[items][0][price]",
            )
        price = price_of_plan(found.body)
        if price["currency"] != item["price"]["currency"]:
            return error_answer(
                400,
                "All of a schedule's phases must be in the subscription's currency "
                f"({item['price']['currency']}).",
                param=f"{where}[items][0][price]",
            )
        quantity = int(items[0].get("quantity") or 1)
        start = asked.get("start_date")
        expected = current.get("start_date") if index == 0 else phases[-1]["end_date"]
        if start in (None, "") and index > 0:
            start = expected
        if start == "now" or int(start) != expected:
            return error_answer(
                400,
                "You can not modify the start date of the current phase."
                if index == 0
                else "Phases must be contiguous: each starts when the one before ends.",
                param=f"{where}[start_date]",
            )
        start = int(start)
        if index == 0 and (price["id"], quantity) != (
            item["price"]["id"],
            int(item.get("quantity") or 1),
        ):
            return error_answer(
                400,
                "The Stripe emulator cannot change the current phase's items: change the "
                "subscription, or schedule the change for a later phase.",
                param=f"{where}[items]",
            )
        recurring = price["recurring"]
        end = asked.get("end_date")
        if end in (None, "") and asked.get("iterations"):
            iterations = int(asked["iterations"]) * int(recurring.get("interval_count") or 1)
            end = add_interval(start, recurring["interval"], iterations)
        elif end in (None, ""):
            if index != len(given) - 1:
                return error_answer(
                    400,
                    "Every phase but the last needs an end_date or iterations.",
                    param=f"{where}[end_date]",
                )
            end = add_interval(start, recurring["interval"], recurring.get("interval_count") or 1)
        if int(end) <= start:
            return error_answer(
                400, "A phase must end after it starts.", param=f"{where}[end_date]"
            )
        proration = asked.get("proration_behavior") or "create_prorations"
        phases.append(phase(price, quantity, start, int(end), proration))
    return phases


async def release_schedule(adapter: Adapter, call: Call) -> Answer:
    held = adapter.held.schedules.get(call.ids["id"])
    if held is None:
        return _missing(call.ids["id"])
    refused = _closed(held, "release")
    if refused is not None:
        return refused
    await release(adapter, held)
    return _shown(held)


# -- what happens to a schedule on its own ----------------------------------------------
async def release(adapter: Adapter, held: Schedule) -> None:
    """Let the subscription go on without the schedule (``end_behavior=release``)."""
    subscription_id = held.obj["subscription"]
    held.obj.update(
        status="released",
        released_at=int(time.time()),
        released_subscription=subscription_id,
        subscription=None,
        current_phase=None,
    )
    _detach(adapter, held, subscription_id)
    _emit_schedule(adapter, "released", held, {"status": "active"})
    adapter.deliveries.emit(
        "customer.subscription.updated",
        await _subscription(adapter, subscription_id),
        {"schedule": held.obj["id"]},
    )


def canceled_with(adapter: Adapter, subscription_id: str) -> None:
    """The subscription was canceled: so is its schedule (Stripe cancels both)."""
    held = attached(adapter, subscription_id)
    if held is None:
        return
    held.obj.update(status="canceled", canceled_at=int(time.time()), current_phase=None)
    _detach(adapter, held, subscription_id)
    _emit_schedule(adapter, "canceled", held, {"status": "active"})


def _detach(adapter: Adapter, held: Schedule, subscription_id: str) -> None:
    if held.overlay is not None:
        adapter.overlays.discard(subscription_id, held.overlay)
        held.overlay = None


def phase_at(held: Schedule, moment: int) -> Obj | None:
    """The phase running at ``moment`` (None once the last one has ended)."""
    for candidate in held.obj["phases"]:
        if candidate["start_date"] <= moment < candidate["end_date"]:
            return candidate
    return None


def enter(adapter: Adapter, held: Schedule, entered: Obj) -> None:
    """The schedule moved on to the phase ``entered``: it is the current phase now."""
    previous = {"current_phase": copy.deepcopy(held.obj["current_phase"])}
    held.obj["current_phase"] = {
        "end_date": entered["end_date"],
        "start_date": entered["start_date"],
    }
    _emit_schedule(adapter, "updated", held, previous)

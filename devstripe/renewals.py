"""What Stripe's clock does at the end of a subscription's period, on the adapter's
renewal control (``POST /_adapter/subscriptions/{id}/renew``; localstripe has no clock):

1. an attached schedule moves on: a renewal that starts a later phase puts the
   subscription on that phase's price; one past the last phase releases the schedule;
2. with ``pause_collection`` set (and not yet resumed), the renewal invoice is left a
   draft, voided or marked uncollectible, as its ``behavior`` says, and nothing is
   collected; a ``resumes_at`` that has passed unsets it first;
3. otherwise the next period is invoiced and collected.

localstripe keeps a subscription's first billing period, so a schedule counts its own
renewals (:class:`devstripe.held.Schedule`).
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from devstripe import schedules
from devstripe.held import Schedule
from devstripe.prorations import add_interval
from devstripe.translations import invoice_now, move_item
from devstripe.upstream import Answer, UpstreamRefused

if TYPE_CHECKING:
    from devstripe.adapter import Adapter

Obj = dict[str, Any]


async def renew(adapter: Adapter, subscription: Obj) -> Answer:
    """Bill the subscription's next period now, as Stripe's clock does at its end."""
    subscription_id = subscription["id"]
    for pending in adapter.held.pending_updates.values():
        if pending.subscription_id == subscription_id:  # this renewal's failure shows
            adapter.overlays.discard(subscription_id, pending.guard)
    held = schedules.attached(adapter, subscription_id)
    if held is not None:
        await _advance(adapter, held, subscription)
    path = f"/v1/subscriptions/{subscription_id}"
    shown = adapter.shaped(await adapter.upstream.get(path))
    pause = shown.get("pause_collection")
    if pause and pause.get("resumes_at") and pause["resumes_at"] <= time.time():
        adapter.overlays.forget(subscription_id, "pause_collection")
        resumed = adapter.shaped(await adapter.upstream.get(path))
        adapter.deliveries.emit(
            "customer.subscription.updated", resumed, {"pause_collection": pause}
        )
        pause = None
    if pause:
        return await _uncollected(adapter, shown, pause["behavior"])
    return await invoice_now(adapter, shown["customer"], subscription_id, "subscription_cycle")


async def _advance(adapter: Adapter, held: Schedule, subscription: Obj) -> None:
    """The schedule at the start of the period being billed (``held.billed_until``)."""
    starts = held.billed_until
    running = schedules.phase_at(held, starts)
    if running is None:  # the last phase has ended
        await schedules.release(adapter, held)
        return
    path = f"/v1/subscriptions/{subscription['id']}"
    before = adapter.shaped(copy.deepcopy(subscription))
    [item] = before["items"]["data"]
    price_id = running["items"][0]["price"]
    if price_id != item["price"]["id"]:
        await move_item(adapter, subscription, item["id"], price_id)
        after = adapter.shaped(await adapter.upstream.get(path))
        adapter.deliveries.emit("customer.subscription.updated", after, {"items": before["items"]})
    if held.obj["current_phase"] != {
        "end_date": running["end_date"],
        "start_date": running["start_date"],
    }:
        schedules.enter(adapter, held, running)
    found = await adapter.upstream.call("GET", f"/v1/plans/{price_id}")
    if not found.ok:
        raise UpstreamRefused(found)
    plan = found.body
    held.billed_until = add_interval(starts, plan["interval"], plan.get("interval_count") or 1)


async def _uncollected(adapter: Adapter, subscription: Obj, behavior: str) -> Answer:
    """The renewal invoice of a subscription whose collection is paused."""
    made = await adapter.upstream.call(
        "POST",
        "/v1/invoices",
        {"customer": subscription["customer"], "subscription": subscription["id"]},
    )
    if not made.ok:
        return made
    invoice_id, now = made.body["id"], int(time.time())
    adapter.overlays.add(invoice_id, {"billing_reason": "subscription_cycle"})
    draft = {"status": "draft"}  # while localstripe's own copy stays a draft
    if behavior == "void":
        adapter.overlays.add(
            invoice_id, {"status": "void", "status_transitions": {"voided_at": now}}, draft
        )
    elif behavior == "mark_uncollectible":
        adapter.overlays.add(
            invoice_id,
            {
                "status": "uncollectible",
                "status_transitions": {"finalized_at": now, "marked_uncollectible_at": now},
            },
            draft,
        )
    invoice = adapter.shaped(await adapter.upstream.get(f"/v1/invoices/{invoice_id}"))
    event = {"void": "invoice.voided", "mark_uncollectible": "invoice.marked_uncollectible"}
    if behavior in event:
        adapter.deliveries.emit(event[behavior], copy.deepcopy(invoice))
    return Answer(200, invoice, shaped=True)

"""Subscription schedules, held by the adapter: a price change at the period's end."""

from __future__ import annotations

from typing import Any

from devstripe import contract
from devstripe.emulator import Emulator, EmulatorClient
from devstripe.prorations import add_interval
from tests.devstripe.conftest import Api, Received, Subscribed, a_plan, subscribe


def schedule_change(api: Api, subscribed: Subscribed, price: str) -> dict[str, Any]:
    """The product's downgrade: the current price until the period ends, then ``price``."""
    schedule = api.post(
        "/v1/subscription_schedules", {"from_subscription": subscribed.subscription["id"]}
    )
    current = schedule["current_phase"]
    return api.post(f"/v1/subscription_schedules/{schedule['id']}", {
        "end_behavior": "release",
        "phases": [
            {"items": [{"price": subscribed.plan}], "start_date": current["start_date"],
             "end_date": current["end_date"]},
            {"items": [{"price": price}], "start_date": current["end_date"]},
        ],
    })  # fmt: skip


def subscription(api: Api, subscribed: Subscribed) -> dict[str, Any]:
    return api.get(f"/v1/subscriptions/{subscribed.subscription['id']}")


def price_of(subscription: dict[str, Any]) -> str:
    return subscription["items"]["data"][0]["price"]["id"]


def test_a_schedule_made_from_a_subscription_holds_its_current_period(api: Api):
    subscribed = subscribe(api)
    item = subscribed.subscription["items"]["data"][0]

    schedule = api.post(
        "/v1/subscription_schedules", {"from_subscription": subscribed.subscription["id"]}
    )

    assert schedule["id"].startswith("sub_sched_") and schedule["status"] == "active"
    assert schedule["subscription"] == subscribed.subscription["id"]
    assert schedule["customer"] == subscribed.customer
    assert schedule["current_phase"] == {
        "start_date": item["current_period_start"],
        "end_date": item["current_period_end"],
    }
    [phase] = schedule["phases"]
    assert [i["price"] for i in phase["items"]] == [subscribed.plan]
    assert subscription(api, subscribed)["schedule"] == schedule["id"]
    assert api.get(f"/v1/subscription_schedules/{schedule['id']}") == schedule
    assert contract.check_object(schedule) == []
    assert contract.missing_fields(schedule) == []

    again = api.call(
        "POST", "/v1/subscription_schedules", {"from_subscription": subscribed.subscription["id"]}
    )
    assert again.status == 400 and schedule["id"] in again.body["error"]["message"]


def test_phases_change_the_price_at_the_period_end_only(api: Api):
    subscribed = subscribe(api)
    cheaper = a_plan(api, amount=500)
    end = subscribed.subscription["items"]["data"][0]["current_period_end"]

    schedule = schedule_change(api, subscribed, cheaper)

    assert schedule["end_behavior"] == "release"
    first, second = schedule["phases"]
    assert first["end_date"] == second["start_date"] == end
    assert second["end_date"] == add_interval(end, "month")  # the last phase: one period
    assert [i["price"] for i in second["items"]] == [cheaper]
    assert price_of(subscription(api, subscribed)) == subscribed.plan  # nothing yet
    assert api.get("/v1/invoiceitems", {"customer": subscribed.customer})["data"] == []
    assert contract.missing_fields(schedule) == []


def test_a_phase_must_keep_the_current_start(api: Api):
    subscribed = subscribe(api)
    schedule = api.post(
        "/v1/subscription_schedules", {"from_subscription": subscribed.subscription["id"]}
    )
    current = schedule["current_phase"]
    moved = api.call("POST", f"/v1/subscription_schedules/{schedule['id']}", {"phases": [
        {"items": [{"price": subscribed.plan}], "start_date": current["start_date"] + 60,
         "end_date": current["end_date"]},
    ]})  # fmt: skip
    assert moved.status == 400 and moved.body["error"]["param"] == "phases[0][start_date]"


def test_a_released_schedule_leaves_the_subscription_as_it_is(api: Api):
    subscribed = subscribe(api)
    schedule = schedule_change(api, subscribed, a_plan(api, amount=500))

    released = api.post(f"/v1/subscription_schedules/{schedule['id']}/release")

    assert released["status"] == "released" and released["released_at"] > 0
    assert released["released_subscription"] == subscribed.subscription["id"]
    assert released["subscription"] is None and released["current_phase"] is None
    after = subscription(api, subscribed)
    assert after["schedule"] is None and price_of(after) == subscribed.plan
    again = api.call("POST", f"/v1/subscription_schedules/{schedule['id']}/release")
    assert again.status == 400 and "released" in again.body["error"]["message"]
    # A new schedule can be made now.
    api.post("/v1/subscription_schedules", {"from_subscription": subscribed.subscription["id"]})


def test_renewals_move_to_the_next_phase_then_release_the_schedule(
    api: Api, stand_in: Emulator, endpoint: tuple[str, Received]
):
    url, received = endpoint
    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    cheaper = a_plan(api, amount=500)
    stand_in.let_deliveries_pass()
    stand_in.register_webhook("schedules", url, "whsec_schedules")
    try:
        schedule = schedule_change(api, subscribed, cheaper)
        first = clock.bill_renewal(subscribed.customer, subscribed.subscription["id"])
        moved = subscription(api, subscribed)
        held = api.get(f"/v1/subscription_schedules/{schedule['id']}")
        second = clock.bill_renewal(subscribed.customer, subscribed.subscription["id"])
        stand_in.let_deliveries_pass()
    finally:
        stand_in.forget_webhook("schedules")

    # The period ended: the renewal is on the next phase's price, the schedule goes on.
    assert (first["status"], first["amount_paid"]) == ("paid", 500)
    assert price_of(moved) == cheaper and moved["schedule"] == schedule["id"]
    assert held["status"] == "active"
    assert held["current_phase"]["start_date"] == schedule["phases"][1]["start_date"]
    # The last phase ended too: the schedule lets the subscription go on as it is.
    assert (second["status"], second["amount_paid"]) == ("paid", 500)
    after = subscription(api, subscribed)
    assert after["schedule"] is None and price_of(after) == cheaper
    released = api.get(f"/v1/subscription_schedules/{schedule['id']}")
    assert released["status"] == "released"

    events = [e for e in received.events() if e["data"]["object"]["id"] in (
        schedule["id"], subscribed.subscription["id"]
    )]  # fmt: skip
    kinds = [event["type"] for event in events]
    assert kinds.count("subscription_schedule.created") == 1
    assert "subscription_schedule.updated" in kinds
    assert kinds.count("subscription_schedule.released") == 1
    updates = [e["data"]["object"] for e in events if e["type"] == "customer.subscription.updated"]
    assert updates[0]["schedule"] == schedule["id"]  # attached
    assert any(price_of(update) == cheaper for update in updates)  # moved on
    assert updates[-1]["schedule"] is None  # released
    for event in events:
        assert contract.check_object(event) == [], event["type"]


def test_a_canceled_subscription_cancels_its_schedule(api: Api):
    subscribed = subscribe(api)
    schedule = schedule_change(api, subscribed, a_plan(api, amount=500))
    api.ok("DELETE", f"/v1/subscriptions/{subscribed.subscription['id']}")
    canceled = api.get(f"/v1/subscription_schedules/{schedule['id']}")
    assert canceled["status"] == "canceled" and canceled["canceled_at"] > 0


def test_an_unknown_schedule_is_a_404(api: Api):
    missing = api.call("GET", "/v1/subscription_schedules/sub_sched_nothing")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "resource_missing"

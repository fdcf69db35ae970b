"""What the adapter does with requests: checks them, keeps idempotency keys, and
translates what localstripe lacks into what it can do."""

from __future__ import annotations

import importlib
import importlib.util
import time
import uuid
from typing import Any

import pytest

from devstripe.emulator import ALWAYS_AUTHENTICATE, DECLINED_ON_CHARGE, Emulator
from tests.devstripe.conftest import Api, a_customer, a_plan, subscribe


def the_contract() -> Any:
    if importlib.util.find_spec("devstripe.contract") is None:
        pytest.skip("devstripe.contract is not there yet, so the adapter checks nothing")
    return importlib.import_module("devstripe.contract")


def test_a_parameter_stripe_does_not_know_gets_stripes_400(api: Api, stand_in: Emulator):
    the_contract()
    try:
        reply = api.call("POST", "/v1/customers", {"email": "a@example.com", "colour": "red"})
        assert reply.status == 400
        assert reply.body["error"]["type"] == "invalid_request_error"
        assert "colour" in reply.body["error"]["message"]
        violation = stand_in.violations()[-1]
        assert (violation["method"], violation["path"]) == ("POST", "/v1/customers")
        assert violation["params"]["colour"] == "red"
    finally:
        stand_in.clear_violations()  # made on purpose: not the product's


def test_the_same_idempotency_key_and_parameters_replay_the_first_answer(api: Api):
    key = f"test-{uuid.uuid4().hex}"
    params = {"email": "twice@example.com", "metadata": {"reader_id": "7"}}
    first = api.call("POST", "/v1/customers", params, Idempotency_Key=key)
    again = api.call("POST", "/v1/customers", params, Idempotency_Key=key)
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    made = api.get("/v1/customers", {"email": "twice@example.com", "limit": 100})["data"]
    assert [customer["id"] for customer in made] == [first.body["id"]]


def test_an_idempotency_key_reused_with_other_parameters_is_refused(api: Api):
    key = f"test-{uuid.uuid4().hex}"
    assert api.call("POST", "/v1/customers", {"email": "a@example.com"}, Idempotency_Key=key)
    other = api.call("POST", "/v1/customers", {"email": "b@example.com"}, Idempotency_Key=key)
    assert other.status == 400
    assert other.body == {"error": {"type": "idempotency_error", "message": (
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request."
    )}}  # fmt: skip


def test_a_setup_intent_takes_the_pinned_name_for_its_payment_method_types(api: Api):
    customer = api.post("/v1/customers", {"email": "setup@example.com"})
    intent = api.post("/v1/setup_intents", {
        "customer": customer["id"], "usage": "off_session",
        "allowed_payment_method_types": ["card"],
    })  # fmt: skip
    assert intent["allowed_payment_method_types"] == ["card"]
    assert intent["status"] == "requires_payment_method"
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")


def test_lists_filter_by_status(api: Api):
    live = subscribe(api)
    ended = subscribe(api)
    api.ok("DELETE", f"/v1/subscriptions/{ended.subscription['id']}")

    def ids(status: str | None, customer: str) -> list[str]:
        params = {"customer": customer, **({"status": status} if status else {})}
        return [s["id"] for s in api.get("/v1/subscriptions", params)["data"]]

    assert ids(None, live.customer) == [live.subscription["id"]]
    assert ids("active", live.customer) == [live.subscription["id"]]
    assert ids("canceled", live.customer) == []
    assert ids(None, ended.customer) == []  # no status: all but the ended ones
    assert ids("ended", ended.customer) == ids("all", ended.customer) == [ended.subscription["id"]]

    invoices = api.get("/v1/invoices", {"customer": live.customer, "status": "paid"})["data"]
    assert [i["id"] for i in invoices] == [live.subscription["latest_invoice"]["id"]]
    assert api.get("/v1/invoices", {"customer": live.customer, "status": "open"})["data"] == []


def test_lists_page_newest_first(api: Api):
    customer = a_customer(api)
    plan = a_plan(api)
    made = [
        api.post("/v1/subscriptions", {"customer": customer, "items": [{"price": plan}]})
        for _ in range(3)
    ]
    newest_first = [s["id"] for s in reversed(made)]
    page = api.get("/v1/subscriptions", {"customer": customer, "limit": 2})
    assert [s["id"] for s in page["data"]] == newest_first[:2] and page["has_more"]
    rest = api.get(
        "/v1/subscriptions", {"customer": customer, "limit": 2, "starting_after": newest_first[1]}
    )
    assert [s["id"] for s in rest["data"]] == newest_first[2:] and not rest["has_more"]


def test_a_plan_change_without_prorations_leaves_nothing_to_invoice(api: Api):
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    item = subscribed.subscription["items"]["data"][0]["id"]
    changed = api.post(f"/v1/subscriptions/{subscribed.subscription['id']}", {
        "items": [{"id": item, "price": dearer}], "proration_behavior": "none",
        "payment_behavior": "pending_if_incomplete",
    })  # fmt: skip
    assert changed["items"]["data"][0]["price"]["id"] == dearer
    pending = api.get("/v1/invoiceitems", {"customer": subscribed.customer})["data"]
    assert pending == []


def test_a_plan_change_with_prorations_leaves_the_time_left_to_invoice(api: Api):
    subscribed = subscribe(api)
    dearer = a_plan(api, amount=1900)
    item = subscribed.subscription["items"]["data"][0]["id"]
    api.post(f"/v1/subscriptions/{subscribed.subscription['id']}", {
        "items": [{"id": item, "price": dearer}], "proration_behavior": "create_prorations",
    })  # fmt: skip
    pending = api.get("/v1/invoiceitems", {"customer": subscribed.customer})["data"]
    # The unused time on the old price back, the time left on the new one (a whole
    # period of each, give or take the seconds since subscribing).
    assert sorted(item["amount"] for item in pending) == [-900, 1900]
    assert all(item["proration"] for item in pending)


def test_cancel_at_is_set_named_and_unset(api: Api):
    subscribed = subscribe(api)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"
    period_end = subscribed.subscription["items"]["data"][0]["current_period_end"]
    assert api.post(path, {"cancel_at": "max_period_end"})["cancel_at"] == period_end
    assert api.post(path, {"cancel_at": ""})["cancel_at"] is None
    assert api.get(path)["cancel_at"] is None
    assert api.post(path, {"cancel_at": period_end - 60})["cancel_at"] == period_end - 60

    at_start = subscribe(api, cancel_at=period_end + 3600)
    assert at_start.subscription["cancel_at"] == period_end + 3600


def test_paying_an_invoice_off_session_answers_as_stripe_does(api: Api, stand_in: Emulator):
    from devstripe.emulator import EmulatorClient

    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    customer, subscription = subscribed.customer, subscribed.subscription["id"]

    clock.add_default_card(customer, DECLINED_ON_CHARGE)
    declined = clock.bill_renewal(customer, subscription)
    assert declined["status"] == "open"
    assert declined["billing_reason"] == "subscription_cycle"
    reply = api.call("POST", f"/v1/invoices/{declined['id']}/pay", {"off_session": True})
    assert reply.status == 402
    assert reply.body["error"]["type"] == "card_error"
    assert reply.body["error"]["code"] == "card_declined"

    clock.add_default_card(customer, ALWAYS_AUTHENTICATE)
    reply = api.call("POST", f"/v1/invoices/{declined['id']}/pay", {"off_session": True})
    assert reply.status == 402
    assert reply.body["error"]["code"] == "invoice_payment_intent_requires_action"

    clock.add_default_card(customer, "4242424242424242")
    paid = api.post(f"/v1/invoices/{declined['id']}/pay", {"off_session": True})
    assert paid["status"] == "paid"


def test_an_open_invoice_is_marked_uncollectible_until_paid(api: Api, stand_in: Emulator):
    from devstripe.emulator import EmulatorClient

    clock = EmulatorClient(stand_in.api_base)
    subscribed = subscribe(api)
    clock.add_default_card(subscribed.customer, DECLINED_ON_CHARGE)
    invoice = clock.bill_renewal(subscribed.customer, subscribed.subscription["id"])

    marked = api.post(f"/v1/invoices/{invoice['id']}/mark_uncollectible")
    assert marked["status"] == "uncollectible"
    assert marked["status_transitions"]["marked_uncollectible_at"] >= invoice["created"]
    listed = api.get("/v1/invoices", {"customer": subscribed.customer, "status": "uncollectible"})
    assert [i["id"] for i in listed["data"]] == [invoice["id"]]
    again = api.call("POST", f"/v1/invoices/{invoice['id']}/mark_uncollectible")
    assert again.status == 400

    clock.add_default_card(subscribed.customer, "4242424242424242")
    assert api.post(f"/v1/invoices/{invoice['id']}/pay")["status"] == "paid"


def test_only_a_paused_subscription_resumes(api: Api, stand_in: Emulator):
    subscribed = subscribe(api)
    path = f"/v1/subscriptions/{subscribed.subscription['id']}"
    refused = api.call("POST", f"{path}/resume")
    assert refused.status == 400 and "paused" in refused.body["error"]["message"]

    paused = {"status": "paused", "status_details": {"paused": {
        "type": "subscription", "transitioned_at": int(time.time()),
        "subscription": {"type": "pause_requested"},
    }}}  # fmt: skip
    stand_in.overlay(subscribed.subscription["id"], paused, upstream={"status": "active"})
    assert api.get(path)["status"] == "paused"
    assert api.get("/v1/subscriptions", {"customer": subscribed.customer, "status": "paused"})[
        "data"
    ]
    resumed = api.post(f"{path}/resume")
    assert resumed["status"] == "active" and resumed["status_details"] is None


def test_a_confirmed_setup_intent_attaches_its_card_to_the_customer(api: Api, stand_in: Emulator):
    from devstripe.emulator import EmulatorClient

    customer = api.post("/v1/customers", {"email": "card@example.com"})["id"]
    intent = api.post(
        "/v1/setup_intents", {"customer": customer, "allowed_payment_method_types": ["card"]}
    )
    EmulatorClient(stand_in.api_base).confirm_card_setup(intent["client_secret"])  # Stripe.js
    confirmed = api.get(f"/v1/setup_intents/{intent['id']}")
    assert confirmed["status"] == "succeeded"
    assert api.get(f"/v1/payment_methods/{confirmed['payment_method']}")["customer"] == customer


def test_prices_are_made_read_and_subscribed_to(api: Api):
    made = api.post("/v1/prices", {
        "currency": "usd", "unit_amount": 1200, "recurring": {"interval": "month"},
        "product_data": {"name": "Weekend edition"}, "lookup_key": "weekend",
        "metadata": {"paywall_plan": "weekend"},
    })  # fmt: skip
    assert made["object"] == "price" and made["id"].startswith("price_")
    assert made["unit_amount"] == 1200 and made["recurring"]["interval"] == "month"
    assert made["lookup_key"] == "weekend"
    assert api.get(f"/v1/prices/{made['id']}") == made
    listed = api.get("/v1/prices", {"product": made["product"]})["data"]
    assert [price["id"] for price in listed] == [made["id"]]
    assert api.post(f"/v1/prices/{made['id']}", {"active": False})["active"] is False

    subscription = api.post(
        "/v1/subscriptions", {"customer": a_customer(api), "items": [{"price": made["id"]}]}
    )
    assert subscription["items"]["data"][0]["price"]["id"] == made["id"]


def test_idempotency_keys_are_kept_for_a_day():
    from devstripe.idempotency import KEY_LIFETIME_SECONDS, IdempotencyKeys, Kept

    keys = IdempotencyKeys()
    keys.keep("fresh", Kept("POST", "/v1/customers", {}, 200, b"{}"))
    day_old = time.time() - KEY_LIFETIME_SECONDS - 1
    keys.keep("stale", Kept("POST", "/v1/customers", {}, 200, b"{}", at=day_old))
    assert keys.recall("fresh") is not None
    assert keys.recall("stale") is None


def test_when_not_strict_old_requests_pass_and_old_fields_stay(tmp_path):
    """For a product still on older shapes: Stripe's refusals are recorded, not answered,
    and localstripe's old fields stay next to the pinned version's."""
    from devstripe.emulator import start_emulator

    tolerant = start_emulator(log_path=tmp_path / "tolerant.log", strict=False)
    try:
        api = Api(tolerant.api_base)
        subscribed = subscribe(api)
        invoice = api.get(f"/v1/invoices/{subscribed.subscription['latest_invoice']['id']}")
        assert invoice["payment_intent"].startswith("pi_")  # old
        assert invoice["parent"]["subscription_details"]["subscription"]  # new
        subscription = api.get(f"/v1/subscriptions/{subscribed.subscription['id']}")
        assert (
            subscription["current_period_end"]
            == (subscription["items"]["data"][0]["current_period_end"])
        )
        old_name = {"customer": subscribed.customer, "payment_method_types": ["card"]}
        assert api.post("/v1/setup_intents", old_name)["payment_method_types"] == ["card"]
        if importlib.util.find_spec("devstripe.contract") is not None:
            recorded = [v["params"] for v in tolerant.violations()]
            assert any("payment_method_types" in params for params in recorded)
    finally:
        tolerant.clear_violations()  # made on purpose: not the product's
        tolerant.stop()


def test_translated_requests_for_missing_objects_answer_404(api: Api):
    for method, path, params in (
        ("POST", "/v1/subscriptions/sub_missing", {"metadata": {"a": "b"}}),
        ("POST", "/v1/subscriptions/sub_missing/resume", None),
        ("POST", "/v1/invoices/in_missing/mark_uncollectible", None),
        ("GET", "/v1/prices/price_missing", None),
    ):
        reply = api.call(method, path, params)
        assert reply.status == 404, (path, reply.body)
        assert reply.body["error"]["type"] == "invalid_request_error"

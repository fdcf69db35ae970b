"""The adapter's answers come in the pinned API version's shapes, not localstripe's."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pytest

from devstripe.emulator import Emulator, EmulatorClient
from tests.devstripe.conftest import Api, subscribe


def unknown_fields(obj: dict[str, Any]) -> list[str]:
    """Fields of ``obj`` the pinned SDK does not know (skips until the contract says)."""
    if importlib.util.find_spec("devstripe.contract") is None:
        pytest.skip("devstripe.contract is not there yet to list the pinned fields")
    contract = importlib.import_module("devstripe.contract")
    if not hasattr(contract, "check_object"):
        pytest.skip("devstripe.contract has no check_object yet")
    return contract.check_object(obj)


def test_a_subscription_item_carries_the_period_and_a_price(api: Api):
    subscription = subscribe(api).subscription
    [item] = subscription["items"]["data"]
    assert item["current_period_end"] > item["current_period_start"] > 0
    price = item["price"]
    assert price["object"] == "price" and price["id"] == item["plan"]["id"]
    assert price["unit_amount"] == 900 and price["currency"] == "usd"
    assert price["recurring"]["interval"] == "month"
    assert price["metadata"] == {"paywall_plan": "monthly"}
    assert price["product"] == item["plan"]["product"]
    for gone in ("current_period_start", "current_period_end", "plan", "quantity"):
        assert gone not in subscription
    assert subscription["status_details"] is None
    assert subscription["billing_cycle_anchor"] == item["current_period_start"]


def test_an_invoice_names_its_subscription_under_parent(api: Api):
    subscribed = subscribe(api)
    invoice = api.get(f"/v1/invoices/{subscribed.subscription['latest_invoice']['id']}")
    assert invoice["parent"]["type"] == "subscription_details"
    details = invoice["parent"]["subscription_details"]
    assert details["subscription"] == subscribed.subscription["id"]
    for gone in ("subscription", "payment_intent", "charge"):
        assert gone not in invoice
    assert invoice["billing_reason"] == "subscription_create"
    assert invoice["status_transitions"]["paid_at"] >= invoice["created"]
    assert invoice["status_transitions"]["marked_uncollectible_at"] is None
    [line] = invoice["lines"]["data"]
    assert line["pricing"]["price_details"]["price"] == subscribed.plan
    assert (
        line["parent"]["subscription_item_details"]["subscription"]
        == (subscribed.subscription["id"])
    )


def test_an_invoice_lists_its_payments_when_asked(api: Api):
    subscribed = subscribe(api)
    invoice_id = subscribed.subscription["latest_invoice"]["id"]
    assert "payments" not in api.get(f"/v1/invoices/{invoice_id}")

    invoice = api.get(f"/v1/invoices/{invoice_id}", {"expand": ["payments"]})
    [payment] = invoice["payments"]["data"]
    assert payment["object"] == "invoice_payment" and payment["id"].startswith("inpay_")
    assert payment["invoice"] == invoice_id and payment["is_default"] is True
    assert payment["status"] == "paid" and payment["amount_paid"] == 900
    assert payment["amount_requested"] == 900 and payment["currency"] == "usd"
    assert payment["payment"]["type"] == "payment_intent"
    intent_id = payment["payment"]["payment_intent"]
    assert isinstance(intent_id, str) and intent_id.startswith("pi_")
    assert payment["status_transitions"]["paid_at"] == invoice["status_transitions"]["paid_at"]

    expanded = api.get(
        f"/v1/invoices/{invoice_id}", {"expand": ["payments.data.payment.payment_intent"]}
    )
    intent = expanded["payments"]["data"][0]["payment"]["payment_intent"]
    assert intent["id"] == intent_id and intent["status"] == "succeeded"
    assert "invoice" not in intent and "charges" not in intent

    # ... and through a subscription's latest invoice, the way a new subscription is read.
    again = api.get(
        f"/v1/subscriptions/{subscribed.subscription['id']}",
        {"expand": ["latest_invoice.payments"]},
    )
    assert again["latest_invoice"]["payments"]["data"][0]["id"] == payment["id"]


def test_a_customer_shows_lists_only_when_expanded(api: Api):
    customer = subscribe(api).customer
    plain = api.get(f"/v1/customers/{customer}")
    assert "subscriptions" not in plain and "sources" not in plain
    assert plain["balance"] == 0 and "account_balance" not in plain
    expanded = api.get(f"/v1/customers/{customer}", {"expand": ["subscriptions"]})
    assert len(expanded["subscriptions"]["data"]) == 1


def test_reshaped_objects_have_only_fields_the_pinned_version_has(api: Api):
    subscribed = subscribe(api)
    subscription = api.get(
        f"/v1/subscriptions/{subscribed.subscription['id']}", {"expand": ["latest_invoice"]}
    )
    invoice = api.get(
        f"/v1/invoices/{subscription['latest_invoice']['id']}",
        {"expand": ["payments.data.payment.payment_intent"]},
    )
    customer = api.get(f"/v1/customers/{subscribed.customer}")
    for obj in (subscription, invoice, customer):
        assert unknown_fields(obj) == [], obj["object"]


def test_a_deleted_object_is_only_its_id(api: Api):
    customer = api.post("/v1/customers", {"email": "gone@example.com"})
    gone = api.ok("DELETE", f"/v1/customers/{customer['id']}")
    assert gone == {"id": customer["id"], "object": "customer", "deleted": True}


def test_the_account_is_one_test_mode_account_in_the_pinned_shape(api: Api):
    account = api.get("/v1/account")
    assert account["id"].startswith("acct_") and account["object"] == "account"
    assert account["settings"]["dashboard"]["display_name"]
    assert (account["country"], account["default_currency"]) == ("US", "usd")
    assert account["charges_enabled"] and account["payouts_enabled"]
    assert account["details_submitted"] and account["type"] == "standard"
    assert api.get("/v1/account") == account
    assert unknown_fields(account) == []


def test_a_charge_names_its_customer_in_the_pinned_shape(api: Api, stand_in: Emulator):
    subscribed = subscribe(api)
    clock = EmulatorClient(stand_in.api_base)
    intent = clock.payment_intent_of(subscribed.subscription["latest_invoice"]["id"])
    assert isinstance(intent["latest_charge"], str)  # an id, unless expanded

    charge = api.get(f"/v1/charges/{intent['latest_charge']}")

    assert charge["customer"] == subscribed.customer
    assert charge["payment_intent"] == intent["id"] and charge["status"] == "succeeded"
    assert charge["amount"] == charge["amount_captured"] == 900
    assert charge["disputed"] is False and charge["outcome"]["type"] == "authorized"
    assert unknown_fields(charge) == []
    expanded = api.get(f"/v1/payment_intents/{intent['id']}", {"expand": ["latest_charge"]})
    assert expanded["latest_charge"]["id"] == charge["id"]

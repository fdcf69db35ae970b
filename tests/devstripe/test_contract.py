"""The pinned API version's contract, as :mod:`devstripe.contract` reads it from the SDK.

Routes, the form encoding, request checks (what Stripe would refuse, worded as Stripe
words it) and object checks (fields the version does not define, or that are missing).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from devstripe import contract
from devstripe.contract import (
    Violation,
    assert_valid_object,
    check_object,
    check_request,
    decode_params,
    encode_params,
    find_operation,
    missing_fields,
)

PAYLOADS = Path(__file__).resolve().parent.parent / "billing" / "payloads"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


# --- routes ------------------------------------------------------------------------------------


def test_the_routes_are_the_v1_methods_of_the_sdk_services() -> None:
    operations = {(op.http_method, op.path_template): op for op in contract.operations()}

    assert len(operations) > 400
    confirm = operations["post", "/v1/setup_intents/{intent}/confirm"]
    assert (confirm.service, confirm.method_name) == ("SetupIntentService", "confirm")
    assert confirm.params_type is not None
    assert confirm.params_type.__name__ == "SetupIntentConfirmParams"
    # a nested service: client.v1.customers.payment_methods
    nested = operations["get", "/v1/customers/{customer}/payment_methods"]
    assert (nested.service, nested.method_name) == ("CustomerPaymentMethodService", "list")
    assert operations["delete", "/v1/subscriptions/{subscription_exposed_id}"].method_name == (
        "cancel"
    )
    assert all(op.path_template.startswith("/v1/") for op in operations.values())
    assert not any(op.method_name.endswith("_async") for op in operations.values())


def test_a_concrete_path_finds_its_operation_and_its_arguments() -> None:
    found = find_operation("POST", "/v1/setup_intents/seti_123/confirm")
    assert found is not None
    operation, args = found
    assert (operation.path_template, args) == (
        "/v1/setup_intents/{intent}/confirm",
        {"intent": "seti_123"},
    )
    found = find_operation("get", "/v1/plans/paywall_monthly%2B900?expand[0]=product")
    assert found is not None
    assert found[1] == {"plan": "paywall_monthly+900"}  # the SDK quotes ids in paths


@pytest.mark.parametrize(
    ("method", "path", "template", "name"),
    [
        ("post", "/v1/invoices/create_preview", "/v1/invoices/create_preview", "create_preview"),
        ("post", "/v1/invoices/in_123", "/v1/invoices/{invoice}", "update"),
        ("get", "/v1/customers/search", "/v1/customers/search", "search"),
        ("get", "/v1/customers/cus_123", "/v1/customers/{customer}", "retrieve"),
    ],
)
def test_a_literal_segment_wins_over_a_placeholder(
    method: str, path: str, template: str, name: str
) -> None:
    found = find_operation(method, path)
    assert found is not None
    assert (found[0].path_template, found[0].method_name) == (template, name)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/foo"),
        ("delete", "/v1/setup_intents/seti_123"),  # the path exists, not with this verb
        ("get", "/v1/setup_intents/seti_123/confirm/now"),
        ("get", "/v2/core/events"),
    ],
)
def test_an_unknown_endpoint_is_a_404_as_stripe_answers_it(method: str, path: str) -> None:
    assert find_operation(method, path) is None

    violation = check_request(method, path, {})

    assert violation == Violation(
        404,
        f"Unrecognized request URL ({method.upper()}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        None,
        None,
    )
    assert violation.body() == {
        "error": {"type": "invalid_request_error", "message": violation.message}
    }


# --- the form encoding ---------------------------------------------------------------------------


def test_the_form_encoding_decodes_to_nested_values() -> None:
    decoded = decode_params("a=1&b[c]=2&items[0][price]=x&expand[0]=y&expand[]=z&m[k]=&q=a+b%26c")

    assert decoded == {
        "a": "1",
        "b": {"c": "2"},
        "items": [{"price": "x"}],
        "expand": ["y", "z"],
        "m": {"k": ""},
        "q": "a b&c",
    }
    assert decode_params(b"expand[]=a&expand[]=b") == {"expand": ["a", "b"]}
    assert decode_params("metadata[7]=seven") == {"metadata": {"7": "seven"}}  # not 0..n-1


def test_what_the_sdk_encodes_decodes_to_the_same_values_as_strings() -> None:
    params = {
        "customer": "cus_123",
        "items": [{"price": "price_1", "quantity": 2, "metadata": {"paywall_plan": "monthly"}}],
        "cancel_at_period_end": False,
        "trial_period_days": 14,
        "expand": ["latest_invoice", "pending_setup_intent"],
        "description": None,  # the SDK leaves out what is None
    }

    body = encode_params(params)

    assert "items[0][price]=price_1" in body and "expand[1]=pending_setup_intent" in body
    assert decode_params(body) == {
        "customer": "cus_123",
        "items": [{"price": "price_1", "quantity": "2", "metadata": {"paywall_plan": "monthly"}}],
        "cancel_at_period_end": "false",
        "trial_period_days": "14",
        "expand": ["latest_invoice", "pending_setup_intent"],
    }
    assert check_request("post", "/v1/subscriptions", decode_params(body)) is None


# --- requests Stripe accepts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        pytest.param(
            "post",
            "/v1/customers",
            {"email": "ada@example.com", "metadata": {"reader_id": "12"}},
            id="customers.create with metadata",
        ),
        pytest.param(
            "post",
            "/v1/customers/cus_123",
            {"invoice_settings": {"default_payment_method": "pm_123"}},
            id="customers.update",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            {
                "customer": "cus_123",
                "items": [{"price": "price_123"}],
                "payment_behavior": "allow_incomplete",
                "trial_period_days": 14,
                "expand": ["latest_invoice"],
            },
            id="subscriptions.create",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            decode_params("customer=cus_1&items[0][plan]=p&expand[]=latest_invoice&trial_end=now"),
            id="subscriptions.create with expand[] and trial_end=now",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions/sub_123",
            {"cancel_at_period_end": "true", "proration_behavior": "none", "metadata": {"x": ""}},
            id="subscriptions.update, a metadata key unset",
        ),
        pytest.param("delete", "/v1/subscriptions/sub_123", {}, id="subscriptions.cancel"),
        pytest.param(
            "get",
            "/v1/invoices",
            decode_params("customer=cus_123&status=open&limit=12&created[gte]=1793691900"),
            id="invoices.list with status",
        ),
        pytest.param(
            "get",
            "/v1/invoices",
            {"status": "overdue"},
            id="an open enum (Literal|str) takes any string, as the SDK does",
        ),
        pytest.param(
            "post",
            "/v1/setup_intents",
            decode_params("customer=cus_1&allowed_payment_method_types[0]=card&usage=off_session"),
            id="setup_intents.create",
        ),
        pytest.param(
            "post",
            "/v1/plans",
            {
                "id": "paywall_monthly_900usd_month",
                "amount": 900,
                "currency": "usd",
                "interval": "month",
                "product": "paywall_monthly",
                "metadata": {"paywall_plan": "monthly"},
            },
            id="plans.create",
        ),
        pytest.param(
            "post",
            "/v1/payment_methods/pm_123/attach",
            {"customer": "cus_123"},
            id="payment_methods.attach",
        ),
    ],
)
def test_what_the_sdk_would_send_is_accepted(
    method: str, path: str, params: dict[str, Any]
) -> None:
    assert check_request(method, path, params) is None
    assert check_request(method, path, decode_params(encode_params(params))) is None


# --- requests Stripe refuses ---------------------------------------------------------------------


def test_payment_method_types_on_a_setup_intent_is_unknown_in_the_pinned_version() -> None:
    params = {"customer": "cus_123", "usage": "off_session", "payment_method_types": ["card"]}

    violation = check_request("post", "/v1/setup_intents", decode_params(encode_params(params)))

    assert violation == Violation(
        400,
        "Received unknown parameter: payment_method_types",
        "payment_method_types",
        "parameter_unknown",
    )
    assert violation.body() == {
        "error": {
            "type": "invalid_request_error",
            "message": "Received unknown parameter: payment_method_types",
            "param": "payment_method_types",
            "code": "parameter_unknown",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
        }
    }


@pytest.mark.parametrize(
    ("method", "path", "encoded", "message", "param", "code"),
    [
        pytest.param(
            "post",
            "/v1/subscriptions",
            "customer=cus_1&items[0][price]=p&items[1][plam]=q",
            "Received unknown parameter: items[1][plam]",
            "items[1][plam]",
            "parameter_unknown",
            id="an unknown nested key",
        ),
        pytest.param(
            "post",
            "/v1/setup_intents",
            "customer=cus_1&idempotency_key=abc",
            "Received unknown parameter: idempotency_key",
            "idempotency_key",
            "parameter_unknown",
            id="a request option is a header, not a parameter",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "billing_schedules[0][applies_to][0][type]=product"
            "&billing_schedules[0][bill_until][type]=duration",
            "Invalid type: must be one of price",
            "billing_schedules[0][applies_to][0][type]",
            None,
            id="a value outside a Literal-only enum",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "customer=cus_1&trial_period_days=fourteen",
            "Invalid integer: fourteen",
            "trial_period_days",
            "parameter_invalid_integer",
            id="a non-integer where an int is declared",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "customer=cus_1&trial_end=tomorrow",
            "Invalid integer: tomorrow",
            "trial_end",
            "parameter_invalid_integer",
            id="neither the Literal nor an int",
        ),
        pytest.param(
            "get",
            "/v1/invoices",
            "created[gte]=yesterday",
            "Invalid integer: yesterday",
            "created[gte]",
            "parameter_invalid_integer",
            id="a range filter's bound",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions/sub_1",
            "cancel_at_period_end=yes",
            "Invalid boolean: yes",
            "cancel_at_period_end",
            None,
            id="a boolean that is not true or false",
        ),
        pytest.param(
            "post",
            "/v1/plans",
            "currency=usd&amount=900&product=prod_1",
            "Missing required param: interval.",
            "interval",
            "parameter_missing",
            id="a missing required key",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "billing_schedules[0][applies_to][0][type]=price",
            "Missing required param: billing_schedules[0][bill_until].",
            "billing_schedules[0][bill_until]",
            "parameter_missing",
            id="a missing required nested key",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "customer=cus_1&trial_period_days=",
            "You passed an empty string for 'trial_period_days'. We assume empty values are an "
            "attempt to unset a parameter; however 'trial_period_days' cannot be unset. You "
            "should remove 'trial_period_days' from your request or supply a non-empty value.",
            "trial_period_days",
            "parameter_invalid_empty",
            id="an empty string where neither a string nor Literal[''] is declared",
        ),
        pytest.param(
            "post",
            "/v1/subscriptions",
            "customer=cus_1&items=price_1",
            "Invalid array",
            "items",
            None,
            id="a string where a list is declared",
        ),
        pytest.param(
            "post",
            "/v1/customers",
            "metadata=reader",
            "Invalid hash",
            "metadata",
            None,
            id="a string where a hash is declared",
        ),
    ],
)
def test_what_stripe_would_refuse_is_refused_as_stripe_words_it(
    method: str, path: str, encoded: str, message: str, param: str, code: str | None
) -> None:
    assert check_request(method, path, decode_params(encoded)) == Violation(
        400, message, param, code
    )


def test_an_empty_string_unsets_where_the_type_allows_it() -> None:
    # SubscriptionUpdateParams.description: "Literal['']|str"
    assert check_request("post", "/v1/subscriptions/sub_1", {"description": ""}) is None
    # default_payment_method: str. Stripe unsets such ids on "" though the spec says str.
    assert check_request("post", "/v1/subscriptions/sub_1", {"default_payment_method": ""}) is None
    # SubscriptionUpdateParams.pause_collection: "Literal['']|SubscriptionUpdateParams..."
    assert check_request("post", "/v1/subscriptions/sub_1", {"pause_collection": ""}) is None
    violation = check_request("post", "/v1/subscriptions/sub_1", {"items": ""})  # List[...]
    assert violation is not None and violation.code == "parameter_invalid_empty"
    # SubscriptionUpdateParams.metadata: "Literal['']|Dict[str, str]|...": all keys, or one
    assert check_request("post", "/v1/subscriptions/sub_1", {"metadata": ""}) is None
    assert check_request("post", "/v1/subscriptions/sub_1", {"metadata": {"a": ""}}) is None
    # CustomerUpdateParams.invoice_settings.custom_fields: "Literal['']|List[...]"
    params = decode_params("invoice_settings[custom_fields]=")
    assert check_request("post", "/v1/customers/cus_1", params) is None


def test_checking_a_request_takes_well_under_a_millisecond() -> None:
    params = decode_params(
        encode_params(
            {
                "customer": "cus_123",
                "items": [{"plan": "paywall_monthly_900usd_month"}],
                "payment_behavior": "allow_incomplete",
                "trial_period_days": 14,
                "metadata": {"paywall_reader": "12"},
                "expand": ["latest_invoice"],
            }
        )
    )
    check_request("post", "/v1/subscriptions", params)  # warm-up: routes and the TypedDicts

    rounds = 500
    started = time.perf_counter()
    for _ in range(rounds):
        check_request("post", "/v1/subscriptions", params)
        check_request("get", "/v1/invoices", {"customer": "cus_123", "limit": "12"})
    per_check = (time.perf_counter() - started) / (2 * rounds)

    assert per_check < 0.001


# --- objects ---------------------------------------------------------------------------------


def test_fields_removed_from_the_pinned_version_are_found() -> None:
    invoice = recorded("shapes/current/2_invoice.paid.json")["data"]["object"]
    invoice |= {"payment_intent": "pi_123", "charge": "ch_123", "paid": True}

    assert check_object(invoice) == ["invoice.payment_intent", "invoice.charge", "invoice.paid"]


def test_invented_fields_are_found_at_any_depth() -> None:
    event = recorded("shapes/current/1_customer.subscription.updated.json")
    subscription = event["data"]["object"]
    subscription["items"]["data"][0]["price"]["colour"] = "blue"
    subscription["items"]["total_count"] = 1  # not in the SDK's list object
    subscription["metadata"] = {"anything": "goes"}
    event["data"]["previous_attributes"]["invented"] = 1

    assert check_object(event) == [
        "event.data.object.items.data[0].price.colour",
        "event.data.object.items.total_count",
        "event.data.previous_attributes.invented",
    ]


def test_an_expandable_field_may_hold_the_id_or_the_expanded_object() -> None:
    invoice = recorded("shapes/current/2_invoice.paid.json")["data"]["object"]
    customer = recorded("card/2_customer.updated.json")["data"]["object"]
    assert check_object(invoice) == []

    invoice["customer"] = copy.deepcopy(customer) | {"invented": True}

    assert check_object(invoice) == ["invoice.customer.invented"]
    assert missing_fields(invoice) == []
    del invoice["customer"]["email"]
    assert missing_fields(invoice) == ["invoice.customer.email"]


def test_missing_fields_are_found_at_any_depth() -> None:
    invoice = recorded("shapes/current/2_invoice.paid.json")["data"]["object"]
    assert missing_fields(invoice) == []

    del invoice["status_transitions"]["paid_at"]
    del invoice["lines"]["data"][0]["pricing"]
    del invoice["livemode"]

    assert missing_fields(invoice) == [
        "invoice.livemode",
        "invoice.lines.data[0].pricing",
        "invoice.status_transitions.paid_at",
    ]


def test_only_the_hash_of_a_payment_method_s_own_type_is_demanded() -> None:
    method = recorded("card/1_payment_method.attached.json")["data"]["object"]
    assert "sepa_debit" not in method and method["type"] == "card"

    assert missing_fields(method) == []
    del method["card"]
    assert missing_fields(method) == ["payment_method.card"]


def test_a_deleted_object_has_only_its_id() -> None:
    deleted = {"id": "cus_123", "object": "customer", "deleted": True}

    assert check_object(deleted) == []
    assert missing_fields(deleted) == []
    assert "customer.email" in missing_fields({"id": "cus_123", "object": "customer"})


def test_an_unknown_object_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="no object named 'invoicee'"):
        check_object({"id": "x", "object": "invoicee"})


def test_assert_valid_object_lists_what_is_wrong() -> None:
    invoice = recorded("shapes/current/2_invoice.paid.json")["data"]["object"]
    assert_valid_object(invoice)
    del invoice["total"]
    invoice["charge"] = "ch_123"

    with pytest.raises(AssertionError) as failure:
        assert_valid_object(invoice)

    assert str(failure.value) == (
        f"not in {contract.API_VERSION}: invoice.charge\nmissing: invoice.total"
    )
    del invoice["charge"]
    assert_valid_object(invoice, complete=False)  # unknown fields only

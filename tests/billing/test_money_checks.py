"""Pure checks that keep money safe: what reconcile flags, and the installation prefix
that keeps two installations on one Stripe account apart."""

from __future__ import annotations

import pytest

from billing.gateway import GatewaySettings, installation_prefix
from billing.reconcile import money_problems


def invoice(number: int, subscription: str, period: int, **fields):
    return {
        "id": f"in_{number}",
        "status": "paid",
        "amount_paid": 900,
        "billing_reason": "subscription_cycle",
        "period_start": period,
        "period_end": period + 30 * 86400,
        "parent": {"subscription_details": {"subscription": subscription}},
        **fields,
    }


def test_reconcile_flags_two_live_subscriptions_of_one_customer():
    subscriptions = [
        {"id": "sub_b", "status": "active"},
        {"id": "sub_a", "status": "past_due"},
        {"id": "sub_old", "status": "canceled"},
    ]
    assert money_problems(subscriptions, []) == ["2 live subscriptions: sub_a, sub_b"]
    assert money_problems(subscriptions[1:], []) == []


def test_reconcile_flags_one_period_paid_twice_and_nothing_else():
    twice = [invoice(1, "sub_a", 1000), invoice(2, "sub_a", 1000)]
    assert money_problems([], twice) == ["one period of sub_a paid 2 times"]
    fine = [
        invoice(1, "sub_a", 1000),
        invoice(2, "sub_a", 1000 + 30 * 86400),  # the next period
        invoice(3, "sub_a", 1000, status="open"),  # not paid
        invoice(4, "sub_a", 1000, amount_paid=0),  # a zero invoice (trial start)
        invoice(5, "sub_a", 1000, billing_reason="subscription_update"),  # a proration
        invoice(6, "sub_b", 1000),  # another subscription
    ]
    assert money_problems([], fine) == []


def test_the_installation_prefix_is_stable_per_host_and_differs_between_hosts():
    production = installation_prefix("https://news.example.com")
    assert production == installation_prefix("https://NEWS.example.com/some/path")
    assert production != installation_prefix("https://staging.news.example.com")
    assert production.startswith("pw") and len(production) == 10


@pytest.mark.parametrize("prefix", ["", "has space", "x" * 21, "semi;colon"])
def test_a_prefix_stripe_would_not_take_in_an_id_is_refused(prefix):
    with pytest.raises(ValueError, match="prefix"):
        GatewaySettings(secret_key="sk_test_x", id_prefix=prefix)

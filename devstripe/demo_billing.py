"""Demo plans and subscribers in every billing state, made through the real billing code
against the Stripe emulator (which keeps nothing between runs, so they are made anew)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, update

from billing import service
from billing.catalog import PlanInput, save_plan, sync_catalog
from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription, WebhookEvent
from billing.orm import utcnow
from billing.reconcile import refresh_customer
from billing.sync import customer_for_reader
from devstripe.emulator import VISA, EmulatorClient
from paywall.accounts.models import Reader
from paywall.billing.support import gateway
from paywall.extensions import db

DEMO_PLANS = (
    PlanInput(code="monthly", name="Monthly", tier="standard", amount=900, position=1,
              description="Every article, billed monthly."),
    PlanInput(code="yearly", name="Yearly", tier="standard", amount=9000, interval="year",
              position=2, description="Every article; two months free."),
    PlanInput(code="premium", name="Premium", tier="premium", amount=1900, position=3,
              description="Everything, plus the premium investigations."),
)  # fmt: skip


@dataclass(frozen=True)
class BillingState:
    email: str
    name: str
    what: str
    make: Callable[[EmulatorClient, Reader], None]


def _card(client: EmulatorClient, number: str, month: int, year: int) -> str:
    card = {"number": number, "exp_month": month, "exp_year": year, "cvc": "123"}
    return client.post("/v1/payment_methods", {"type": "card", "card": card})["id"]


def _subscribe(client: EmulatorClient, reader: Reader, month: int = 12, year: int = 2030) -> None:
    service.subscribe_with_card(
        db.session, gateway(), reader_id=reader.id, email=reader.email,
        plan_code="monthly", payment_method_id=_card(client, VISA, month, year),
    )  # fmt: skip


def _failed_renewal(client: EmulatorClient, reader: Reader, days_ago: int) -> None:
    _subscribe(client, reader)
    customer = customer_for_reader(db.session, reader.id)
    assert customer is not None
    subscription = customer.subscriptions[0]
    client.fail_renewal(customer.stripe_customer_id, subscription.stripe_subscription_id)
    refresh_customer(db.session, gateway(), customer)
    # The emulator has no clock: date the failure back to place it inside or past grace.
    subscription.payment_failed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()


def _active(client: EmulatorClient, reader: Reader) -> None:
    _subscribe(client, reader)


def _expiring(client: EmulatorClient, reader: Reader) -> None:
    now = utcnow()
    _subscribe(client, reader, month=now.month, year=now.year)


def _lapsed(client: EmulatorClient, reader: Reader) -> None:
    _failed_renewal(client, reader, days_ago=current_app.config["GRACE_PERIOD_DAYS"] + 3)


def _in_grace(client: EmulatorClient, reader: Reader) -> None:
    _failed_renewal(client, reader, days_ago=2)


def _canceled(client: EmulatorClient, reader: Reader) -> None:
    _subscribe(client, reader)
    customer = customer_for_reader(db.session, reader.id)
    assert customer is not None
    gateway().cancel_subscription_now(customer.subscriptions[0].stripe_subscription_id)
    refresh_customer(db.session, gateway(), customer)


BILLING_STATES = (
    BillingState("subscriber@example.com", "Sam Subscriber", "active, card 4242", _active),
    BillingState("lapsed@example.com", "Lee Lapsed", "renewal failed, grace over", _lapsed),
    BillingState("grace@example.com", "Grace Period", "renewal failed, in grace", _in_grace),
    BillingState("expiring@example.com", "Eli Expiring", "card expires this month", _expiring),
    BillingState("canceled@example.com", "Cam Canceled", "subscription ended", _canceled),
)  # fmt: skip

# The demo's promotion code (made as a publisher would in Stripe's dashboard).
DEMO_PROMOTION_CODE = "WELCOME30"


def seed_promotion_code(client: EmulatorClient) -> str:
    """30 % off the first three months, for anyone, with the code ``WELCOME30`` (made once:
    a demo run again on the same emulator finds it there)."""
    found = client.get(f"/v1/promotion_codes?code={DEMO_PROMOTION_CODE}&active=true")
    if found.get("data"):
        return DEMO_PROMOTION_CODE
    coupon = client.post(
        "/v1/coupons",
        {"name": "Welcome", "percent_off": 30, "duration": "repeating", "duration_in_months": 3},
    )
    client.post(
        "/v1/promotion_codes",
        {"code": DEMO_PROMOTION_CODE, "promotion": {"type": "coupon", "coupon": coupon["id"]}},
    )
    return DEMO_PROMOTION_CODE


_MIRROR_TABLES = (WebhookEvent, Invoice, PaymentMethod, Subscription, Customer)


def forget_billing_mirror() -> None:
    """Drop the local copy of Stripe state: a new emulator starts empty."""
    for table in _MIRROR_TABLES:
        db.session.execute(delete(table))
    db.session.execute(update(Plan).values(stripe_plan_id=None, stripe_product_id=None))
    db.session.commit()


def seed_billing(client: EmulatorClient, ensure_account: Callable[..., Reader]) -> list[str]:
    """Plans on sale and one demo subscriber per billing state; returns what was made."""
    forget_billing_mirror()
    for plan in DEMO_PLANS:
        save_plan(db.session, plan)
    sync_catalog(db.session, gateway())
    seed_promotion_code(client)
    made = []
    for state in BILLING_STATES:
        reader = ensure_account(state.email, state.name)
        state.make(client, reader)
        made.append(state.email)
    return made

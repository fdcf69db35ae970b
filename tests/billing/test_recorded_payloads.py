"""Recorded Stripe objects through the mapping, the local rows, the snapshots and the gate.

``payloads/`` holds complete events of API version 2026-10-28 (every field the pinned SDK
defines; ``tests/test_stripe_contract.py`` checks them), for states the emulator reaches
only slowly or not at all: trials, ``unpaid``, ``incomplete_expired``, a cancel at period
end reaching its end. Each folder is one story, its files numbered in Stripe's order.

The webhook endpoint applies an event by re-reading its object from Stripe; each event's
object here stands for what that re-read returned at the time, and goes through the same
:func:`billing.sync.write`. No mocks and no Stripe: the real schema, and the decision of
:func:`paywall.access.decide` at a clock set inside the story (the recorded timestamps are
fixed, so the real clock would drift past them). How events are stored, deduplicated and
re-read is tested against the emulator in ``test_webhooks.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from billing import sync
from billing.models import Customer, Invoice, Plan, Subscription
from billing.snapshots import CardSnapshot
from billing.state import snapshots_for_reader
from paywall.access import (
    AccessLevel,
    AccessRequest,
    Action,
    ArticleAccess,
    Decision,
    Notice,
    NoticeCode,
    Reason,
    decide,
)
from paywall.accounts.models import Reader
from paywall.articles.reading import access_settings, reader_state
from paywall.extensions import db
from tests.factories import ReaderFactory

PAYLOADS = Path(__file__).parent / "payloads"
CUSTOMER = "cus_TdRpW7Yw1fQmXa"  # every story's customer
PAID = ArticleAccess(AccessLevel.PAID)
PREMIUM_ONLY = ArticleAccess(AccessLevel.TIERS, frozenset({"premium"}))
VISA_4242 = CardSnapshot("visa", "4242", 8, 2029)

Event = dict[str, Any]


def at(*parts: int) -> datetime:
    """A UTC instant."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def story(name: str) -> list[Event]:
    """The events of ``payloads/<name>/``, in delivery order."""
    files = sorted((PAYLOADS / name).glob("*.json"))
    assert files, f"no payloads under {name}"
    return [json.loads(path.read_text()) for path in files]


def write_all(events: list[Event]) -> list[Any]:
    """Write each event's object, in order, as the webhook endpoint's re-read does."""
    rows = [sync.write(db.session, object_of(event)) for event in events]
    db.session.commit()
    return rows


def sent_at(event: Event) -> datetime:
    return datetime.fromtimestamp(event["created"], UTC)


def object_of(event: Event) -> dict[str, Any]:
    return event["data"]["object"]


def subscription_row(event: Event) -> Subscription:
    db.session.expire_all()
    stripe_id = object_of(event)["id"]
    return db.session.scalars(
        select(Subscription).where(Subscription.stripe_subscription_id == stripe_id)
    ).one()


def invoice_row(event: Event) -> Invoice:
    db.session.expire_all()
    stripe_id = object_of(event)["id"]
    return db.session.scalars(select(Invoice).where(Invoice.stripe_invoice_id == stripe_id)).one()


@dataclass(frozen=True)
class Subscriber:
    """A reader whose Stripe customer is :data:`CUSTOMER`, with a Visa 4242 on file."""

    reader_id: int

    def decision(self, now: datetime, article: ArticleAccess = PAID) -> Decision:
        """The gate's answer for this reader at ``now``, from the local snapshots."""
        subscription, card = snapshots_for_reader(db.session, self.reader_id)
        reader = db.session.get(Reader, self.reader_id)
        return decide(
            AccessRequest(
                reader=reader_state(reader),
                article=article,
                now=now,
                subscription=subscription,
                card=card,
                settings=access_settings(),
            )
        )


@pytest.fixture
def subscriber(app_ctx: Flask) -> Subscriber:
    """Both plans on sale, a reader with a customer row, and their card (by webhook)."""
    db.session.add_all(
        [
            Plan(
                code="monthly",
                name="Monthly",
                tier="standard",
                amount=900,
                stripe_product_id="paywall_monthly",
                stripe_plan_id="paywall_monthly_900usd_month",
            ),
            Plan(
                code="premium",
                name="Premium",
                tier="premium",
                amount=1900,
                trial_days=14,
                stripe_product_id="paywall_premium",
                stripe_plan_id="paywall_premium_1900usd_month",
            ),
        ]
    )
    reader = ReaderFactory(email="ada.reader@example.com")
    db.session.add(Customer(reader_id=reader.id, stripe_customer_id=CUSTOMER, email=reader.email))
    db.session.commit()
    assert all(write_all(story("card")))
    return Subscriber(reader.id)


# --- trials -------------------------------------------------------------------------------


def test_a_trial_reads_in_full_with_a_notice_of_when_it_ends(subscriber: Subscriber) -> None:
    created, will_end = story("trial")
    assert all(write_all([created, will_end]))

    trial_end = at(2026, 11, 24, 16, 20, 5)
    row = subscription_row(created)
    assert row.status == "trialing"
    assert (row.plan_code, row.stripe_plan_id) == ("premium", "paywall_premium_1900usd_month")
    assert row.stripe_item_id == "si_TQk3v8WnTr14lP"
    assert row.trial_end == trial_end
    assert (row.current_period_start, row.current_period_end) == (
        at(2026, 11, 10, 16, 20, 5),
        trial_end,
    )
    assert row.was_active and not row.cancel_at_period_end

    subscription, card = snapshots_for_reader(db.session, subscriber.reader_id)
    assert subscription is not None
    assert (subscription.status, subscription.tier, subscription.plan_name) == (
        "trialing",
        "premium",
        "Premium",
    )
    assert subscription.trial_end == trial_end and subscription.renews_at() == trial_end
    assert card == VISA_4242

    for article in (PAID, PREMIUM_ONLY):
        decision = subscriber.decision(at(2026, 11, 12, 8), article)
        assert decision.access == "full"
        assert decision.reason is Reason.TRIALING
        assert decision.notices == (Notice(NoticeCode.TRIAL_ENDS_ON, when=trial_end),)
        assert decision.actions == ()


# --- a renewal that fails until Stripe gives up --------------------------------------------


def test_an_unpaid_subscription_gets_the_teaser_and_an_update_card_prompt(
    subscriber: Subscriber,
) -> None:
    renewed, failed, past_due, failed_last, unpaid = story("unpaid")
    write_all([renewed, failed, past_due])
    invoice = invoice_row(failed)
    assert invoice.failure_message is None  # events carry no payments; the re-read does
    row = subscription_row(renewed)
    assert row.status == "past_due"
    # Stripe says not when collection failed: the grace clock starts at the open invoice.
    failed_at = invoice.created
    assert row.payment_failed_at == failed_at
    assert (row.current_period_start, row.current_period_end) == (
        at(2026, 10, 20, 12, 0, 1),
        at(2026, 11, 20, 12, 0, 1),
    )
    grace_ends = failed_at + timedelta(days=7)
    in_grace = subscriber.decision(at(2026, 10, 21, 9))
    assert in_grace.reason is Reason.GRACE_PERIOD
    assert in_grace.notices == (Notice(NoticeCode.UPDATE_CARD_BY, when=grace_ends),)

    write_all([failed_last, unpaid])

    row = subscription_row(unpaid)
    assert row.status == "unpaid"
    assert row.payment_failed_at == failed_at  # the grace clock does not restart
    assert (row.latest_invoice_id, row.latest_invoice_status) == (invoice.stripe_invoice_id, "open")
    invoice = invoice_row(failed_last)
    assert (invoice.status, invoice.attempt_count, invoice.amount_due) == ("open", 4, 900)
    assert invoice.stripe_subscription_id == row.stripe_subscription_id
    assert invoice.billing_reason == "subscription_cycle"

    subscription, card = snapshots_for_reader(db.session, subscriber.reader_id)
    assert subscription is not None and subscription.status == "unpaid"
    assert subscription.is_unpaid() and subscription.payment_failed_at == failed_at
    assert card == VISA_4242

    decision = subscriber.decision(at(2026, 10, 28, 9))
    assert decision.access == "teaser"
    assert decision.reason is Reason.PAYMENT_FAILED
    assert decision.actions == (Action.UPDATE_CARD,)


# --- a first payment that never completes ------------------------------------------------


@pytest.mark.parametrize(
    "expiry_type", ["customer.subscription.updated", "customer.subscription.deleted"]
)
def test_a_first_payment_that_never_completed_is_not_a_subscription_that_ended(
    subscriber: Subscriber, expiry_type: str
) -> None:
    created, failed, expired, voided = story("incomplete_expired")
    write_all([created, failed])
    row = subscription_row(created)
    assert (row.status, row.was_active) == ("incomplete", False)
    pending = subscriber.decision(sent_at(failed) + timedelta(minutes=5))
    assert pending.reason is Reason.PAYMENT_INCOMPLETE
    assert pending.actions == (Action.CONFIRM_PAYMENT, Action.UPDATE_CARD)

    expired = {**expired, "type": expiry_type}
    if expiry_type.endswith(".deleted"):
        expired["data"] = {"object": object_of(expired)}  # no previous_attributes
    write_all([expired, voided])

    row = subscription_row(expired)
    assert row.status == "incomplete_expired"
    assert row.was_active is False
    assert row.ended_at == at(2026, 11, 4, 9, 14, 30)
    assert invoice_row(voided).status == "void"
    assert snapshots_for_reader(db.session, subscriber.reader_id) == (None, None)

    decision = subscriber.decision(at(2026, 11, 5, 12))
    assert decision.reason is Reason.NO_SUBSCRIPTION
    assert decision.reason is not Reason.SUBSCRIPTION_ENDED
    assert decision.actions == (Action.SUBSCRIBE,)


# --- cancel at period end --------------------------------------------------------------------


def test_a_cancel_at_period_end_reads_until_then_and_ends_there(subscriber: Subscriber) -> None:
    cancel_requested, deleted = story("cancel_at_period_end")
    period_end = at(2026, 11, 14, 8, 30, 12)
    write_all([cancel_requested])

    row = subscription_row(cancel_requested)
    assert (row.status, row.cancel_at_period_end) == ("active", True)
    assert row.canceled_at == at(2026, 11, 2, 19, 41, 6)
    assert row.current_period_end == period_end
    subscription, _ = snapshots_for_reader(db.session, subscriber.reader_id)
    assert subscription is not None and subscription.renews_at() is None

    decision = subscriber.decision(at(2026, 11, 3, 9))
    assert decision.reason is Reason.CANCELING
    assert decision.actions == (Action.RESUME,)
    assert decision.notices == (Notice(NoticeCode.ENDS_ON, when=period_end),)
    # The period is over and the deleted event has not arrived: no renewal is coming.
    assert subscriber.decision(period_end + timedelta(seconds=1)).reason is (
        Reason.SUBSCRIPTION_ENDED
    )

    write_all([deleted])

    row = subscription_row(deleted)
    assert (row.status, row.ended_at, row.was_active) == ("canceled", period_end, True)
    subscription, _ = snapshots_for_reader(db.session, subscriber.reader_id)
    assert subscription is not None and subscription.has_ended()
    decision = subscriber.decision(at(2026, 11, 15, 9))
    assert decision.access == "teaser"
    assert decision.reason is Reason.SUBSCRIPTION_ENDED
    assert decision.actions == (Action.SUBSCRIBE,)


# --- both API shapes ---------------------------------------------------------------------------

RENEWED_SUBSCRIPTION = {
    "stripe_plan_id": "paywall_monthly_900usd_month",
    "plan_code": "monthly",
    "stripe_item_id": "si_T7pQ2Sh4p3sRnw",
    "status": "active",
    "current_period_start": at(2026, 11, 3, 7, 45),
    "current_period_end": at(2026, 12, 3, 7, 45),
    "cancel_at_period_end": False,
    "canceled_at": None,
    "ended_at": None,
    "trial_end": None,
    "latest_invoice_id": "in_1SPc9sLk7qW2dHrPSh4p3sIn",
    "latest_invoice_status": "paid",
    "payment_failed_at": None,
    "was_active": True,
    "has_own_payment_method": False,
    "created_at": at(2026, 6, 3, 7, 45),
}
PAID_INVOICE = {
    "stripe_subscription_id": "sub_1SAy0qLk7qW2dHrPSh4p3sRn",
    "status": "paid",
    "amount_due": 900,
    "amount_paid": 900,
    "currency": "usd",
    "billing_reason": "subscription_cycle",
    "attempt_count": 1,
    "failure_message": None,
    "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1SZt9kLk7qW2dHrP/test_dHrPSh4p3sIn",
    "created": at(2026, 11, 3, 7, 45),
    "paid_at": at(2026, 11, 3, 8, 47, 30),
}


def columns(row: Any, expected: dict[str, Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in expected}


def test_a_paid_renewal_maps_to_the_rows(subscriber: Subscriber) -> None:
    updated, paid = story("shapes/current")
    assert {updated["api_version"], paid["api_version"]} == {"2026-10-28.endive"}
    assert all(write_all([updated, paid]))

    assert columns(subscription_row(updated), RENEWED_SUBSCRIPTION) == RENEWED_SUBSCRIPTION
    assert columns(invoice_row(paid), PAID_INVOICE) == PAID_INVOICE
    decision = subscriber.decision(at(2026, 11, 10))
    assert (decision.reason, decision.notices) == (Reason.SUBSCRIBER, ())


@pytest.mark.parametrize(
    ("price_id", "plan_code", "plan_name"),
    [
        pytest.param("paywall_monthly_900usd_month", "monthly", "Monthly", id="our price"),
        pytest.param("price_1SQ7dELk7qW2dHrPm0nTh1y9", "", "", id="a price made elsewhere"),
    ],
)
def test_a_price_without_our_metadata_maps_by_its_stripe_id(
    subscriber: Subscriber, price_id: str, plan_code: str, plan_name: str
) -> None:
    updated = copy.deepcopy(story("shapes/current")[0])
    item = object_of(updated)["items"]["data"][0]
    for price in (item["price"], item["plan"]):
        price["id"], price["metadata"] = price_id, {}

    assert write_all([updated])[0] is not None

    row = subscription_row(updated)
    assert (row.stripe_plan_id, row.plan_code, row.status) == (price_id, plan_code, "active")
    subscription, _ = snapshots_for_reader(db.session, subscriber.reader_id)
    assert subscription is not None
    assert (subscription.plan_name, subscription.tier) == (plan_name, "standard")

"""Billing operations a reader starts: subscribe, update card, cancel, resume, change plan.

Each writes the local state from Stripe's API responses before it returns, so the
reader's next page is decided on fresh state without waiting for a webhook. Errors are
:mod:`billing.errors` values; nothing half-made is left behind on a declined card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import sync
from billing.catalog import plan_for_sale
from billing.errors import BillingOutcomeUnknown, BillingStateError, CardDeclined
from billing.gateway import StripeGateway
from billing.metrics import MONTHS_PER_INTERVAL
from billing.models import Customer, Plan, Subscription
from billing.orm import utcnow
from billing.promotions import Promotion, find_promotion
from billing.reconcile import LIVE_AT_STRIPE, refresh_customer
from billing.state import current_subscription, live_subscription

Obj = dict[str, Any]
# Stripe's 402 to paying an invoice whose PaymentIntent waits for 3-D Secure.
AUTHENTICATION_REQUIRED = "invoice_payment_intent_requires_action"


@dataclass(frozen=True, slots=True)
class CardSetup:
    """What the card form needs: the SetupIntent to confirm with Stripe.js."""

    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """``needs_confirmation``: the bank asks for 3-D Secure before the first payment."""

    status: str
    needs_confirmation: bool


@dataclass(frozen=True, slots=True)
class CardUpdateResult:
    """Invoices collected with the new card, and the decline message if one failed.

    ``needs_confirmation``: the bank asks the reader to authenticate a payment (3-D Secure).
    """

    paid_invoices: int
    declined: str | None = None
    needs_confirmation: bool = False


def ensure_customer(
    session: Session, gateway: StripeGateway, reader_id: int, email: str
) -> Customer:
    """The reader's Stripe customer, created once (an idempotent call, then stored)."""
    customer = sync.customer_for_reader(session, reader_id)
    if customer is not None:
        return customer
    created = gateway.create_customer(reader_id, email)
    customer = Customer(reader_id=reader_id, stripe_customer_id=created["id"], email=email)
    session.add(customer)
    session.commit()
    return customer


def begin_card_setup(
    session: Session, gateway: StripeGateway, reader_id: int, email: str
) -> CardSetup:
    """Start collecting a card (for a new subscription or to replace the one on file)."""
    customer = ensure_customer(session, gateway, reader_id, email)
    intent = gateway.create_setup_intent(customer.stripe_customer_id)
    return CardSetup(intent["id"], intent["client_secret"])


def begin_card_setup_before_account(gateway: StripeGateway) -> CardSetup:
    """Start collecting a card from a reader who has no account yet (subscribing in one
    step). The SetupIntent has no customer: the caller keeps its id for this browser and
    passes ``card_before_account=True`` to :func:`subscribe` for that id only."""
    intent = gateway.create_setup_intent(None)
    return CardSetup(intent["id"], intent["client_secret"])


def _confirmed_card(
    gateway: StripeGateway,
    customer: Customer,
    setup_intent_id: str,
    *,
    card_before_account: bool = False,
) -> Obj:
    """The card of a SetupIntent this customer confirmed, made their default.

    A succeeded SetupIntent with a customer has attached its card to that customer; one
    made before the customer existed (``card_before_account``) has its card attached now.
    """
    intent = gateway.retrieve_setup_intent(setup_intent_id)
    method = intent.get("payment_method")
    owner = intent.get("customer")
    unattached = card_before_account and owner is None
    if owner != customer.stripe_customer_id and not unattached:
        raise BillingStateError("That card form is not yours.", code="foreign_setup_intent")
    if intent.get("status") != "succeeded" or not isinstance(method, dict):
        raise BillingStateError(
            "The card was not confirmed. Please enter it again.", code="card_not_confirmed"
        )
    if unattached:
        method = gateway.attach_payment_method(method["id"], customer.stripe_customer_id)
    gateway.set_default_payment_method(customer.stripe_customer_id, method["id"])
    return method


def _store_default_card(session: Session, customer: Customer, method: Obj) -> None:
    customer.default_payment_method_id = method["id"]
    sync.upsert_card(session, method)


def _refuse_a_second_subscription(
    session: Session, gateway: StripeGateway, customer: Customer
) -> None:
    """Refuse when the reader has a live subscription here or at Stripe, or when a
    purchase's outcome is still unknown (a call that failed after Stripe may have acted)."""
    if customer.state_unknown_since is not None:
        raise BillingStateError(
            "We are still checking your last payment. Please look again in a minute.",
            code="state_unknown",
        )
    if live_subscription(session, customer.id) is None:
        remote = gateway.list_subscriptions(customer.stripe_customer_id)
        # ``incomplete`` too: a first payment still waiting for 3-D Secure.
        found = [s for s in remote if s.get("status") in LIVE_AT_STRIPE | {"incomplete"}]
        for subscription in found:  # made elsewhere, or its webhook has not arrived yet
            sync.upsert_subscription(session, subscription)
        if not found:
            return
    session.commit()
    raise BillingStateError(
        "You already have a subscription. Change its plan from your account page.",
        code="already_subscribed",
    )


def subscribe(
    session: Session,
    gateway: StripeGateway,
    *,
    reader_id: int,
    email: str,
    plan_code: str,
    setup_intent_id: str,
    card_before_account: bool = False,
    promotion_code: str = "",
) -> SubscribeResult:
    """Subscribe the reader to ``plan_code``, paying with the card of ``setup_intent_id``
    (one from :func:`begin_card_setup_before_account` with ``card_before_account``),
    discounted by ``promotion_code`` when given (checked again here: a refused code
    raises :class:`PromotionCodeRefused` before the card is touched).

    One live subscription per reader: the customer's row is held from the check (here and
    at Stripe) until the new subscription is stored.
    """
    plan = plan_for_sale(session, plan_code)
    customer = ensure_customer(session, gateway, reader_id, email)
    sync.claim_customer(session, customer.stripe_customer_id)
    _refuse_a_second_subscription(session, gateway, customer)
    promotion = (
        find_promotion(gateway, promotion_code, plan, customer.stripe_customer_id)
        if promotion_code.strip()
        else None
    )
    method = _confirmed_card(
        gateway, customer, setup_intent_id, card_before_account=card_before_account
    )
    key = f"{reader_id}-{setup_intent_id}"
    return _start(session, gateway, customer, plan, method, key, promotion=promotion)


def check_promotion(
    session: Session, gateway: StripeGateway, plan_code: str, code: str, reader_id: int | None
) -> Promotion:
    """The promotion code ``code`` priced for the plan and this reader (None: no account
    yet), or :class:`PromotionCodeRefused`. Nothing is changed at Stripe."""
    plan = plan_for_sale(session, plan_code)
    customer = sync.customer_for_reader(session, reader_id) if reader_id is not None else None
    return find_promotion(gateway, code, plan, customer.stripe_customer_id if customer else None)


def subscribe_with_card(
    session: Session,
    gateway: StripeGateway,
    *,
    reader_id: int,
    email: str,
    plan_code: str,
    payment_method_id: str,
) -> SubscribeResult:
    """Subscribe with a card collected some other way (an import, the demo's seeding)."""
    plan = plan_for_sale(session, plan_code)
    customer = ensure_customer(session, gateway, reader_id, email)
    sync.claim_customer(session, customer.stripe_customer_id)
    _refuse_a_second_subscription(session, gateway, customer)
    method = gateway.attach_payment_method(payment_method_id, customer.stripe_customer_id)
    gateway.set_default_payment_method(customer.stripe_customer_id, payment_method_id)
    return _start(session, gateway, customer, plan, method, f"{reader_id}-{payment_method_id}")


def resubscribe(session: Session, gateway: StripeGateway, *, reader_id: int) -> SubscribeResult:
    """Start the plan of the reader's ended subscription again, paid by the card on file,
    with no second free trial.

    The idempotency key names the ended subscription and the card, so a double click (or
    a retry after a lost answer) makes one subscription; a declined card is forgotten as
    at checkout, so trying again needs a new card and makes a new key.
    """
    customer = sync.customer_for_reader(session, reader_id)
    if customer is None or not customer.default_payment_method_id:
        raise BillingStateError(
            "There is no card on file. Choose a plan and enter a card.", code="no_card"
        )
    sync.claim_customer(session, customer.stripe_customer_id)
    _refuse_a_second_subscription(session, gateway, customer)
    ended = current_subscription(session, customer.id)
    if ended is None:
        raise BillingStateError("Choose a plan to subscribe.", code="no_subscription")
    plan = plan_for_sale(session, ended.plan_code)
    method = gateway.retrieve_payment_method(customer.default_payment_method_id)
    key = f"{reader_id}-again-{ended.stripe_subscription_id}-{method['id']}"
    return _start(session, gateway, customer, plan, method, key, trial_days=0)


def _start(
    session: Session,
    gateway: StripeGateway,
    customer: Customer,
    plan: Plan,
    method: Obj,
    idempotency: str,
    trial_days: int | None = None,
    promotion: Promotion | None = None,
) -> SubscribeResult:
    """Create the subscription paid by ``method`` (the customer's default card), still
    holding the customer's row; commits once the subscription is stored. ``trial_days``:
    the plan's unless given."""
    _store_default_card(session, customer, method)
    trial = plan.trial_days if trial_days is None else trial_days
    try:
        created = gateway.create_subscription(
            customer.stripe_customer_id,
            plan.stripe_plan_id or "",
            trial,
            idempotency,
            promotion.promotion_code_id if promotion else None,
        )
    except BillingOutcomeUnknown:
        customer.state_unknown_since = utcnow()
        session.commit()
        raise
    if created["status"] == "incomplete":
        intent = _first_payment(gateway, created)
        if intent.get("status") != "requires_action":
            _undo_declined_subscription(session, gateway, customer, created, method["id"])
            error = intent.get("last_payment_error") or {}
            raise CardDeclined(error.get("message") or "Your card was declined.")
    row = sync.upsert_subscription(session, created)
    session.commit()
    status = row.status if row else created["status"]
    return SubscribeResult(status, needs_confirmation=status == "incomplete")


def _first_payment(gateway: StripeGateway, subscription: Obj) -> Obj:
    """The PaymentIntent of the subscription's latest invoice ({} before any attempt)."""
    invoice_id = sync.object_id(subscription.get("latest_invoice"))
    invoice = gateway.retrieve_invoice(invoice_id) if invoice_id else {}
    return sync.invoice_payment_intent(invoice) or {}


def _undo_declined_subscription(
    session: Session, gateway: StripeGateway, customer: Customer, created: Obj, method_id: str
) -> None:
    """A first payment was declined: cancel the subscription and forget the card."""
    gateway.cancel_subscription_now(created["id"])
    gateway.detach_payment_method(method_id)
    sync.remove_card(session, method_id)
    customer.default_payment_method_id = None
    session.commit()


def update_card(
    session: Session, gateway: StripeGateway, *, reader_id: int, setup_intent_id: str
) -> CardUpdateResult:
    """Make the confirmed card the default, drop the old one, and collect open invoices now."""
    customer = sync.customer_for_reader(session, reader_id)
    if customer is None:
        raise BillingStateError("There is no card on file to replace.", code="no_customer")
    sync.claim_customer(session, customer.stripe_customer_id)
    previous = customer.default_payment_method_id
    method = _confirmed_card(gateway, customer, setup_intent_id)
    for subscription in customer.subscriptions:
        # A subscription-level card (possible on a real account) would outrank the new one.
        if subscription.has_own_payment_method and subscription.status != "canceled":
            gateway.update_subscription(
                subscription.stripe_subscription_id, {"default_payment_method": ""}
            )
    if previous and previous != method["id"]:
        gateway.detach_payment_method(previous)
        sync.remove_card(session, previous)
    _store_default_card(session, customer, method)
    session.commit()
    result = _collect_what_is_owed(gateway, customer)
    if result.declined is None and not result.needs_confirmation:
        _resume_after_payment(session, gateway, customer)
    refresh_customer(session, gateway, customer)
    return result


def _invoices_owed(gateway: StripeGateway, customer: Customer) -> list[Obj]:
    """Open invoices, and the latest invoice of a live subscription marked uncollectible
    (an ``unpaid`` subscription stays gated until that one is paid), oldest first."""
    owed = {i["id"]: i for i in gateway.list_invoices(customer.stripe_customer_id, status="open")}
    for subscription in customer.subscriptions:
        latest = subscription.latest_invoice_id
        if latest and latest not in owed and subscription.latest_invoice_status == "uncollectible":
            owed[latest] = gateway.retrieve_invoice(latest)
    return sorted(owed.values(), key=lambda invoice: invoice.get("created") or 0)


def _collect_what_is_owed(gateway: StripeGateway, customer: Customer) -> CardUpdateResult:
    """Pay what is owed now with the new card, the reader present (``off_session=false``),
    so a bank that wants 3-D Secure asks them instead of declining."""
    paid = 0
    for invoice in _invoices_owed(gateway, customer):
        try:
            result = gateway.pay_invoice(invoice["id"], off_session=False)
        except CardDeclined as declined:
            if declined.code == AUTHENTICATION_REQUIRED:  # a step for the reader, not a no
                return CardUpdateResult(paid, needs_confirmation=True)
            return CardUpdateResult(paid, declined.message)
        if result.get("status") == "paid":
            paid += 1
            continue
        intent = sync.invoice_payment_intent(result) or {}
        if intent.get("status") == "requires_action":
            return CardUpdateResult(paid, needs_confirmation=True)
        reason = sync.invoice_failure_message(result)
        return CardUpdateResult(paid, reason or "Your bank declined the payment with this card.")
    return CardUpdateResult(paid)


def _own_subscription(session: Session, reader_id: int) -> tuple[Customer, Subscription]:
    customer = sync.customer_for_reader(session, reader_id)
    subscription = live_subscription(session, customer.id) if customer else None
    if customer is None or subscription is None:
        raise BillingStateError("You have no subscription to change.", code="no_subscription")
    return customer, subscription


def _update(session: Session, gateway: StripeGateway, reader_id: int, params: Obj) -> Subscription:
    customer, subscription = _own_subscription(session, reader_id)
    sync.claim_customer(session, customer.stripe_customer_id)
    updated = gateway.update_subscription(subscription.stripe_subscription_id, params)
    row = sync.upsert_subscription(session, updated)
    session.commit()
    return row or subscription


# Why readers cancel: Stripe's ``cancellation_details.feedback`` codes, in the reader's words.
CANCEL_REASONS = {
    "too_expensive": "It costs too much",
    "unused": "I don't read it enough",
    "missing_features": "It's missing something I want",
    "switched_service": "I'm switching to another publication",
    "low_quality": "I'm not happy with the journalism",
    "customer_service": "I had a problem with the service",
    "other": "Another reason",
}


def cancel_at_period_end(
    session: Session,
    gateway: StripeGateway,
    reader_id: int,
    reason: str | None = None,
    comment: str | None = None,
) -> Subscription:
    """Stop renewing; access continues until the paid period ends. ``reason`` (one of
    :data:`CANCEL_REASONS`) and ``comment`` are kept for the publisher."""
    if reason is not None and reason not in CANCEL_REASONS:
        raise BillingStateError("Choose one of the reasons listed.", code="unknown_reason")
    row = _update(session, gateway, reader_id, {"cancel_at_period_end": True})
    row.cancel_reason = reason or None
    row.cancel_comment = (comment or "").strip()[:500] or None
    session.commit()
    return row


def resume(session: Session, gateway: StripeGateway, reader_id: int) -> Subscription:
    """Undo a cancellation (at period end or at ``cancel_at``) before it happens, or end a
    pause the reader asked for (a new period starts and is charged now)."""
    customer, subscription = _own_subscription(session, reader_id)
    if subscription.status == "paused" and subscription.pause_reason == "pause_requested":
        sync.claim_customer(session, customer.stripe_customer_id)
        resumed = gateway.resume_subscription(subscription.stripe_subscription_id, bill_now=True)
        row = sync.upsert_subscription(session, resumed)
        session.commit()
        return row or subscription
    if subscription.cancel_at_period_end:
        row = _update(session, gateway, reader_id, {"cancel_at_period_end": False})
        row.cancel_reason = row.cancel_comment = None
        session.commit()
        return row
    if subscription.cancel_at is not None:
        return _update(session, gateway, reader_id, {"cancel_at": ""})
    raise BillingStateError("Your subscription is not set to end.", code="not_canceling")


def _resume_after_payment(session: Session, gateway: StripeGateway, customer: Customer) -> None:
    """Subscriptions Stripe paused after a failed payment go on once the card paid."""
    for subscription in customer.subscriptions:
        if subscription.status == "paused" and subscription.pause_reason != "pause_requested":
            resumed = gateway.resume_subscription(
                subscription.stripe_subscription_id, bill_now=False
            )
            sync.upsert_subscription(session, resumed)
    session.commit()


@dataclass(frozen=True, slots=True)
class PlanChange:
    """A move to another plan, as the reader is asked to confirm it.

    An upgrade (more per month) is invoiced at once, prorated, and applies only once that
    invoice is paid; a downgrade applies at the end of the paid period, nothing due now.
    """

    plan: Plan
    upgrade: bool
    due_now: int  # smallest currency unit
    currency: str
    applies_at: datetime | None  # None: at once


@dataclass(frozen=True, slots=True)
class PlanChangeResult:
    """``applied``: on the new plan now; else scheduled, declined or awaiting 3-D Secure."""

    applied: bool
    applies_at: datetime | None = None
    declined: str | None = None
    needs_confirmation: bool = False


def _monthly(plan: Plan) -> float:
    return plan.amount * MONTHS_PER_INTERVAL[plan.interval]


def _checked_change(
    session: Session, reader_id: int, plan_code: str
) -> tuple[Customer, Subscription, Plan, bool]:
    """The reader's subscription, the plan to move to, and whether it is an upgrade."""
    plan = plan_for_sale(session, plan_code)
    customer, subscription = _own_subscription(session, reader_id)
    if subscription.plan_code == plan.code:
        raise BillingStateError("You are already on that plan.", code="same_plan")
    if subscription.status not in ("active", "trialing") or subscription.cancel_at_period_end:
        raise BillingStateError(
            "Your plan can be changed while your subscription is active and renewing.",
            code="not_changeable",
        )
    current = session.scalar(select(Plan).where(Plan.code == subscription.plan_code))
    if current is not None and current.currency != plan.currency:
        raise BillingStateError(
            f"{plan.name} is sold in {plan.currency.upper()} and your subscription is in "
            f"{current.currency.upper()}: cancel it, then subscribe to {plan.name}.",
            code="other_currency",
        )
    upgrade = current is None or _monthly(plan) > _monthly(current)
    return customer, subscription, plan, upgrade


def preview_plan_change(
    session: Session, gateway: StripeGateway, reader_id: int, plan_code: str
) -> PlanChange:
    """What moving to ``plan_code`` would cost now, and when it would apply."""
    customer, subscription, plan, upgrade = _checked_change(session, reader_id, plan_code)
    if not upgrade:
        return PlanChange(plan, False, 0, plan.currency, subscription.current_period_end)
    invoice = gateway.preview_plan_change(
        customer.stripe_customer_id,
        subscription.stripe_subscription_id,
        subscription.stripe_item_id,
        plan.stripe_plan_id or "",
    )
    due = int(invoice.get("amount_due") or 0)
    return PlanChange(plan, True, due, invoice.get("currency") or plan.currency, None)


def change_plan(
    session: Session, gateway: StripeGateway, reader_id: int, plan_code: str
) -> PlanChangeResult:
    """Move to ``plan_code``: an upgrade now (applies when its invoice is paid), a
    downgrade at the period end (through a subscription schedule)."""
    customer, subscription, plan, upgrade = _checked_change(session, reader_id, plan_code)
    sync.claim_customer(session, customer.stripe_customer_id)
    if subscription.stripe_schedule_id:  # a change already scheduled: this one replaces it
        gateway.release_schedule(subscription.stripe_schedule_id)
        subscription.stripe_schedule_id = subscription.scheduled_plan_code = None
        subscription.scheduled_change_at = None
    if not upgrade:
        return _schedule_downgrade(session, gateway, subscription, plan)
    updated = gateway.update_subscription(
        subscription.stripe_subscription_id,
        {
            "items": [{"id": subscription.stripe_item_id, "price": plan.stripe_plan_id}],
            "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete",
        },
    )
    sync.upsert_subscription(session, updated)
    session.commit()
    if not updated.get("pending_update"):
        return PlanChangeResult(applied=True)
    # The upgrade's invoice was not paid: Stripe keeps the old plan until it is.
    intent = _first_payment(gateway, updated)
    if intent.get("status") == "requires_action":
        return PlanChangeResult(applied=False, needs_confirmation=True)
    error = intent.get("last_payment_error") or {}
    return PlanChangeResult(
        applied=False, declined=error.get("message") or "Your bank declined the payment."
    )


def _schedule_downgrade(
    session: Session, gateway: StripeGateway, subscription: Subscription, plan: Plan
) -> PlanChangeResult:
    at = subscription.current_period_end
    if at is None:
        raise BillingStateError("Your subscription has no period end yet.", code="no_period")
    schedule = gateway.schedule_price_change(
        subscription.stripe_subscription_id,
        subscription.stripe_plan_id,
        plan.stripe_plan_id or "",
        int(at.timestamp()),
    )
    subscription.stripe_schedule_id = schedule["id"]
    subscription.scheduled_plan_code = plan.code
    subscription.scheduled_change_at = at
    session.commit()
    return PlanChangeResult(applied=False, applies_at=at)


def payment_to_confirm(session: Session, gateway: StripeGateway, reader_id: int) -> str | None:
    """The client secret of the payment waiting for 3-D Secure, if there is one."""
    _, subscription = _own_subscription(session, reader_id)
    if not subscription.latest_invoice_id:
        return None
    invoice = gateway.retrieve_invoice(subscription.latest_invoice_id)
    intent = sync.invoice_payment_intent(invoice) or {}
    return intent.get("client_secret") if intent.get("status") == "requires_action" else None

"""The one module that imports the Stripe SDK.

Everything else speaks plain dicts (API objects as Stripe shapes them for the pinned API
version) and the exceptions of :mod:`billing.errors`. What is sent is what Stripe expects
for :data:`API_VERSION`, wherever the requests go: development and tests point
``api_base`` at a stand-in that answers as Stripe does, and nothing here knows it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import stripe

from billing.errors import (
    BillingOutcomeUnknown,
    BillingRequestError,
    BillingUnavailable,
    CardDeclined,
    InvalidSignature,
)

# The Stripe API version every request is made with (and the shapes billing.sync reads).
API_VERSION = "2026-10-28.endive"
SIGNATURE_TOLERANCE_SECONDS = 300
# What to expand to see how an invoice is being paid: its InvoicePayments' PaymentIntents
# (the 2025 basil versions removed ``invoice.payment_intent`` and ``invoice.charge``).
INVOICE_PAYMENT = "payments.data.payment.payment_intent"
SUBSCRIPTION_EXPAND = "latest_invoice"
INVOICE_SUBSCRIPTION = "parent.subscription_details.subscription"
# A promotion code's coupon (under ``promotion`` since the 2025 clover versions), with
# the fields Stripe answers only when asked: its products and its other currencies.
PROMOTION_COUPON = (
    "data.promotion.coupon",
    "data.promotion.coupon.applies_to",
    "data.promotion.coupon.currency_options",
)

P = ParamSpec("P")
T = TypeVar("T")


UNAVAILABLE = "The payment service is not answering right now. Please try again in a minute."


def _translated(call: Callable[P, T], *, changes_stripe: bool = False) -> Callable[P, T]:
    """Turn Stripe SDK errors raised by ``call`` into billing's own exceptions.

    ``changes_stripe``: a lost connection or a server error may come after Stripe acted,
    so it raises :class:`BillingOutcomeUnknown` (the caller re-reads, never assumes).
    """

    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(*args, **kwargs)
        except stripe.CardError as error:
            raise CardDeclined(
                error.user_message or "Your card was declined.", code=error.code
            ) from error
        except (stripe.APIConnectionError, stripe.APIError) as error:
            if changes_stripe:
                raise BillingOutcomeUnknown(UNAVAILABLE) from error
            raise BillingUnavailable(UNAVAILABLE) from error
        except (stripe.RateLimitError, stripe.AuthenticationError, stripe.PermissionError) as error:
            raise BillingUnavailable(UNAVAILABLE) from error
        except stripe.StripeError as error:
            if error.http_status == 402:
                raise CardDeclined(
                    error.user_message or "Your card was declined.", code=error.code
                ) from error
            raise BillingRequestError(
                error.user_message or str(error), code=error.code or "billing_request_error"
            ) from error

    return wrapper


def _changes_stripe(call: Callable[P, T]) -> Callable[P, T]:
    """:func:`_translated` for a call that creates, updates or pays something."""
    return _translated(call, changes_stripe=True)


def _plain(obj: Any) -> dict[str, Any]:
    plain: dict[str, Any] = obj.to_dict()
    return plain


def installation_prefix(base_url: str) -> str:
    """A short stable prefix for one installation's ids in Stripe, from its public address."""
    host = re.sub(r"^[a-z]+://", "", base_url.strip().lower()).split("/")[0]
    return "pw" + hashlib.sha256(host.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """How to reach Stripe (``api_base``: another address that answers as Stripe does)."""

    secret_key: str
    api_base: str | None = None  # None: Stripe itself
    timeout_seconds: float = 20.0
    network_retries: int = 2
    # Starts every idempotency key, so two installations on one Stripe account (staging
    # and production, two titles) never replay each other's requests.
    id_prefix: str = "paywall"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", self.id_prefix):
            raise ValueError("the Stripe id prefix takes 1-20 letters, digits, _ or -")


class StripeGateway:
    """Stripe calls the paywall makes, each returning plain dicts."""

    def __init__(self, settings: GatewaySettings) -> None:
        base = {"api": settings.api_base} if settings.api_base else None
        self._client = stripe.StripeClient(
            settings.secret_key,
            stripe_version=API_VERSION,
            base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=settings.network_retries,
            http_client=stripe.RequestsClient(timeout=settings.timeout_seconds),
        )
        self.id_prefix = settings.id_prefix
        self.calls = 0  # every request made, so benchmarks can prove the reading path makes none

    def _key(self, operation: str, natural: str | None = None) -> dict[str, str]:
        """Request options with an idempotency key: ``natural`` when the call has one."""
        return {"idempotency_key": f"{self.id_prefix}-{operation}-{natural or uuid.uuid4().hex}"}

    def _v1(self) -> Any:
        self.calls += 1
        return self._client.v1

    def _read(self, path: str, object_id: str, expand: list[str]) -> dict[str, Any]:
        """GET ``path``/``object_id`` as plain JSON: the SDK's typed objects, built and
        turned back into dicts, took most of a webhook re-read's CPU (4 ms an invoice)."""
        self.calls += 1
        url = f"{path}/{quote(object_id, safe='')}"
        answer: dict[str, Any] = self._client.raw_request("get", url, expand=expand).data
        return answer

    # -- catalogue ---------------------------------------------------------------
    @_changes_stripe
    def upsert_product(self, product_id: str, name: str, description: str) -> dict[str, Any]:
        """Create the Product ``product_id``, or update its name when it exists."""
        params: dict[str, Any] = {"name": name}
        if description:
            params["description"] = description
        try:
            return _plain(
                self._v1().products.update(product_id, params=params, options=self._key("product"))
            )
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
        return _plain(
            self._v1().products.create(
                params={"id": product_id, **params}, options=self._key("product-create", product_id)
            )
        )

    @_translated
    def find_plan(self, plan_id: str) -> dict[str, Any] | None:
        """The Plan ``plan_id``, or None when Stripe has none by that id."""
        try:
            return _plain(self._v1().plans.retrieve(plan_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise

    @_changes_stripe
    def create_plan(self, plan_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Create a Plan (prices are immutable: a changed amount gets a new plan id)."""
        return _plain(
            self._v1().plans.create(
                params={"id": plan_id, **params}, options=self._key("plan", plan_id)
            )
        )

    @_changes_stripe
    def deactivate_plan(self, plan_id: str) -> None:
        """Stop selling ``plan_id``; existing subscriptions keep it."""
        self._v1().plans.update(plan_id, params={"active": False}, options=self._key("plan-off"))

    # -- customers and cards -----------------------------------------------------
    @_changes_stripe
    def create_customer(self, reader_id: int, email: str) -> dict[str, Any]:
        """Create the reader's customer (idempotent per reader, so a retry makes no twin)."""
        return _plain(
            self._v1().customers.create(
                params={"email": email, "metadata": {"reader_id": str(reader_id)}},
                options=self._key("customer", f"reader-{reader_id}"),
            )
        )

    @_translated
    def retrieve_customer(self, customer_id: str) -> dict[str, Any]:
        return _plain(self._v1().customers.retrieve(customer_id))

    @_changes_stripe
    def update_customer_email(self, customer_id: str, email: str) -> dict[str, Any]:
        """Give the customer a new email (``""`` removes it), for receipts and Stripe's
        own emails. A fresh idempotency key: changing back and forth is a change each time."""
        return _plain(
            self._v1().customers.update(
                customer_id, params={"email": email}, options=self._key("customer-email")
            )
        )

    @_changes_stripe
    def set_default_payment_method(
        self, customer_id: str, payment_method_id: str
    ) -> dict[str, Any]:
        """Make the card the customer's default for every invoice."""
        return _plain(
            self._v1().customers.update(
                customer_id,
                params={"invoice_settings": {"default_payment_method": payment_method_id}},
                options=self._key("default-card", f"{customer_id}-{payment_method_id}"),
            )
        )

    @_changes_stripe
    def create_setup_intent(self, customer_id: str | None) -> dict[str, Any]:
        """A SetupIntent to collect a card for later (off-session) renewals; without a
        customer (a reader subscribing before they have an account), the confirmed card
        stays unattached until it is attached to the new customer."""
        params: dict[str, Any] = {"usage": "off_session", "allowed_payment_method_types": ["card"]}
        if customer_id is not None:
            params["customer"] = customer_id
        return _plain(self._v1().setup_intents.create(params=params, options=self._key("setup")))

    @_translated
    def retrieve_setup_intent(self, setup_intent_id: str) -> dict[str, Any]:
        """The SetupIntent with its card expanded (Stripe attached it to the customer)."""
        return _plain(
            self._v1().setup_intents.retrieve(
                setup_intent_id, params={"expand": ["payment_method"]}
            )
        )

    @_translated
    def retrieve_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        return _plain(self._v1().payment_methods.retrieve(payment_method_id))

    @_changes_stripe
    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> dict[str, Any]:
        """Attach a card to a customer: one collected outside a SetupIntent (an import, the
        demo's seeding) or by a SetupIntent made before the customer existed."""
        return _plain(
            self._v1().payment_methods.attach(
                payment_method_id,
                params={"customer": customer_id},
                options=self._key("attach", f"{payment_method_id}-{customer_id}"),
            )
        )

    @_changes_stripe
    def detach_payment_method(self, payment_method_id: str) -> None:
        try:
            self._v1().payment_methods.detach(payment_method_id, options=self._key("detach"))
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:  # already gone
                raise

    @_translated
    def list_cards(self, customer_id: str) -> list[dict[str, Any]]:
        found = self._v1().payment_methods.list(params={"customer": customer_id, "type": "card"})
        return [_plain(method) for method in found.data]

    # -- subscriptions -----------------------------------------------------------
    @_translated
    def find_promotion_code(self, code: str) -> dict[str, Any] | None:
        """The active promotion code ``code`` (any case) with its coupon, or None."""
        found = self._v1().promotion_codes.list(
            params={"code": code, "active": True, "limit": 1, "expand": list(PROMOTION_COUPON)}
        )
        return _plain(found.data[0]) if found.data else None

    @_translated
    def has_paid_invoices(self, customer_id: str) -> bool:
        """Whether the customer ever paid anything (a first-time-only code refuses them)."""
        found = self._v1().invoices.list(
            params={"customer": customer_id, "status": "paid", "limit": 10}
        )
        return any(invoice.amount_paid for invoice in found.data)

    @_changes_stripe
    def create_subscription(
        self,
        customer_id: str,
        plan_id: str,
        trial_days: int,
        idempotency: str,
        promotion_code_id: str | None = None,
    ) -> dict[str, Any]:
        """Subscribe the customer to ``plan_id``; paid by the customer's default card,
        discounted by ``promotion_code_id`` when given.

        No subscription-level default payment method is set, so a later card update on
        the customer pays every subscription.
        """
        params: dict[str, Any] = {
            "customer": customer_id,
            "items": [{"price": plan_id}],
            "payment_behavior": "allow_incomplete",
            "expand": [SUBSCRIPTION_EXPAND],
        }
        if trial_days:
            params["trial_period_days"] = trial_days
        if promotion_code_id:
            params["discounts"] = [{"promotion_code": promotion_code_id}]
        return _plain(
            self._v1().subscriptions.create(
                params=params, options=self._key("subscribe", idempotency)
            )
        )

    @_translated
    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        """The subscription with its latest invoice and that invoice's payments expanded."""
        return self._read("/v1/subscriptions", subscription_id, [SUBSCRIPTION_EXPAND])

    @_translated
    def list_subscriptions(self, customer_id: str, status: str = "all") -> list[dict[str, Any]]:
        """The customer's subscriptions (``status``: one status, or ``all``)."""
        found = self._v1().subscriptions.list(
            params={"customer": customer_id, "status": status, "limit": 100}
        )
        return [_plain(subscription) for subscription in found.data]

    @_changes_stripe
    def update_subscription(
        self, subscription_id: str, params: dict[str, Any], idempotency: str | None = None
    ) -> dict[str, Any]:
        return _plain(
            self._v1().subscriptions.update(
                subscription_id,
                params={**params, "expand": [SUBSCRIPTION_EXPAND]},
                options=self._key("subscription-update", idempotency),
            )
        )

    @_changes_stripe
    def resume_subscription(self, subscription_id: str, *, bill_now: bool) -> dict[str, Any]:
        """Resume a paused subscription (Stripe's ``resume``).

        ``bill_now``: a new period starts and is invoiced now (a pause the reader asked
        for); otherwise the old cycle goes on without a new charge (the failed invoice that
        paused it was just paid).
        """
        params: dict[str, Any] = {"expand": [SUBSCRIPTION_EXPAND]}
        if not bill_now:
            params |= {"billing_cycle_anchor": {"type": "unchanged"}, "proration_behavior": "none"}
        return _plain(
            self._v1().subscriptions.resume(
                subscription_id, params=params, options=self._key("resume")
            )
        )

    @_translated
    def preview_plan_change(
        self, customer_id: str, subscription_id: str, item_id: str, price_id: str
    ) -> dict[str, Any]:
        """The invoice an immediate move to ``price_id`` would bill now (prorated)."""
        return _plain(
            self._v1().invoices.create_preview(
                params={
                    "customer": customer_id,
                    "subscription": subscription_id,
                    "subscription_details": {
                        "items": [{"id": item_id, "price": price_id}],
                        "proration_behavior": "always_invoice",
                    },
                }
            )
        )

    @_changes_stripe
    def schedule_price_change(
        self, subscription_id: str, current_price: str, new_price: str, at: int
    ) -> dict[str, Any]:
        """Move the subscription to ``new_price`` at ``at`` (its period end) through a
        subscription schedule: the current price until then, the new one after."""
        schedule = _plain(
            self._v1().subscription_schedules.create(
                params={"from_subscription": subscription_id},
                options=self._key("schedule", f"{subscription_id}-{at}"),
            )
        )
        start = (schedule.get("current_phase") or {}).get("start_date") or "now"
        return _plain(
            self._v1().subscription_schedules.update(
                schedule["id"],
                params={
                    "end_behavior": "release",
                    "phases": [
                        {"items": [{"price": current_price}], "start_date": start, "end_date": at},
                        {"items": [{"price": new_price}], "start_date": at},
                    ],
                },
                options=self._key("schedule-phases", f"{schedule['id']}-{new_price}-{at}"),
            )
        )

    @_changes_stripe
    def release_schedule(self, schedule_id: str) -> None:
        """Drop a scheduled change; the subscription goes on as it is."""
        self._v1().subscription_schedules.release(schedule_id, options=self._key("release"))

    @_changes_stripe
    def cancel_subscription_now(self, subscription_id: str) -> dict[str, Any]:
        return _plain(self._v1().subscriptions.cancel(subscription_id, options=self._key("cancel")))

    # -- invoices ----------------------------------------------------------------
    @_translated
    def list_invoices(
        self, customer_id: str, limit: int = 12, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The customer's newest invoices, of one ``status`` when given."""
        params: dict[str, Any] = {"customer": customer_id, "limit": limit}
        if status:
            params["status"] = status
        found = self._v1().invoices.list(params=params)
        return [_plain(invoice) for invoice in found.data]

    @_translated
    def retrieve_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The invoice with its payments' PaymentIntents and the subscription it bills
        expanded (one request for all a webhook about it needs)."""
        return self._read("/v1/invoices", invoice_id, [INVOICE_PAYMENT, INVOICE_SUBSCRIPTION])

    @_translated
    def retrieve_charge(self, charge_id: str) -> dict[str, Any]:
        """A charge (a dispute names one; its ``customer`` says whose it was)."""
        return _plain(self._v1().charges.retrieve(charge_id))

    @_changes_stripe
    def pay_invoice(self, invoice_id: str, *, off_session: bool = True) -> dict[str, Any]:
        """Try to collect an open or uncollectible invoice now with the default card.

        ``off_session=False`` when the reader is on the page, so the bank may ask them to
        authenticate (the invoice then waits with a PaymentIntent in ``requires_action``).
        """
        return _plain(
            self._v1().invoices.pay(
                invoice_id,
                params={"off_session": off_session, "expand": [INVOICE_PAYMENT]},
                options=self._key("pay"),
            )
        )

    # -- one-time payments (gifts) ---------------------------------------------------
    @_changes_stripe
    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], idempotency: str
    ) -> dict[str, Any]:
        """A one-time card payment, confirmed by Stripe.js in the buyer's browser (which
        handles 3-D Secure); no customer, nothing saved for later."""
        return _plain(
            self._v1().payment_intents.create(
                params={
                    "amount": amount,
                    "currency": currency,
                    "allowed_payment_method_types": ["card"],
                    "metadata": metadata,
                },
                options=self._key("payment", idempotency),
            )
        )

    @_translated
    def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return _plain(self._v1().payment_intents.retrieve(payment_intent_id))

    # -- the account and its webhook endpoints (going live) -------------------------
    @_translated
    def retrieve_account(self) -> dict[str, Any]:
        """The Stripe account the secret key belongs to."""
        return _plain(self._v1().accounts.retrieve_current())

    @_translated
    def list_webhook_endpoints(self) -> list[dict[str, Any]]:
        found = self._v1().webhook_endpoints.list(params={"limit": 100})
        return [_plain(endpoint) for endpoint in found.data]

    @_changes_stripe
    def create_webhook_endpoint(self, url: str, events: list[str]) -> dict[str, Any]:
        """An endpoint for ``url`` on the pinned API version; its ``secret`` is shown once."""
        return _plain(
            self._v1().webhook_endpoints.create(
                params={
                    "url": url,
                    "enabled_events": events,
                    "api_version": API_VERSION,
                    "description": "Paywall",
                },
                options=self._key("webhook-endpoint"),
            )
        )

    @_changes_stripe
    def update_webhook_endpoint(self, endpoint_id: str, events: list[str]) -> dict[str, Any]:
        """Enable the endpoint and subscribe it to ``events``."""
        return _plain(
            self._v1().webhook_endpoints.update(
                endpoint_id,
                params={"enabled_events": events, "disabled": False},
                options=self._key("webhook-endpoint-update"),
            )
        )

    # -- webhooks ----------------------------------------------------------------
    @staticmethod
    def parse_event(payload: bytes, signature_header: str | None, secret: str) -> dict[str, Any]:
        """Verify a webhook's signature and return the event as a plain dict."""
        if not signature_header:
            raise InvalidSignature("Missing Stripe-Signature header.")
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, signature_header, secret, SIGNATURE_TOLERANCE_SECONDS
            )
            event = json.loads(text)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
            raise InvalidSignature(str(error) or "Bad signature.") from error
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidSignature("The payload is not a Stripe event.")
        return event

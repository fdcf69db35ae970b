"""The one module that imports the Stripe SDK.

Everything else speaks plain dicts (API objects as Stripe shapes them) and the exceptions
of :mod:`billing.errors`. Quirks of the local emulator (``localstripe``) are handled here
and nowhere else; each is marked "emulator:".
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import stripe

from billing.errors import (
    BillingRequestError,
    BillingUnavailable,
    CardDeclined,
    InvalidSignature,
)

# The Stripe API version every request is made with (and the shapes billing.sync reads).
API_VERSION = "2026-10-28.endive"
SIGNATURE_TOLERANCE_SECONDS = 300

P = ParamSpec("P")
T = TypeVar("T")


def _translated(call: Callable[P, T]) -> Callable[P, T]:
    """Turn Stripe SDK errors raised by ``call`` into billing's own exceptions."""

    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(*args, **kwargs)
        except stripe.CardError as error:
            raise CardDeclined(
                error.user_message or "Your card was declined.", code=error.code
            ) from error
        except (
            stripe.APIConnectionError,
            stripe.RateLimitError,
            stripe.APIError,
            stripe.AuthenticationError,
            stripe.PermissionError,
        ) as error:
            raise BillingUnavailable(
                "The payment service is not answering right now. Please try again in a minute."
            ) from error
        except stripe.StripeError as error:
            if error.http_status == 402:
                raise CardDeclined(
                    error.user_message or "Your card was declined.", code=error.code
                ) from error
            raise BillingRequestError(
                error.user_message or str(error), code=error.code or "billing_request_error"
            ) from error

    return wrapper


def _key(prefix: str, natural: str | None = None) -> dict[str, str]:
    """Request options with an idempotency key: ``natural`` when the call has one."""
    return {"idempotency_key": f"paywall-{prefix}-{natural or uuid.uuid4().hex}"}


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict()


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """How to reach Stripe (or the local emulator)."""

    secret_key: str
    api_base: str | None = None  # None: Stripe itself
    timeout_seconds: float = 20.0
    network_retries: int = 2


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
        self.emulated = settings.api_base is not None and "stripe.com" not in settings.api_base
        self.calls = 0  # every request made, so benchmarks can prove the reading path makes none

    def _v1(self) -> Any:
        self.calls += 1
        return self._client.v1

    # -- catalogue ---------------------------------------------------------------
    @_translated
    def upsert_product(self, product_id: str, name: str, description: str) -> dict[str, Any]:
        """Create the Product ``product_id``, or update its name when it exists."""
        params: dict[str, Any] = {"name": name}
        if description:
            params["description"] = description
        try:
            return _plain(
                self._v1().products.update(product_id, params=params, options=_key("product"))
            )
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
        return _plain(
            self._v1().products.create(
                params={"id": product_id, **params}, options=_key("product-create", product_id)
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

    @_translated
    def create_plan(self, plan_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Create a Plan (prices are immutable: a changed amount gets a new plan id)."""
        return _plain(
            self._v1().plans.create(params={"id": plan_id, **params}, options=_key("plan", plan_id))
        )

    @_translated
    def deactivate_plan(self, plan_id: str) -> None:
        """Stop selling ``plan_id``; existing subscriptions keep it."""
        self._v1().plans.update(plan_id, params={"active": False}, options=_key("plan-off"))

    # -- customers and cards -----------------------------------------------------
    @_translated
    def create_customer(self, reader_id: int, email: str) -> dict[str, Any]:
        """Create the reader's customer (idempotent per reader, so a retry makes no twin)."""
        return _plain(
            self._v1().customers.create(
                params={"email": email, "metadata": {"reader_id": str(reader_id)}},
                options=_key("customer", f"reader-{reader_id}"),
            )
        )

    @_translated
    def retrieve_customer(self, customer_id: str) -> dict[str, Any]:
        return _plain(self._v1().customers.retrieve(customer_id))

    @_translated
    def set_default_payment_method(
        self, customer_id: str, payment_method_id: str
    ) -> dict[str, Any]:
        """Make the card the customer's default for every invoice."""
        return _plain(
            self._v1().customers.update(
                customer_id,
                params={"invoice_settings": {"default_payment_method": payment_method_id}},
                options=_key("default-card", f"{customer_id}-{payment_method_id}"),
            )
        )

    @_translated
    def create_setup_intent(self, customer_id: str) -> dict[str, Any]:
        """A SetupIntent to collect a card for later (off-session) renewals."""
        return _plain(
            self._v1().setup_intents.create(
                params={
                    "customer": customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                },
                options=_key("setup"),
            )
        )

    @_translated
    def retrieve_setup_intent(self, setup_intent_id: str) -> dict[str, Any]:
        return _plain(self._v1().setup_intents.retrieve(setup_intent_id))

    @_translated
    def retrieve_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        return _plain(self._v1().payment_methods.retrieve(payment_method_id))

    @_translated
    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> dict[str, Any]:
        """Attach the card to the customer unless a SetupIntent already did."""
        method = _plain(self._v1().payment_methods.retrieve(payment_method_id))
        if method.get("customer") == customer_id:
            return method
        # emulator: confirming a SetupIntent does not attach its card to the customer.
        return _plain(
            self._v1().payment_methods.attach(
                payment_method_id,
                params={"customer": customer_id},
                options=_key("attach", f"{payment_method_id}-{customer_id}"),
            )
        )

    @_translated
    def detach_payment_method(self, payment_method_id: str) -> None:
        try:
            self._v1().payment_methods.detach(payment_method_id, options=_key("detach"))
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:  # already gone
                raise

    @_translated
    def list_cards(self, customer_id: str) -> list[dict[str, Any]]:
        found = self._v1().payment_methods.list(params={"customer": customer_id, "type": "card"})
        return [_plain(method) for method in found.data]

    # -- subscriptions -----------------------------------------------------------
    @_translated
    def create_subscription(
        self, customer_id: str, plan_id: str, trial_days: int, idempotency: str
    ) -> dict[str, Any]:
        """Subscribe the customer to ``plan_id``; paid by the customer's default card.

        No subscription-level default payment method is set, so a later card update on
        the customer pays every subscription.
        """
        params: dict[str, Any] = {
            "customer": customer_id,
            "items": [{"plan": plan_id}],
            "payment_behavior": "allow_incomplete",
            "expand": ["latest_invoice"],
        }
        if trial_days:
            params["trial_period_days"] = trial_days
        return _plain(
            self._v1().subscriptions.create(params=params, options=_key("subscribe", idempotency))
        )

    @_translated
    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return _plain(
            self._v1().subscriptions.retrieve(
                subscription_id, params={"expand": ["latest_invoice"]}
            )
        )

    @_translated
    def list_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        found = self._v1().subscriptions.list(params={"customer": customer_id, "status": "all"})
        return [_plain(subscription) for subscription in found.data]

    @_translated
    def update_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return _plain(
            self._v1().subscriptions.update(
                subscription_id,
                params={**params, "expand": ["latest_invoice"]},
                options=_key("subscription-update"),
            )
        )

    @_translated
    def cancel_subscription_now(self, subscription_id: str) -> dict[str, Any]:
        return _plain(self._v1().subscriptions.cancel(subscription_id, options=_key("cancel")))

    # -- invoices ----------------------------------------------------------------
    @_translated
    def list_invoices(self, customer_id: str, limit: int = 12) -> list[dict[str, Any]]:
        # emulator: no ``status`` filter, so callers filter the list themselves.
        found = self._v1().invoices.list(params={"customer": customer_id, "limit": limit})
        return [_plain(invoice) for invoice in found.data]

    @_translated
    def payment_intent_of_invoice(self, invoice_id: str) -> dict[str, Any] | None:
        """The PaymentIntent collecting an invoice (None before the first attempt)."""
        # Current API versions list payments on the invoice; the emulator (and versions
        # before 2025-03-31) name the PaymentIntent on the invoice itself.
        params = {} if self.emulated else {"expand": ["payments"]}
        invoice = _plain(self._v1().invoices.retrieve(invoice_id, params=params))
        intent_id = invoice.get("payment_intent")
        for payment in (invoice.get("payments") or {}).get("data") or []:
            intent_id = intent_id or (payment.get("payment") or {}).get("payment_intent")
        if isinstance(intent_id, dict):
            return intent_id
        if not intent_id:
            return None
        return _plain(self._v1().payment_intents.retrieve(intent_id))

    @_translated
    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """Try to collect an open invoice now, with the customer's default card."""
        return _plain(self._v1().invoices.pay(invoice_id, options=_key("pay")))

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

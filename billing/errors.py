"""Billing's own exceptions: the gateway turns every Stripe error into one of these."""

from __future__ import annotations


class BillingError(Exception):
    """Base of every billing failure; ``code`` is a stable machine-readable string."""

    code = "billing_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or "").strip()
        if code:
            self.code = code


class CardDeclined(BillingError):
    """The card was declined."""

    code = "card_declined"


class BillingUnavailable(BillingError):
    """Stripe could not be reached or answered with a server error; try again shortly."""

    code = "billing_unavailable"


class BillingOutcomeUnknown(BillingUnavailable):
    """A call that changes something failed after it may have reached Stripe (a timeout,
    a reset connection, a server error): Stripe may have acted. Re-read, never assume."""

    code = "billing_outcome_unknown"


class BillingRequestError(BillingError):
    """Stripe refused the request (an unknown object, a bad parameter)."""

    code = "billing_request_error"


class InvalidSignature(BillingError):
    """The webhook's Stripe-Signature header did not verify."""

    code = "invalid_signature"


class BillingStateError(BillingError):
    """The request does not fit the reader's billing state (e.g. already subscribed)."""

    code = "billing_state"

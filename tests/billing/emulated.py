"""Talk to the Stripe emulator the way Stripe.js and Stripe's own machinery would.

What the browser does (confirm a card on a SetupIntent) and what Stripe does on its own
clock (bill a renewal) are not app code, so tests do them here, over HTTP, as the real
parties would. Emulator quirks the tests rely on are noted where used.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from billing.emulator import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, Emulator

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined
ALWAYS_AUTHENTICATE = "4000002760003184"  # every charge asks for 3-D Secure


class EmulatorRefused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class StripeSide:
    """The emulator seen from the browser (publishable key) and from Stripe's back office."""

    emulator: Emulator

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None, key: str
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.emulator.api_base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise EmulatorRefused(error.code, json.loads(error.read() or b"{}")) from error

    def get(self, path: str) -> dict[str, Any]:
        return self._call("GET", path, None, EMULATOR_SECRET_KEY)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", path, body or {}, EMULATOR_SECRET_KEY)

    # -- what Stripe.js does in the reader's browser ---------------------------------
    def confirm_card_setup(
        self, client_secret: str, number: str = VISA, exp: tuple[int, int] = (12, 2030)
    ) -> str:
        """Confirm a SetupIntent with a card, as ``stripe.confirmCardSetup`` does; its id."""
        setup_intent_id = client_secret.split("_secret_")[0]
        card = {"number": number, "exp_month": exp[0], "exp_year": exp[1], "cvc": "123"}
        body = {
            "key": EMULATOR_PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data": {"type": "card", "card": card},
        }
        path = f"/v1/setup_intents/{setup_intent_id}/confirm"
        intent = self._call("POST", path, body, EMULATOR_PUBLISHABLE_KEY)
        if intent["status"] == "requires_action":  # the reader completes 3-D Secure
            again = {"key": EMULATOR_PUBLISHABLE_KEY, "client_secret": client_secret}
            self._call("POST", path, again, EMULATOR_PUBLISHABLE_KEY)
        return setup_intent_id

    def authenticate_payment(self, client_secret: str, success: bool) -> dict[str, Any]:
        """Pass or fail the 3-D Secure challenge, as ``stripe.confirmCardPayment`` does."""
        intent = client_secret.split("_secret_")[0]
        body = {"key": EMULATOR_PUBLISHABLE_KEY, "client_secret": client_secret}
        flag = "true" if success else "false"
        return self._call(
            "POST", f"/v1/payment_intents/{intent}/_authenticate?success={flag}", body,
            EMULATOR_PUBLISHABLE_KEY,
        )  # fmt: skip

    # -- what Stripe does on its own ---------------------------------------------------
    def add_default_card(self, customer_id: str, number: str) -> str:
        """A card put on file outside the paywall (e.g. the Stripe dashboard)."""
        card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        method = self.post("/v1/payment_methods", {"type": "card", "card": card})
        self.post(f"/v1/payment_methods/{method['id']}/attach", {"customer": customer_id})
        self.post(
            f"/v1/customers/{customer_id}",
            {"invoice_settings": {"default_payment_method": method["id"]}},
        )
        return method["id"]

    def bill_renewal(self, customer_id: str, subscription_id: str) -> dict[str, Any]:
        """Create and try to collect the next invoice, as Stripe does at a period's end.

        The emulator has no clock, so the renewal is an invoice created and paid now.
        """
        invoice = self.post(
            "/v1/invoices", {"customer": customer_id, "subscription": subscription_id}
        )
        return self.post(f"/v1/invoices/{invoice['id']}/pay")

    def fail_renewal(self, customer_id: str, subscription_id: str) -> dict[str, Any]:
        """A renewal whose payment fails, with Stripe's ``invoice.payment_failed`` event.

        Emulator quirk: a plain declined charge on a renewal neither emits the event nor
        moves the subscription to ``past_due``; a failed 3-D Secure challenge does both,
        so the card on file is swapped for one that always asks, and the challenge fails
        (as it does off-session, with no reader present to answer it).
        """
        self.add_default_card(customer_id, ALWAYS_AUTHENTICATE)
        invoice = self.bill_renewal(customer_id, subscription_id)
        intent = self.get(f"/v1/payment_intents/{invoice['payment_intent']}")
        self.authenticate_payment(intent["client_secret"], success=False)
        return self.get(f"/v1/invoices/{invoice['id']}")


def let_stripe_catch_up(seconds: float = 2.2) -> None:
    """Let the emulator deliver the events of what just happened (it sends them ~1 s late),
    and let the clock move on: Stripe stamps events to the second, and a renewal a month
    later never shares a second with the subscription's own events."""
    time.sleep(seconds)


def wait_for(check: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy (webhooks arrive ~1 s late)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(interval)

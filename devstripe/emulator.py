"""Run the local Stripe emulator (``localstripe``) as a separate process.

The emulator is a development dependency (GPL): it is started as its own process and
spoken to over HTTP, never imported. It also serves a stand-in Stripe.js at
``/js.stripe.com/v3/`` whose card "Element" is plain inputs, so the card form works
offline. Used by ``paywall demo`` and by the test suite.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMULATOR_SECRET_KEY = "sk_test_paywall_emulator"  # noqa: S105 (the emulator accepts any key)
EMULATOR_PUBLISHABLE_KEY = "pk_test_paywall_emulator"

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined
ALWAYS_AUTHENTICATE = "4000002760003184"  # every charge asks for 3-D Secure


# localstripe posts each event this long after it happens, to the endpoints registered then.
WEBHOOK_DELAY_SECONDS = 1.0


class EmulatorError(RuntimeError):
    """The emulator could not be started or configured."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_base_for(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def stripe_js_for(port: int) -> str:
    return f"{api_base_for(port)}/js.stripe.com/v3/"


@dataclass
class Emulator:
    """A running emulator process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def api_base(self) -> str:
        return api_base_for(self.port)

    @property
    def stripe_js_url(self) -> str:
        return stripe_js_for(self.port)

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        """Have the emulator sign events with ``secret`` and POST them to ``url``."""
        body = json.dumps({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback http URL)
            f"{self.api_base}/_config/webhooks/{name}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (loopback URL)
                pass
        except (urllib.error.URLError, OSError) as error:
            raise EmulatorError(
                f"could not register the webhook with the emulator: {error}"
            ) from error

    def let_deliveries_pass(self) -> None:
        """Wait until every event so far has been posted (to the endpoints registered at
        the time), so that an endpoint registered next receives only later events."""
        time.sleep(WEBHOOK_DELAY_SECONDS + 0.5)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the process (its state is kept only in memory and a scratch file)."""
        if self.is_running():
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def is_answering(port: int) -> bool:
    """True when an emulator answers API requests on ``port``."""
    request = urllib.request.Request(  # noqa: S310 (loopback http URL)
        f"{api_base_for(port)}/v1/plans?limit=1",
        headers={"Authorization": f"Bearer {EMULATOR_SECRET_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_emulator(
    port: int | None = None, log_path: Path | None = None, timeout: float = 20
) -> Emulator:
    """Start ``localstripe`` on ``port`` (a free one by default) and wait until it answers."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if log_path:
            log.close()  # type: ignore[union-attr]
    emulator = Emulator(port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not emulator.is_running():
            raise EmulatorError(
                "the Stripe emulator exited at start; is localstripe installed "
                "(pip install -e '.[dev]')?"
            )
        if is_answering(port):
            return emulator
        time.sleep(0.1)
    emulator.stop()
    raise EmulatorError(f"the Stripe emulator did not answer on port {port} within {timeout}s")


class EmulatorRefused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class EmulatorClient:
    """The emulator seen from the browser (publishable key) and from Stripe's back office.

    Does what is not the app's to do: confirm a card as Stripe.js would, and bill a
    renewal as Stripe's clock would. Used by the demo seeding and by the tests.
    """

    api_base: str

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None, key: str
    ) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback http URL)
            f"{self.api_base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
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

"""Run the development stand-in for Stripe: ``localstripe`` behind the adapter.

``start_emulator`` starts two processes: ``localstripe`` (the PyPI emulator, GPL, so a
development dependency run as its own process and never imported) on an internal port,
and the adapter (:mod:`devstripe.adapter`) in front of it on the public one, which
answers as Stripe does for the pinned API version. The adapter also serves the
stand-in Stripe.js at ``/endive/stripe.js`` (its card "Element" is plain inputs, so the
card form works offline). Used by ``paywall demo`` and by the test suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EMULATOR_SECRET_KEY = "sk_test_paywall_emulator"  # noqa: S105 (the emulator accepts any key)
EMULATOR_PUBLISHABLE_KEY = "pk_test_paywall_emulator"

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined
ALWAYS_AUTHENTICATE = "4000002760003184"  # every charge asks for 3-D Secure

# localstripe posts each event this long after it happens; the adapter passes it on at once.
WEBHOOK_DELAY_SECONDS = 1.0
# Marks requests made by the stand-ins for Stripe's side (Stripe.js, the dashboard, the
# clock): the adapter holds only the product's requests to the API contract.
TOOLING_HEADER = "Devstripe-Tooling"
# The folder holding the devstripe package, so the adapter runs the caller's own code.
_CODE_ROOT = str(Path(__file__).resolve().parent.parent)


class EmulatorError(RuntimeError):
    """The emulator could not be started or configured."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether nothing listens on loopback ``port`` (a stand-in must never reuse a stale one)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def api_base_for(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def stripe_js_for(port: int) -> str:
    """Stripe.js of the pinned release (``https://js.stripe.com/endive/stripe.js``), offline."""
    return f"{api_base_for(port)}/endive/stripe.js"


def _control(
    base: str, method: str, path: str, body: Any = None, timeout: float = 5
) -> dict[str, Any]:
    """Call one of the adapter's ``/_adapter`` controls."""
    request = urllib.request.Request(  # noqa: S310 (loopback http URL)
        f"{base}/_adapter/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise EmulatorError(f"{method} /_adapter/{path}: {error.code} {error.read()!r}") from error
    except (urllib.error.URLError, OSError) as error:
        raise EmulatorError(f"{method} /_adapter/{path}: {error}") from error


@dataclass
class Emulator:
    """A running emulator: the adapter (``process``) in front of localstripe (``upstream``)."""

    port: int
    process: subprocess.Popen[bytes]
    upstream: subprocess.Popen[bytes]
    # The adapter's violations as it stopped (it keeps them in memory only).
    violations_at_stop: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api_base(self) -> str:
        return api_base_for(self.port)

    @property
    def stripe_js_url(self) -> str:
        return stripe_js_for(self.port)

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        """Send every event to ``url`` too, signed with ``secret`` (``name`` replaces)."""
        _control(self.api_base, "POST", f"webhooks/{name}", {"url": url, "secret": secret})

    def forget_webhook(self, name: str) -> None:
        """Send events under ``name`` no more (they no longer count in ``pending_webhooks``)."""
        _control(self.api_base, "DELETE", f"webhooks/{name}")

    def let_deliveries_pass(self, timeout: float = 15) -> None:
        """Wait until every event so far has been posted (to the endpoints registered at
        the time), so that an endpoint registered next receives only later events."""
        _control(
            self.api_base, "POST", f"deliveries/wait?timeout={timeout}", {}, timeout=timeout + 5
        )

    def violations(self) -> list[dict[str, Any]]:
        """Requests the product made that Stripe would refuse (see ``devstripe.contract``)."""
        if self.process.poll() is not None:  # the adapter has stopped
            return self.violations_at_stop
        return _control(self.api_base, "GET", "violations")["data"]

    def clear_violations(self) -> None:
        _control(self.api_base, "DELETE", "violations")

    def forget_idempotency_keys(self) -> None:
        """As a new installation would: keys of earlier requests no longer replay."""
        _control(self.api_base, "DELETE", "idempotency-keys")

    def overlay(
        self, object_id: str, fields: dict[str, Any], upstream: dict[str, Any] | None = None
    ) -> None:
        """Show ``fields`` in every answer naming the object, while localstripe's own copy
        has the ``upstream`` values: a state localstripe cannot reach (a paused subscription)."""
        _control(
            self.api_base, "POST", f"overlays/{object_id}", {"fields": fields, "upstream": upstream}
        )

    def is_running(self) -> bool:
        return self.process.poll() is None and self.upstream.poll() is None

    def stop(self) -> None:
        """Stop both processes (their state is kept only in memory and a scratch file)."""
        if self.process.poll() is None:
            with contextlib.suppress(EmulatorError):  # it died: no violations to keep
                self.violations_at_stop = self.violations()
        for process in (self.process, self.upstream):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


# Every emulator started in this process, so a test run can check them all at its end.
started: list[Emulator] = []


def is_answering(port: int) -> bool:
    """True when the adapter answers on ``port`` (it does once localstripe is there too)."""
    try:
        _control(api_base_for(port), "GET", "health", timeout=1)
    except EmulatorError:
        return False
    return True


def start_emulator(
    port: int | None = None,
    log_path: Path | None = None,
    timeout: float = 20,
    strict: bool = True,
) -> Emulator:
    """Start localstripe and the adapter on ``port`` (a free one by default); wait for both.

    ``strict=False`` has the adapter record, not refuse, requests Stripe would refuse, and
    keep localstripe's old fields next to the pinned version's (for a product still
    speaking the old shapes).
    """
    port = port or free_port()
    if not port_is_free(port):
        raise EmulatorError(
            f"port {port} is taken: a Stripe stand-in left by an earlier run may still be "
            "there (stop it) or another program uses the port"
        )
    upstream_port = free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    paths = (_CODE_ROOT, os.environ.get("PYTHONPATH"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    commands = (
        [sys.executable, "-m", "localstripe", "--port", str(upstream_port), "--from-scratch"],
        [
            sys.executable, "-m", "devstripe.adapter", "--port", str(port),
            "--upstream", api_base_for(upstream_port), "--strict" if strict else "--no-strict",
        ],
    )  # fmt: skip
    try:
        upstream, adapter = (
            subprocess.Popen(  # noqa: S603 (fixed arguments)
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
            for command in commands
        )
    finally:
        if log_path:
            log.close()  # type: ignore[union-attr]
    emulator = Emulator(port, adapter, upstream)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not emulator.is_running():
            emulator.stop()
            raise EmulatorError(
                "the Stripe emulator exited at start; is localstripe installed "
                "(pip install -e '.[dev]')? Its log says more."
            )
        if is_answering(port):
            started.append(emulator)
            return emulator
        time.sleep(0.05)
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
    renewal as Stripe's clock would. Used by the demo seeding and by the tests. Its
    requests are marked as the tooling's, so the adapter does not hold them to the
    contract it holds the product to.
    """

    api_base: str

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None, key: str
    ) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (loopback http URL)
            f"{self.api_base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                TOOLING_HEADER: "1",
            },
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

    def confirm_card_payment(
        self, client_secret: str, number: str = VISA, authenticate: bool = True
    ) -> dict[str, Any]:
        """Pay a PaymentIntent with a card, as ``stripe.confirmCardPayment`` does (a bank
        asking for 3-D Secure is answered ``authenticate``); the intent. A decline raises
        :class:`EmulatorRefused` (402)."""
        intent_id = client_secret.split("_secret_")[0]
        card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        body = {
            "key": EMULATOR_PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data": {"type": "card", "card": card},
        }
        path = f"/v1/payment_intents/{intent_id}/confirm"
        intent = self._call("POST", path, body, EMULATOR_PUBLISHABLE_KEY)
        if intent["status"] == "requires_action":
            intent = self.authenticate_payment(client_secret, authenticate)
        return intent

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

        localstripe has no clock, so the renewal is an invoice created and paid now (its
        ``billing_reason`` is ``subscription_cycle``); the invoice, whether paid or not.
        """
        return self.post(f"/_adapter/subscriptions/{subscription_id}/renew")

    def payment_intent_of(self, invoice_id: str) -> dict[str, Any] | None:
        """The PaymentIntent collecting the invoice (the pinned version lists payments)."""
        path = f"/v1/invoices/{invoice_id}?expand[]=payments.data.payment.payment_intent"
        payments = self.get(path)["payments"]["data"]
        return payments[0]["payment"]["payment_intent"] if payments else None

    def fail_renewal(self, customer_id: str, subscription_id: str) -> dict[str, Any]:
        """A renewal whose payment fails, with Stripe's ``invoice.payment_failed`` event.

        Emulator quirk: a plain declined charge on a renewal neither emits the event nor
        moves the subscription to ``past_due``; a failed 3-D Secure challenge does both,
        so the card on file is swapped for one that always asks, and the challenge fails
        (as it does off-session, with no reader present to answer it).
        """
        self.add_default_card(customer_id, ALWAYS_AUTHENTICATE)
        invoice = self.bill_renewal(customer_id, subscription_id)
        intent = self.payment_intent_of(invoice["id"])
        if intent is None:
            raise EmulatorError(f"the renewal {invoice['id']} was not attempted")
        self.authenticate_payment(intent["client_secret"], success=False)
        return self.get(f"/v1/invoices/{invoice['id']}")

    # -- states localstripe cannot reach, held by the adapter (devstripe.states) -----------
    def renewal(
        self, subscription_id: str, decline: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The period ends: Stripe invoices the next one and collects it off-session, with
        Stripe's outcome (paid; ``past_due`` and waiting for 3-D Secure; declined) and its
        events. ``decline``: the bank's answer (``message``, ``decline_code``)."""
        body = {"decline": decline} if decline else {}
        return self.post(f"/_adapter/subscriptions/{subscription_id}/renewal", body)

    def put_card_on_file(self, customer_id: str, number: str) -> str:
        """A card made the customer's default outside the paywall (the dashboard), with
        the ``payment_method.attached`` Stripe sends (localstripe sends ``customer.updated``
        only); its id."""
        method_id = self.add_default_card(customer_id, number)
        self.send_event("payment_method.attached", method_id)
        return method_id

    def renew_needing_authentication(
        self, customer_id: str, subscription_id: str
    ) -> dict[str, Any]:
        """A renewal the bank wants the reader to authenticate (3-D Secure), with nobody
        there to do it: the invoice waits, ``invoice.payment_action_required`` is sent.
        The card on file becomes one that always asks."""
        self.put_card_on_file(customer_id, ALWAYS_AUTHENTICATE)
        return self.renewal(subscription_id)

    def decline_renewal(
        self,
        customer_id: str,
        subscription_id: str,
        message: str = "Your card has insufficient funds.",
        decline_code: str = "insufficient_funds",
    ) -> dict[str, Any]:
        """A renewal the bank declines, saying ``message``: ``invoice.payment_failed``.
        The card on file becomes one whose every charge is declined."""
        self.put_card_on_file(customer_id, DECLINED_ON_CHARGE)
        decline = {"message": message, "decline_code": decline_code}
        return self.renewal(subscription_id, decline)

    def exhaust_retries(
        self, subscription_id: str, then: str = "unpaid", invoice: str = "uncollectible"
    ) -> dict[str, Any]:
        """Stripe gives up collecting the latest invoice: the subscription becomes ``then``
        (``unpaid``, ``paused``, ``canceled`` or ``past_due``), the invoice ``invoice``
        (``uncollectible`` or ``open``), as the account's settings say."""
        path = f"/_adapter/subscriptions/{subscription_id}/retries-exhausted"
        return self.post(path, {"then": then, "invoice": invoice})

    def pause(self, subscription_id: str) -> dict[str, Any]:
        """Pause the subscription as the publisher does in the dashboard (``pause_requested``)."""
        return self.post(f"/v1/subscriptions/{subscription_id}/pause")

    def charge_of(self, invoice_id: str) -> str:
        """The charge that paid the invoice."""
        intent = self.payment_intent_of(invoice_id)
        charge = (intent or {}).get("latest_charge")
        if not charge:
            raise EmulatorError(f"the invoice {invoice_id} has no charge")
        # An id, or (localstripe's way, which the adapter passes on) the charge itself.
        return str(charge["id"] if isinstance(charge, dict) else charge)

    def dispute(self, charge_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        """The cardholder disputes the charge: ``charge.dispute.created``; the Dispute."""
        return self.post(f"/_adapter/charges/{charge_id}/dispute", {"reason": reason})

    def refund(self, charge_id: str) -> dict[str, Any]:
        """Refund the charge in full, as from the dashboard: ``charge.refunded``."""
        return self.post("/v1/refunds", {"charge": charge_id})

    def send_event(self, event_type: str, object_id: str) -> dict[str, Any]:
        """Stripe sends ``event_type`` about the object as it is now (e.g. after a change
        made in the dashboard, or a trial's end three days ahead); the event."""
        return self.post("/_adapter/events", {"type": event_type, "object": object_id})

    def lose_answers(
        self, method: str, path: str, how: str = "cut", times: int = 1
    ) -> dict[str, Any]:
        """The next ``times`` requests matching ``method`` and ``path`` (a regular
        expression for the whole path) are done, and then their answer is lost: the
        connection is cut (``cut``) or a 500 comes back (``error``)."""
        body = {"method": method, "path": path, "how": how, "times": times}
        return self.post("/_adapter/losses", body)

    def forget_losses(self) -> None:
        self._call("DELETE", "/_adapter/losses", None, EMULATOR_SECRET_KEY)

"""The Stripe side of ``paywall demo``: the stand-in started beside the app, and the demo's
subscribers in each billing state, made through the real billing code against it.

The demo command is the one place in ``paywall/`` that reaches here (the architecture test
holds it to that); the app itself only sees ``STRIPE_API_BASE`` pointing at the stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from devstripe.emulator import (
    EMULATOR_SECRET_KEY,
    Emulator,
    EmulatorClient,
    EmulatorError,
    start_emulator,
)


class StandInError(RuntimeError):
    """The stand-in could not be started or configured."""


@dataclass
class StripeStandIn:
    """localstripe behind the adapter, serving the demo app."""

    app: Flask
    emulator: Emulator

    @classmethod
    def start_for(cls, app: Flask) -> StripeStandIn | None:
        """Start it for ``app`` and point the app at it; None when real keys are set."""
        config = app.config
        if config["STRIPE_SECRET_KEY"] != EMULATOR_SECRET_KEY:
            return None
        instance = Path(app.instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        port = config["STRIPE_EMULATOR_PORT"]
        try:
            emulator = start_emulator(port, log_path=instance / "localstripe.log", strict=True)
        except EmulatorError as error:
            raise StandInError(f"{error} (port {port})") from error
        config["STRIPE_API_BASE"], config["STRIPE_JS_URL"] = (
            emulator.api_base,
            emulator.stripe_js_url,
        )
        app.extensions.pop("stripe_gateway", None)  # built again on the new address
        return cls(app, emulator)

    @property
    def api_base(self) -> str:
        return self.emulator.api_base

    def seed_subscribers(self) -> list[tuple[str, str]]:
        """The demo's subscribers in every billing state; (email, what) for each."""
        from devstripe.demo_billing import BILLING_STATES, seed_billing
        from paywall.demo.seed import ensure_reader

        seed_billing(EmulatorClient(self.api_base), ensure_reader)
        return [(state.email, state.what) for state in BILLING_STATES]

    def send_webhooks_to(self, url: str) -> None:
        """Post webhooks to ``url`` for events after the seeding only.

        The seeding writes each subscriber's state from Stripe's answers and then dates
        their failed renewals back (the stand-in has no clock); its own events, posted once
        the site is up, would undo that (lapsed@ would read as paid up again).
        """
        try:
            self.emulator.let_deliveries_pass()
            self.emulator.register_webhook(
                "paywall-demo", url, self.app.config["STRIPE_WEBHOOK_SECRET"]
            )
        except EmulatorError as error:
            raise StandInError(str(error)) from error

    def stop(self) -> None:
        self.emulator.stop()

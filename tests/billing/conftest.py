"""Billing against the real Stripe emulator (``localstripe`` behind the devstripe adapter,
started once per run), and an app served on a live port so the emulator's signed
webhooks reach it over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from webtest import TestApp

from billing.catalog import PlanInput, save_plan, sync_catalog
from devstripe.emulator import (
    EMULATOR_PUBLISHABLE_KEY,
    EMULATOR_SECRET_KEY,
    Emulator,
    start_emulator,
)
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.actors import Subscriber
from tests.billing.emulated import StripeSide
from tests.conftest import free_port
from tests.factories import ArticleFactory, ReaderFactory
from tests.live import serving

WEBHOOK_NAME = "paywall-tests"
NOWHERE = "http://127.0.0.1:9/"  # the discard port: refused at once

DEMO_PLANS = (
    PlanInput(code="monthly", name="Monthly", tier="standard", amount=900),
    PlanInput(code="yearly", name="Yearly", tier="standard", amount=9000, interval="year"),
    PlanInput(code="premium", name="Premium", tier="premium", amount=1900),
)


def start_stand_in(log: Path) -> Emulator:
    """localstripe behind the adapter: a request Stripe would refuse is refused (and the
    run fails at its end, see tests/conftest.py); answers carry only the pinned shapes."""
    return start_emulator(log_path=log, strict=True)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The Stripe emulator, started once per run (a dev dependency: never skipped)."""
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    running = start_stand_in(log)
    yield running
    running.stop()


@pytest.fixture
def stripe_side(emulator: Emulator) -> StripeSide:
    return StripeSide(emulator.api_base)


def stripe_settings(emulator: Emulator, webhook_secret: str) -> dict[str, Any]:
    return {
        "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": EMULATOR_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "STRIPE_API_BASE": emulator.api_base,
        "STRIPE_JS_URL": emulator.stripe_js_url,
        "STRIPE_NETWORK_RETRIES": 0,
        "STRIPE_TIMEOUT_SECONDS": 5,
    }


@dataclass
class LiveBilling:
    """The app on a live port, wired to the emulator, with the plans synced."""

    app: Flask
    twin: Flask  # same settings and database, for the test's own queries (see app_ctx)
    url: str
    webhook_secret: str
    emulator: Emulator

    def subscriber(self, email: str | None = None, **fields: Any) -> Subscriber:
        """A new signed-in reader with a browser of their own."""
        with self.twin.app_context():
            reader = ReaderFactory(**({"email": email} if email else {}), **fields)
            address = reader.email
        actor = Subscriber(TestApp(self.app), StripeSide(self.emulator.api_base), address)
        actor.sign_in()
        return actor

    def newcomer(self, email: str = "newcomer@example.com") -> Subscriber:
        """A browser with no account behind it yet (``email`` has none unless made)."""
        return Subscriber(TestApp(self.app), StripeSide(self.emulator.api_base), email)

    def article(self, **fields: Any) -> str:
        """A published article (paid by default); its slug."""
        with self.twin.app_context():
            return ArticleFactory(**fields).slug

    def query(self, function: Any, *args: Any) -> Any:
        """Run ``function(session, *args)`` against the database, outside any request."""
        with self.twin.app_context():
            return function(db.session, *args)


def put_plans_on_sale(app: Flask) -> None:
    """The demo plans, saved and synced to the app's Stripe."""
    with app.app_context():
        for plan in DEMO_PLANS:
            save_plan(db.session, plan)
        sync_catalog(db.session, gateway())


@pytest.fixture
def billing_app(make_app: Any, emulator: Emulator, mailbox: Any) -> Iterator[LiveBilling]:
    """The app, served live, receiving the emulator's webhooks; demo plans on sale."""
    secret = "whsec_" + secrets.token_hex(16)
    port = free_port()
    settings = {**stripe_settings(emulator, secret), "BASE_URL": f"http://127.0.0.1:{port}"}
    app = make_app(**settings)
    twin = make_app(**settings)
    with serving(app, "127.0.0.1", port) as url:
        emulator.register_webhook(WEBHOOK_NAME, f"{url}/stripe/webhook", secret)
        put_plans_on_sale(app)
        try:
            yield LiveBilling(app, twin, url, secret, emulator)
        finally:
            # Late events of this test must not reach the next test's server.
            emulator.register_webhook(WEBHOOK_NAME, NOWHERE, secret)

"""Shared fixtures: a fresh app per test on a migrated database, a real SMTP server,
and helpers that act like the people who use the site.

The database is SQLite unless ``PAYWALL_TEST_DATABASE_URL`` names another (CI sets it
to the local PostgreSQL). The schema is built once per run through the Alembic
migrations, and every table is emptied after each test.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from webtest import TestApp

from devstripe.emulator import free_port
from paywall import create_app
from paywall.extensions import db
from paywall.jobs import job_queue
from tests.draining import drain_after_each_request
from tests.redis_queue import redis_queue  # noqa: F401  (a fixture for the job queue's tests)

TEST_DATABASE_URL = os.environ.get("PAYWALL_TEST_DATABASE_URL", "").strip()
DEMO_PASSWORD = "correct horse battery"


def pytest_report_header(config: pytest.Config) -> str:
    where = TEST_DATABASE_URL or "SQLite (set PAYWALL_TEST_DATABASE_URL for PostgreSQL)"
    return f"paywall database: {where}"


@pytest.fixture(scope="session", autouse=True)
def stripe_would_take_every_request() -> Iterator[None]:
    """Fail the run if the product sent the Stripe emulator anything Stripe would refuse.

    The emulator's adapter checks each request against the pinned SDK's contract; it
    may have recorded a request and let it through (see ``start_emulator(strict=...)``),
    so every emulator this run started is asked at the end.
    """
    yield
    from devstripe.emulator import started

    refused: dict[tuple[str, str], list[str]] = {}  # (method, why): the requests
    for emulator in started:
        for violation in emulator.violations():
            why = (violation.get("error") or {}).get("message") or str(violation.get("error"))
            request = f"{violation['method']} {violation['path']} {violation['params']}"
            refused.setdefault((violation["method"], why), []).append(request)
    if refused:
        listing = "\n".join(
            f"  {why} ({len(requests)} times), e.g. {requests[0]}"
            for (_, why), requests in refused.items()
        )
        total = sum(len(requests) for requests in refused.values())
        pytest.fail(f"Stripe would refuse {total} request(s) the product made:\n{listing}")


@pytest.fixture(autouse=True)
def new_installation_at_stripe(request: pytest.FixtureRequest) -> None:
    """Each test is a new installation (its database starts empty, so reader ids repeat):
    idempotency keys of earlier tests, which Stripe keeps for a day, must not replay."""
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").forget_idempotency_keys()


# --- a real SMTP server on loopback -------------------------------------------------


@dataclass
class Mailbox:
    """Messages delivered to the test SMTP server, newest last."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address``."""
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def last_to(self, address: str, timeout: float = 10.0) -> EmailMessage:
        """The newest message to ``address``, waiting for one to arrive: the worker
        delivers mail after the response (a live server drains the job queue then)."""
        deadline = time.monotonic() + timeout
        while not (found := self.to(address)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert found, f"no email was delivered to {address}"
        return found[-1]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    def link_to(self, address: str, path_fragment: str) -> str:
        """The first URL in the newest message to ``address`` that contains ``path_fragment``."""
        text = self.text_of(self.last_to(address))
        for url in re.findall(r"https?://\S+", text):
            if path_fragment in url:
                return url
        raise AssertionError(f"no link containing {path_fragment!r} in:\n{text}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox]) -> Iterator[Mailbox]:
    _, box = smtp_server
    box.clear()
    yield box
    box.clear()


# --- the database --------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in a temporary folder, or a database of this run's own on the PostgreSQL
    server ``PAYWALL_TEST_DATABASE_URL`` names (so runs side by side never collide)."""
    if TEST_DATABASE_URL:
        from tests.databases import scratch_postgres_database

        with scratch_postgres_database(TEST_DATABASE_URL, "test") as url:
            yield url
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'paywall-test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once per run through the real migrations."""
    from flask_migrate import upgrade

    app = create_app(base_test_config(database_url, tmp_path_factory.mktemp("instance"), 0))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def base_test_config(database_url: str, instance: Path, smtp_port: int) -> dict[str, Any]:
    return {
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "SERVER_NAME": None,
        "BASE_URL": "http://paywall.test",
        "RATELIMIT_ENABLED": False,
        # The caches stay on, as in production.
        "RATELIMIT_STORAGE_URI": "memory://",
        # A job that fails is not retried (tests that retry say so): the queue drains.
        "JOB_MAX_RETRIES": 0,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_USE_TLS": False,
        # Cheap argon2 parameters: the hashing code is the same, only slower in production.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        # A demo a test starts never takes the port of a developer's own demo.
        "STRIPE_EMULATOR_PORT": free_port(),
    }


def empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def make_app(
    migrated_database: str,
    smtp_server: tuple[Controller, Mailbox],
    tmp_path: Path,
) -> Iterator[Any]:
    """Build an app with extra settings; the tables are emptied after the test."""
    controller, _ = smtp_server
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = base_test_config(migrated_database, tmp_path / "instance", controller.port)
        config.update(overrides)
        app = drain_after_each_request(create_app(config))
        apps.append(app)
        return app

    yield build
    for app in apps:
        job_queue(app).stop_worker()
        with app.app_context():
            empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any, mailbox: Mailbox) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def browser_for(app: Flask) -> TestApp:
    """A WebTest browser that fills in and submits the real HTML forms."""
    return TestApp(app)


@pytest.fixture
def web(app: Flask) -> TestApp:
    return browser_for(app)


@pytest.fixture
def app_ctx(app: Flask, make_app: Any) -> Iterator[Flask]:
    """An app context for the test's own database work.

    It belongs to a twin app on the same database: were it ``app``'s own, Flask would
    reuse it for every request the test makes, sharing ``g`` (and the signed-in user
    Flask-Login caches there) between requests as no real server does.
    """
    twin = make_app()
    with twin.app_context():
        yield twin

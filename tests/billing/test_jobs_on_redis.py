"""The job queue with a real worker process on Redis: jobs wait while no worker runs,
and a worker killed mid-job (``kill -9``) leaves its job to the next worker, which sends
the failed-payment email once.

The web app and ``paywall worker`` run as in production: the app queues each webhook
event in Redis, the worker (its own process, production settings) applies it and sends
the emails it owes over real SMTP.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import select

from billing.models import Invoice
from tests.billing.conftest import (
    NOWHERE,
    WEBHOOK_NAME,
    LiveBilling,
    put_plans_on_sale,
    stripe_settings,
)
from tests.billing.emulated import wait_for
from tests.billing.test_stuck_payers import subscribed
from tests.conftest import Mailbox, free_port
from tests.live import serving

ROOT = Path(__file__).resolve().parents[2]


class GatedMailbox(Mailbox):
    """A mailbox whose first message to ``hold_for`` stops before its data is sent, until
    the test opens the gate: the worker sending it is then mid-job."""

    def __init__(self, hold_for: str) -> None:
        super().__init__()
        self.hold_for = hold_for
        self.holding = threading.Event()
        self.gate = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address == self.hold_for and not self.holding.is_set():
            self.holding.set()
            while not self.gate.is_set():  # a thread of the server's own event loop
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"


class WorkerProcess:
    """``paywall worker`` in a process of its own, configured as production is."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "paywall", "worker", "--threads", "2", "--no-schedule"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def worker_env(live: LiveBilling, redis_url: str, namespace: str, smtp_port: int) -> dict[str, str]:
    config = live.app.config
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAYWALL_", "STRIPE_", "MAIL_"))
        and name not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    env.update(
        PAYWALL_ENV="production",
        PAYWALL_INSTANCE_PATH=config["INSTANCE_PATH"],
        PAYWALL_BASE_URL=config["BASE_URL"],
        SECRET_KEY=config["SECRET_KEY"],
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url,
        PAYWALL_JOB_QUEUE_NAMESPACE=namespace,
        PAYWALL_JOB_REDELIVERY_SECONDS="2",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        STRIPE_SECRET_KEY=config["STRIPE_SECRET_KEY"],
        STRIPE_PUBLISHABLE_KEY=config["STRIPE_PUBLISHABLE_KEY"],
        STRIPE_WEBHOOK_SECRET=config["STRIPE_WEBHOOK_SECRET"],
        STRIPE_API_BASE=config["STRIPE_API_BASE"],
        PAYWALL_STRIPE_NETWORK_RETRIES="0",
        PAYWALL_STRIPE_TIMEOUT_SECONDS="5",
    )
    return env


@pytest.fixture
def queued_billing(
    make_app: Any, emulator: Any, mailbox: Mailbox, redis_queue: tuple[str, str]
) -> Iterator[LiveBilling]:
    """Like ``billing_app``, but the app queues its jobs in Redis for a worker process."""
    redis_url, namespace = redis_queue
    secret = "whsec_" + secrets.token_hex(16)
    port = free_port()
    settings = {
        **stripe_settings(emulator, secret),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "JOB_QUEUE_NAMESPACE": namespace,
    }
    app = make_app(**settings)
    twin = make_app(**settings)
    with serving(app, "127.0.0.1", port) as url:
        emulator.register_webhook(WEBHOOK_NAME, f"{url}/stripe/webhook", secret)
        put_plans_on_sale(app)
        try:
            yield LiveBilling(app, twin, url, secret, emulator)
        finally:
            emulator.register_webhook(WEBHOOK_NAME, NOWHERE, secret)


def dunning_sent(live: LiveBilling, stripe_invoice_id: str) -> Any:
    return live.query(
        lambda s: s.scalar(
            select(Invoice.dunning_email_sent_at).where(
                Invoice.stripe_invoice_id == stripe_invoice_id
            )
        )
    )


def invoice_stored(live: LiveBilling, stripe_invoice_id: str) -> bool:
    return bool(
        live.query(
            lambda s: s.scalar(
                select(Invoice.id).where(Invoice.stripe_invoice_id == stripe_invoice_id)
            )
        )
    )


def test_jobs_wait_for_a_stopped_worker_and_the_email_goes_out_once(
    queued_billing, stripe_side, mailbox, redis_queue, smtp_server, tmp_path
):
    controller, _ = smtp_server
    worker = WorkerProcess(
        worker_env(queued_billing, *redis_queue, controller.port), tmp_path / "worker.log"
    )
    reader, customer_id, subscription_id = subscribed(queued_billing)
    try:
        invoice = stripe_side.decline_renewal(customer_id, subscription_id)
        queued_billing.emulator.let_deliveries_pass()  # stored and queued: no worker yet
        assert mailbox.to(reader.email) == []
        assert not invoice_stored(queued_billing, invoice["id"])  # not applied either

        worker.start()
        message = wait_for(lambda: mailbox.to(reader.email), timeout=60)[0]
        assert "Your card has insufficient funds." in mailbox.text_of(message)
        wait_for(lambda: dunning_sent(queued_billing, invoice["id"]), timeout=30)
        stripe_side.send_event("invoice.payment_failed", invoice["id"])  # Stripe retries
        queued_billing.emulator.let_deliveries_pass()
        redis_url, namespace = redis_queue
        wait_for(lambda: queue_empty(redis_url, namespace), timeout=30)
    finally:
        worker.stop()
    assert len(mailbox.to(reader.email)) == 1, (tmp_path / "worker.log").read_text()


def queue_empty(redis_url: str, namespace: str) -> bool:
    """No job waiting or unacknowledged in the test's namespace."""
    client = redis.Redis.from_url(redis_url)
    waiting = sum(
        client.llen(key)
        for key in client.scan_iter(f"{namespace}:*")
        if client.type(key) == b"list"
    )
    unacked = sum(client.scard(key) for key in client.scan_iter(f"{namespace}:__acks__.*"))
    return waiting == 0 and unacked == 0


def test_a_worker_killed_mid_job_leaves_it_to_the_next_and_the_email_goes_out_once(
    queued_billing, stripe_side, redis_queue, tmp_path
):
    reader, customer_id, subscription_id = subscribed(queued_billing)
    gated = GatedMailbox(hold_for=reader.email)
    smtp = Controller(gated, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = worker_env(queued_billing, *redis_queue, smtp.port)
    first = WorkerProcess(env, tmp_path / "first.log")
    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        first.start()
        invoice = stripe_side.decline_renewal(customer_id, subscription_id)
        wait_for(gated.holding.is_set, timeout=60)  # the first worker is sending it now
        first.kill_9()
        gated.gate.set()
        assert gated.to(reader.email) == []
        assert dunning_sent(queued_billing, invoice["id"]) is None  # the claim rolled back

        second.start()
        message = wait_for(lambda: gated.to(reader.email), timeout=90)[0]
        assert "Your card has insufficient funds." in gated.text_of(message)
        wait_for(lambda: dunning_sent(queued_billing, invoice["id"]), timeout=30)
        queued_billing.emulator.let_deliveries_pass()
        # The killed worker's unacknowledged copy leaves only when a broker call of the
        # live worker also does maintenance (1 in 100 calls, about 4 calls a second when
        # idle): within 60 s 9 times in 100, within 180 s fewer than 1 in 1,000.
        wait_for(lambda: queue_empty(*redis_queue), timeout=180)
    finally:
        second.stop()
        first.stop()
        gated.gate.set()
        smtp.stop()
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert len(gated.to(reader.email)) == 1, logs

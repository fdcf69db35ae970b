"""Webhook ingestion benchmark: signed Stripe events POSTed to the app under gunicorn.

Seeds a fresh PostgreSQL database with readers, their Stripe customers and an active
subscription each, serves the app (``gunicorn wsgi:app``, 2 sync workers, the production
settings) with a known webhook secret, and POSTs distinct events concurrently to
``/stripe/webhook``: ``customer.subscription.updated`` and ``invoice.paid`` in turn, built
from the recorded API 2026-10-28 payloads in ``tests/billing/payloads/shapes/current`` and
each signed the way Stripe signs (``Stripe-Signature: t=...,v1=HMAC-SHA256``).

The endpoint stores an event, queues its application on the job queue (Redis) and
answers; ``paywall worker`` processes apply it by re-reading its object from Stripe:
here a stand-in (``stripe_counter.py``) that answers with the objects the events are
about, after ``--stripe-latency-ms``. Three phases: the endpoint alone (no worker
running), the workers applying what waited, then both at once. Prints events/s answered
(with p50 and p99) and applied, CPU per event, and checks in the database that each
event was stored once and applied once and each subscription ended at Stripe's newest
state.

Run: python bench/webhooks.py [--events 3000] [--rounds 3] [--customers 1000]
     [--connections 16] [--warmup 200] [--stripe-latency-ms 0] [--worker-threads 8]
     [--worker-processes 2]
     [--database-url postgresql+psycopg://USER@HOST/DB]

Exits 0 once it has measured (the verdict is information, not a test); 1 when it cannot
set up; 130 on Ctrl-C. Every server it starts is stopped and the database dropped.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    fresh_database,
    production_environment,
)
from harness import APP_PROBE, fetch, gunicorn, run_benchmark  # noqa: E402
from stripe_counter import StripeCounter  # noqa: E402

TARGET_INGEST_PER_SECOND = 1000  # answered by the endpoint
TARGET_APPLIED_PER_SECOND = 300  # applied by the worker
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEMPLATES = ROOT / "tests" / "billing" / "payloads" / "shapes" / "current"
PLAN_ID = "paywall_monthly_900usd_month"
WEBHOOK_PATH = "/stripe/webhook"
DAY = 86400

Event = dict[str, Any]


@dataclass
class Round:
    """One round's deliveries."""

    events: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[str] = field(default_factory=Counter)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per event: app, postgres, senders

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200 stored")

    @property
    def cpu_ceiling(self) -> float:
        """Events/s the machine's cores could take, applying included, if they did
        nothing else."""
        total = sum(self.cpu_ms.values())
        return (os.cpu_count() or 1) * 1000 / total if total else float("nan")

    @property
    def endpoint_ceiling(self) -> float:
        """The same for the endpoint alone (the worker on other cores or hosts)."""
        total = sum(ms for name, ms in self.cpu_ms.items() if name != "worker")
        return (os.cpu_count() or 1) * 1000 / total if total else float("nan")


# --- CPU accounting -------------------------------------------------------------------


def cpu_seconds(matches: Callable[[str], bool]) -> float:
    """User + system CPU seconds of the processes whose command line ``matches`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if matches(command):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            continue  # gone, or not ours to read
    return total


@dataclass
class CpuMeter:
    """CPU spent by the app's workers, the job worker, the database's backends and this
    process (the job worker's applying runs on during the round, and after it).

    Steadier than events/s on a shared machine: other load slows every request down but
    barely changes the CPU each one costs.
    """

    port: int
    database: str

    def sample(self) -> dict[str, float]:
        if not Path("/proc/self/stat").exists():
            return {}
        return {
            "app": cpu_seconds(lambda c: "gunicorn" in c and f"127.0.0.1:{self.port} " in c),
            "worker": cpu_seconds(lambda c: "-m paywall worker" in c),
            "postgres": cpu_seconds(lambda c: c.startswith("postgres:") and self.database in c),
            "senders": sum(os.times()[:2]),
        }

    @staticmethod
    def per_event(before: dict[str, float], after: dict[str, float], events: int) -> dict:
        return {name: (after[name] - before[name]) * 1000 / events for name in before}


# --- database -------------------------------------------------------------------------


def seed(database_url: str, instance: Path, customers: int, base: int) -> None:
    """Migrate, then bulk-load readers, one Stripe customer and one subscription each."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from billing.models import Customer, Plan, Subscription
    from paywall import create_app
    from paywall.accounts.models import Reader
    from paywall.extensions import db

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
        }
    )
    now = datetime.now(UTC)
    period_start = datetime.fromtimestamp(base, UTC) - timedelta(days=20)
    with app.app_context():
        upgrade()
        db.session.execute(
            insert(Plan).values(
                code="monthly",
                name="Monthly",
                tier="standard",
                amount=900,
                currency="usd",
                interval="month",
                stripe_product_id="paywall_monthly",
                stripe_plan_id=PLAN_ID,
                synced_at=now,
                created_at=now,
            )
        )
        reader_ids = db.session.scalars(
            insert(Reader).returning(Reader.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"subscriber{i}@bench.example",
                    "name": f"Subscriber {i}",
                    "role": "reader",
                    "email_verified_at": now,
                    "is_comped": False,
                    "security_stamp": 0,
                    "created_at": now,
                }
                for i in range(customers)
            ],
        ).all()
        customer_ids = db.session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [
                {
                    "reader_id": reader_id,
                    "stripe_customer_id": customer_id(i),
                    "email": f"subscriber{i}@bench.example",
                    "deleted": False,
                    "synced_at": now,
                }
                for i, reader_id in enumerate(reader_ids)
            ],
        ).all()
        db.session.execute(
            insert(Subscription),
            [
                {
                    "stripe_subscription_id": subscription_id(i),
                    "customer_id": local_id,
                    "stripe_plan_id": PLAN_ID,
                    "plan_code": "monthly",
                    "stripe_item_id": f"si_bench{i:07d}",
                    "status": "active",
                    "current_period_start": period_start,
                    "current_period_end": period_start + timedelta(days=30),
                    "cancel_at_period_end": False,
                    "was_active": True,
                    "has_own_payment_method": False,
                    "created_at": period_start,
                    "synced_at": now,
                }
                for i, local_id in enumerate(customer_ids)
            ],
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@contextmanager
def worker_process(env: dict[str, str], threads: int) -> Iterator[None]:
    """``paywall worker`` in its own process; stopped (SIGTERM) on leaving."""
    command = [sys.executable, "-m", "paywall", "worker", "--threads", str(threads)]
    process = subprocess.Popen([*command, "--no-schedule"], cwd=ROOT, env=env)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def forget_queue(redis_url: str, namespace: str) -> None:
    """Remove the run's job queue from Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def wait_until_applied(database_url: str, expected: int, timeout: float = 600) -> float:
    """Seconds until ``expected`` events are applied (by the worker, from the queue)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                query = "SELECT count(applied_at) + count(last_error) FROM billing_webhook_events"
                if conn.execute(sa.text(query)).scalar() >= expected:
                    break
            time.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - started


def verify(database_url: str, expected: int, invoices: int, stripe: dict[str, Any]) -> list[str]:
    """Problems found in the stored events (empty: each stored once and applied once) and
    in the subscriptions (each must end where Stripe's newest copy ends its period)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            stored, distinct, applied, retried, errors = conn.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT stripe_event_id), count(applied_at), "
                    "count(*) FILTER (WHERE attempts <> 1), count(last_error) "
                    "FROM billing_webhook_events"
                )
            ).one()
            invoice_rows = conn.execute(sa.text("SELECT count(*) FROM billing_invoices")).scalar()
            ends = dict(
                conn.execute(
                    sa.text(
                        "SELECT stripe_subscription_id, current_period_end "
                        "FROM billing_subscriptions"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    print(
        f"verify: {stored} events stored ({distinct} distinct ids), {applied} applied "
        f"(applied_at set), {retried} applied other than once, {errors} with an error; "
        f"{invoice_rows} invoice rows"
    )
    stale = [
        path
        for path, obj in stripe.items()
        if obj["object"] == "subscription"
        and (end := ends.get(obj["id"])) is not None
        and int(end.replace(tzinfo=UTC).timestamp())
        != obj["items"]["data"][0]["current_period_end"]
    ]
    print(f"verify: {len(stale)} subscriptions not at Stripe's newest state")
    problems = [f"{len(stale)} subscriptions not at Stripe's newest state"] if stale else []
    if not stored == distinct == applied == expected:
        problems.append(f"expected {expected} events stored and applied")
    if retried or errors:
        problems.append("some events were applied more than once or failed")
    if invoice_rows != invoices:
        problems.append(f"expected {invoices} invoice rows")
    return problems


# --- events ---------------------------------------------------------------------------


def customer_id(i: int) -> str:
    return f"cus_bench{i:07d}"


def subscription_id(i: int) -> str:
    return f"sub_bench{i:07d}"


def load_templates() -> tuple[Event, Event]:
    """The recorded ``customer.subscription.updated`` and ``invoice.paid`` events."""
    updated, paid = (json.loads(path.read_text()) for path in sorted(TEMPLATES.glob("*.json")))
    assert updated["type"] == "customer.subscription.updated" and paid["type"] == "invoice.paid"
    return updated, paid


def subscription_updated(
    template: Event, event_id: str, invoice_id: str, customer: int, at: int
) -> Event:
    """A renewal of ``customer``'s subscription, billed by ``invoice_id``, sent at ``at``."""
    event = copy.deepcopy(template)
    sub = event["data"]["object"]
    sub_id = subscription_id(customer)
    sub.update(id=sub_id, customer=customer_id(customer), latest_invoice=invoice_id)
    item = sub["items"]["data"][0]
    item.update(
        id=f"si_bench{customer:07d}",
        subscription=sub_id,
        current_period_start=at,
        current_period_end=at + 30 * DAY,
    )
    sub["items"]["url"] = f"/v1/subscription_items?subscription={sub_id}"
    event.update(id=event_id, created=at)
    return event


def invoice_paid(template: Event, event_id: str, invoice_id: str, customer: int, at: int) -> Event:
    """``invoice_id``, the renewal of ``customer``'s subscription, paid; sent at ``at``."""
    event = copy.deepcopy(template)
    invoice = event["data"]["object"]
    sub_id = subscription_id(customer)
    invoice.update(id=invoice_id, customer=customer_id(customer), created=at - 60)
    invoice["parent"]["subscription_details"]["subscription"] = sub_id
    invoice["status_transitions"].update(finalized_at=at - 2, paid_at=at - 1)
    invoice["lines"]["url"] = f"/v1/invoices/{invoice_id}/lines"
    line = invoice["lines"]["data"][0]
    line.update(id=f"il_{invoice_id[3:]}", invoice=invoice_id)
    line["parent"]["subscription_item_details"].update(
        subscription=sub_id, subscription_item=f"si_bench{customer:07d}"
    )
    event.update(id=event_id, created=at)
    return event


def make_events(
    count: int, customers: int, base: int, run: str, stripe: dict[str, Any]
) -> list[bytes]:
    """``count`` distinct events: renewals, each a subscription update then its paid
    invoice, for one customer after another. ``stripe`` gets each object as Stripe has it
    once all are sent (the newest copy), keyed by its API path, for the re-reads."""
    updated, paid = load_templates()
    bodies = []
    for n in range(count):
        renewal, customer = n // 2, (n // 2) % customers
        build, template = (subscription_updated, updated) if n % 2 == 0 else (invoice_paid, paid)
        event = build(template, f"evt_{run}{n:07d}", f"in_{run}{renewal:07d}", customer, base + n)
        obj = event["data"]["object"]
        kind = "subscriptions" if obj["object"] == "subscription" else "invoices"
        stripe[f"/v1/{kind}/{obj['id']}"] = obj
        # Stripe sends its events pretty-printed: the same bytes here.
        bodies.append(json.dumps(event, indent=2).encode())
    return bodies


def sign(body: bytes, secret: str, at: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``body``."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


# --- load -----------------------------------------------------------------------------


def request_bytes(port: int, body: bytes, signature: str) -> bytes:
    """One complete HTTP/1.1 POST of ``body`` to the webhook, as bytes on the wire."""
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Stripe-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def post(port: int, request: bytes) -> tuple[int, str]:
    """Send one prepared request on a new connection (sync workers close it after each
    answer); returns (HTTP status, the endpoint's ``status`` or error code)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    code = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    try:
        answer = json.loads(body)
        outcome = answer.get("status") or answer.get("error", {}).get("code")
    except (ValueError, AttributeError):
        outcome = "unreadable"
    return code, str(outcome)


def deliver(
    port: int, bodies: list[bytes], secret: str, connections: int, meter: CpuMeter | None = None
) -> Round:
    """POST every body once from ``connections`` threads; signed just before the round.

    The requests are built in full beforehand so the senders spend as little of the
    machine's CPU as possible.
    """
    stamp = int(time.time())
    requests = [request_bytes(port, body, sign(body, secret, stamp)) for body in bodies]
    next_index = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()

    def worker() -> None:
        local: list[float] = []
        seen: Counter[str] = Counter()
        while (index := next(next_index)) < len(requests):
            started = time.perf_counter()
            try:
                code, outcome = post(port, requests[index])
            except OSError as error:
                seen[f"error {type(error).__name__}"] += 1
                continue
            local.append((time.perf_counter() - started) * 1000)
            seen[f"{code} {outcome}"] += 1
        with lock:
            latencies.extend(local)
            statuses.update(seen)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    cpu_before = meter.sample() if meter else {}
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu = CpuMeter.per_event(cpu_before, meter.sample(), len(bodies)) if meter else {}
    return Round(len(bodies), seconds, latencies, statuses, cpu)


# --- checks ---------------------------------------------------------------------------


def check_refuses_bad_signature(port: int, body: bytes, secret: str) -> str:
    """A wrong signature is refused with 400 (``verify`` later finds nothing stored)."""
    wrong = sign(body, secret + "-wrong", int(time.time()))
    code, outcome = post(port, request_bytes(port, body, wrong))
    return "ok" if code == 400 else f"answered {code} {outcome}, not 400"


def check_duplicate(port: int, body: bytes, secret: str) -> str:
    """An event delivered again is acknowledged as a duplicate."""
    code, outcome = post(port, request_bytes(port, body, sign(body, secret, int(time.time()))))
    return "ok" if (code, outcome) == (200, "duplicate") else f"answered {code} {outcome}"


# --- main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="distinct events per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the median is reported)")
    parser.add_argument("--customers", type=int, default=1000, help="customers seeded")
    parser.add_argument("--connections", type=int, default=16, help="concurrent senders")
    parser.add_argument("--warmup", type=int, default=200, help="events sent before timing")
    parser.add_argument(
        "--stripe-latency-ms", type=float, default=0,
        help="delay of each re-read from the stand-in Stripe (real Stripe: tens of ms)",
    )  # fmt: skip
    parser.add_argument(
        "--worker-threads", type=int, default=8, help="threads of each paywall worker process"
    )
    parser.add_argument("--worker-processes", type=int, default=2, help="paywall worker processes")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PAYWALL_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL server (a fresh database is created on it and dropped)",
    )
    args = parser.parse_args(argv)
    if min(args.events, args.rounds, args.customers, args.connections) < 1 or args.warmup < 0:
        parser.error("--events, --rounds, --customers and --connections must be >= 1")
    return args


def run(args: argparse.Namespace) -> None:
    """Seed, serve, check, load, verify, report."""
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-bench-webhooks-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(args.database_url, workdir))
        base = int(time.time()) - 2 * DAY  # every event's ``created``, in the past
        started = time.monotonic()
        seed(database_url, workdir, args.customers, base)
        print(
            f"seeded {args.customers} readers, Stripe customers and active subscriptions "
            f"in {time.monotonic() - started:.1f} s on {database_url.split(':')[0]}"
        )

        secret = "whsec_" + secrets.token_hex(24)
        stripe = cleanup.enter_context(StripeCounter(latency_ms=args.stripe_latency_ms))
        env = production_environment(secrets.token_hex(32), database_url, workdir)
        env["STRIPE_WEBHOOK_SECRET"] = secret  # ours, to sign with
        env["STRIPE_API_BASE"] = stripe.url  # answers the re-reads
        env["PAYWALL_JOB_QUEUE_NAMESPACE"] = f"paywall-bench-{secrets.token_hex(4)}"
        cleanup.callback(forget_queue, env["REDIS_URL"], env["PAYWALL_JOB_QUEUE_NAMESPACE"])
        port = cleanup.enter_context(gunicorn("wsgi:app", env, ROOT, probe=APP_PROBE))
        if fetch(port, APP_PROBE).status >= 500:
            raise RuntimeError("the app answers its probe with a server error")
        meter = CpuMeter(port, database_url.rsplit("/", 1)[1])

        run_id = secrets.token_hex(3)
        total = args.warmup + 2 * args.events * args.rounds
        *bodies, forged = make_events(total + 1, args.customers, base, run_id, stripe.objects)
        print(f"built {total} distinct events (~{sum(map(len, bodies)) // total} bytes each)")
        print(f"check bad signature: {check_refuses_bad_signature(port, forged, secret)}")
        if args.warmup:
            deliver(port, bodies[: args.warmup], secret, args.connections)
        print(
            f"load: {args.connections} Python senders (requests built beforehand; a new "
            f"connection each, as sync workers close), {args.rounds} round(s) of "
            f"{args.events} events; gunicorn 2 sync workers, {args.worker_processes} paywall "
            f"worker process(es) of {args.worker_threads} threads; {os.cpu_count()} cores "
            f"shared with PostgreSQL, Redis and the senders; load average {load_average()}"
        )
        batches = [
            bodies[args.warmup + n * args.events : args.warmup + (n + 1) * args.events]
            for n in range(2 * args.rounds)
        ]
        print("1. the endpoint alone (no worker running: the events wait, stored and queued)")
        alone = [report_round(n, deliver(port, batch, secret, args.connections, meter))
                 for n, batch in enumerate(batches[: args.rounds])]  # fmt: skip
        waiting = args.warmup + args.events * args.rounds
        print(f"2. the worker applying the {waiting} waiting events alone")
        for _ in range(args.worker_processes):
            cleanup.enter_context(worker_process(env, args.worker_threads))
        before, reads_before = meter.sample(), stripe.calls
        seconds = wait_until_applied(database_url, waiting)
        drained = Drain(waiting, seconds, CpuMeter.per_event(before, meter.sample(), waiting))
        print(f"  {drained.describe()}; {stripe.calls - reads_before} re-reads")
        print("3. the endpoint with the worker applying beside it")
        beside: list[Round] = []
        applied_rates = []
        for n, batch in enumerate(batches[args.rounds :]):
            waiting += len(batch)
            result = deliver(port, batch, secret, args.connections, meter)
            lag = wait_until_applied(database_url, waiting)
            applied_rates.append(len(batch) / (result.seconds + lag))
            report_round(n, result, f"; all applied {lag:.1f} s after the last answer")
            beside.append(result)
        print(f"check duplicate delivery: {check_duplicate(port, bodies[0], secret)}")
        wait_until_applied(database_url, total)
        print(f"{stripe.calls} re-reads for {total} events; load average {load_average()}")
        problems = verify(database_url, total, total // 2, stripe.objects)
    print_summary(alone, drained, beside, applied_rates, problems)


@dataclass
class Drain:
    """The worker applying events that waited: how many, how long, CPU per event."""

    events: int
    seconds: float
    cpu_ms: dict[str, float]

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        parts = " + ".join(f"{name} {ms:.2f}" for name, ms in self.cpu_ms.items() if ms >= 0.01)
        return (
            f"{self.events} events applied in {self.seconds:.1f} s: {self.per_second:.0f} "
            f"events/s, cpu ms/event {parts} (senders: the stand-in Stripe, in this process)"
        )


def load_average() -> str:
    """The 1-minute load average, as text."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def report_round(number: int, result: Round, extra: str = "") -> Round:
    """Print one round's line; returns it."""
    print(
        f"  round {number + 1}: {result.events} events in {result.seconds:.1f} s  "
        f"{result.per_second:>4.0f} events/s  p50 {result.percentile(0.5):.1f} ms  "
        f"p99 {result.percentile(0.99):.1f} ms  {describe_cpu(result)}  "
        f"{dict(result.statuses)}{extra}",
        flush=True,
    )
    return result


def describe_cpu(result: Round) -> str:
    """``cpu ms/event app 2.9 + worker 3.0 + postgres 0.6 + senders 0.2 (ceiling 290/s,
    endpoint alone 530/s)``."""
    if not result.cpu_ms:
        return ""
    parts = " + ".join(f"{name} {ms:.2f}" for name, ms in result.cpu_ms.items())
    return (
        f"cpu ms/event {parts} (ceiling {result.cpu_ceiling:.0f}/s, "
        f"endpoint alone {result.endpoint_ceiling:.0f}/s)"
    )


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def print_summary(
    alone: list[Round],
    drained: Drain,
    beside: list[Round],
    applied_rates: list[float],
    problems: list[str],
) -> None:
    """Medians of the rounds of each phase, and the verdicts."""
    failed = sum(r.failed for r in alone + beside)
    if problems or failed:
        verdict = f"INVALID ({'; '.join(problems) or f'{failed} deliveries not applied'})"
    else:
        verdict = "checked: each event stored once, applied once, final state right"
    print(f"\nwebhooks on {os.cpu_count()} cores (median rounds): {verdict}")
    for name, rounds, target in (
        ("ingest, endpoint alone", alone, TARGET_INGEST_PER_SECOND),
        ("ingest, worker applying beside", beside, None),
    ):
        middle = sorted(rounds, key=lambda r: r.per_second)[len(rounds) // 2]
        goal = ""
        if target:
            goal = f"target >= {target}: {'PASS' if middle.per_second >= target else 'FAIL'}"
        print(
            f"  {name:<32} {middle.per_second:>5.0f} events/s  p50 "
            f"{middle.percentile(0.5):.1f} ms  p99 {middle.percentile(0.99):.1f} ms  {goal}"
        )
        print(f"    {describe_cpu(middle)}")
    for name, rate in (
        ("applied, worker alone", drained.per_second),
        ("applied, beside the endpoint", median(applied_rates)),
    ):
        goal = "PASS" if rate >= TARGET_APPLIED_PER_SECOND else "FAIL"
        print(f"  {name:<32} {rate:>5.0f} events/s  target >= {TARGET_APPLIED_PER_SECOND}: {goal}")
    print(f"    {drained.describe()}")


def main() -> int:
    """Entry point; returns the exit code."""
    return run_benchmark(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())

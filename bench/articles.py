"""Article-page benchmark: Paywall under gunicorn against a hello-world Flask baseline.

Seeds a fresh database (10,000 readers and 1,000 articles by default), serves the app and
the baseline with the same gunicorn settings, checks that each scenario returns what it
claims, loads each from another process on loopback (wrk when installed, else a small
Python load generator) and prints requests/s, p50, p99 and the ratio to hello-world for:

- an anonymous reader on a paid article (the teaser and the gate), and
- a signed-in reader on a free article (the full text).

Run: python bench/articles.py [--seconds 10] [--rounds 3] [--readers 10000] [--articles 1000]
     [--session form|minted] [--database-url postgresql+psycopg://USER@HOST/DB]

Always exits 0 once it has measured (the verdicts are information, not a test; a scenario
whose pre-flight check failed is still measured but marked INVALID); exits 1 when it
cannot set up (seed, start a server, sign in), and 130 on Ctrl-C. Every server it
starts is stopped and every temporary file and database removed on the way out.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    APP_PROBE,
    CONNECTIONS,
    THREADS,
    Scenario,
    cookie_header,
    fetch,
    gunicorn,
    measure,
    median_result,
    run_benchmark,
)
from stripe_counter import StripeCounter  # noqa: E402

TARGET_RATIO = 0.5
PASSWORD = "benchmark-password"
LEVELS = ("free", "registered", "paid", "tiers")
PARAGRAPHS = [
    f"Paragraph {i} of a long investigation, with enough words to look like a real "
    "article: the council, the river, the budget and the people who live with them."
    for i in range(12)
]
TEASER_PARAGRAPHS = 2


# --- records --------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the seeding produced that the scenarios need."""

    paid_slug: str
    free_slug: str
    reader_email: str
    reader_id: str  # Flask-Login's session identity (a live session's token)


# --- database -------------------------------------------------------------------------


@contextmanager
def fresh_database(database_url: str | None, workdir: Path) -> Iterator[str]:
    """Yield the URL of an empty database, removed afterwards.

    Without ``database_url``: a SQLite file in ``workdir``. With a PostgreSQL URL: a new
    database created next to the one named (which is only used to connect), so nothing in
    it is touched; it is dropped on the way out.
    """
    if not database_url:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    from tests.databases import scratch_postgres_database

    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_postgres_database(database_url, "bench"))
        except ValueError as error:
            raise SystemExit(f"--database-url: {error}") from error
        yield url


def render_bodies() -> tuple[str, str, str]:
    """Source, teaser HTML and full HTML of the benchmark body, rendered once.

    Uses the app's own renderer (as saving an article does); falls back to plain
    paragraphs if that module is missing.
    """
    source = "\n\n".join(PARAGRAPHS)
    try:
        from paywall.articles.content import render_body
    except ImportError:
        html = [f"<p>{p}</p>" for p in PARAGRAPHS]
        return source, "\n".join(html[:TEASER_PARAGRAPHS]), "\n".join(html)
    rendered = render_body(source, "markdown", TEASER_PARAGRAPHS)
    return source, rendered.teaser_html, rendered.full_html


def seed(database_url: str, instance: Path, readers: int, articles: int) -> Seeded:
    """Migrate the database and bulk-load readers and articles (Core inserts, one hash)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from paywall import create_app
    from paywall.accounts.models import Reader
    from paywall.accounts.passwords import hash_password
    from paywall.accounts.sessions import open_session
    from paywall.extensions import db

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
        }
    )
    now = datetime.now(UTC)
    reader_email = f"reader{readers // 2}@bench.example"
    with app.app_context():
        upgrade()
        insert_readers(readers, now, hash_password(PASSWORD))  # production argon2, once
        insert_articles(articles, now, LEVELS)
        reader = db.session.scalars(select(Reader).where(Reader.email == reader_email)).one()
        reader_id = open_session(reader.id, remember=True).token
        make_subscriber(reader.id, now)
        db.session.remove()
        db.engine.dispose()
    # Middle of the table, so neither is the first row a scan would find.
    middle = (articles // 2) - (articles // 2) % len(LEVELS)
    return Seeded(
        paid_slug=f"article-{middle + LEVELS.index('paid')}",
        free_slug=f"article-{middle + LEVELS.index('free')}",
        reader_email=reader_email,
        reader_id=reader_id,
    )


def insert_readers(count: int, now: datetime, password_hash: str | None = None) -> None:
    """``reader0@bench.example`` ... in one Core insert (verified, one shared hash)."""
    from sqlalchemy import insert

    from paywall.accounts.models import Reader
    from paywall.extensions import db

    db.session.execute(
        insert(Reader),
        [
            {
                "email": f"reader{i}@bench.example",
                "name": f"Reader {i}",
                "password_hash": password_hash,
                "role": "reader",
                "email_verified_at": now,
                "is_comped": False,
                "security_stamp": 0,
                "created_at": now,
            }
            for i in range(count)
        ],
    )


def insert_articles(count: int, now: datetime, levels: tuple[str, ...]) -> None:
    """``article-0`` ... in one Core insert, access levels cycling through ``levels``."""
    from sqlalchemy import insert

    from paywall.articles.models import Article
    from paywall.extensions import db

    source, teaser_html, full_html = render_bodies()
    db.session.execute(
        insert(Article),
        [
            {
                "slug": f"article-{i}",
                "title": f"Article {i}",
                "author": "Bench Writer",
                "dek": "A summary.",
                "published_at": now - timedelta(minutes=i),
                "access_level": levels[i % len(levels)],
                "tiers": "premium" if levels[i % len(levels)] == "tiers" else "",
                "body_source": source,
                "body_format": "markdown",
                "teaser_html": teaser_html,
                "full_html": full_html,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ],
    )
    db.session.commit()


def make_subscriber(reader_id: int, now: datetime) -> None:
    """Give the benchmark reader an active subscription and a card in the local billing
    tables, as webhooks would have left them (the reading path only ever reads these)."""
    from billing.models import Customer, PaymentMethod, Plan, Subscription
    from paywall.extensions import db

    db.session.add(
        Plan(code="monthly", name="Monthly", tier="standard", amount=900,
             stripe_plan_id="paywall_monthly_900usd_month", stripe_product_id="paywall_monthly")
    )  # fmt: skip
    customer = Customer(
        reader_id=reader_id, stripe_customer_id="cus_bench", default_payment_method_id="pm_bench"
    )
    db.session.add(customer)
    db.session.flush()
    db.session.add(
        PaymentMethod(stripe_payment_method_id="pm_bench", customer_id=customer.id,
                      brand="visa", last4="4242", exp_month=12, exp_year=now.year + 4)
    )  # fmt: skip
    db.session.add(
        Subscription(stripe_subscription_id="sub_bench", customer_id=customer.id,
                     status="active", plan_code="monthly", was_active=True,
                     current_period_end=now + timedelta(days=20), latest_invoice_status="paid")
    )  # fmt: skip
    db.session.commit()


def production_environment(secret_key: str, database_url: str, workdir: Path) -> dict[str, str]:
    """The environment the app is served with: production settings on the seeded database."""
    return {
        **os.environ,
        "PAYWALL_ENV": "production",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "PAYWALL_INSTANCE_PATH": str(workdir),
        "PAYWALL_BASE_URL": os.environ.get("PAYWALL_BASE_URL", "http://127.0.0.1"),
        # Production counts rate limits in Redis, shared by the workers (it refuses to start
        # without it); the local server unless the environment names another.
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Production refuses to start without Stripe keys; the reading path never calls
        # Stripe, so placeholders do (an environment's real keys win).
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", "sk_test_benchmark"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_benchmark"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_benchmark"),
    }


def sign_in_with_form(port: int, email: str) -> str:
    """Sign in through the real /signin form; returns the Cookie header of the session."""
    page = fetch(port, "/signin")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.body)
    if page.status != 200 or not token:
        raise RuntimeError(f"GET /signin answered {page.status} without a csrf_token field")
    reply = fetch(
        port,
        "/signin",
        cookie_header(page.set_cookies),
        "POST",
        {"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if reply.status != 302 or not reply.set_cookies:
        raise RuntimeError(f"POST /signin answered {reply.status}, not a redirect with a cookie")
    return cookie_header(reply.set_cookies)


def mint_session_cookie(secret_key: str, reader_id: str) -> str:
    """The session cookie Flask-Login would set for ``reader_id``, signed with the app's key
    (see :func:`session_cookie_minter`)."""
    return session_cookie_minter(secret_key)(reader_id)


def session_cookie_minter(secret_key: str) -> Callable[[str], str]:
    """A function giving the session cookie Flask-Login would set for a session identity,
    signed with the app's key (built once, so minting thousands is quick).

    Includes what a real sign-in leaves in the session, so requests do not rewrite it: the
    session-protection identifier for a loopback client without a User-Agent (neither wrk
    nor http.client sends one) and a CSRF token (the masthead's sign-out form uses it).
    """
    from flask import Flask
    from flask_login import LoginManager

    app = Flask(__name__)
    app.secret_key = secret_key
    login_manager = LoginManager(app)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = login_manager._session_identifier_generator()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]

    def mint(reader_id: str) -> str:
        value = serializer.dumps(
            {
                "_user_id": reader_id,
                "_fresh": True,
                "_id": identifier,
                "csrf_token": secrets.token_hex(20),
            }
        )
        return f"session={value}"

    return mint


# --- checks ---------------------------------------------------------------------------


def check_hello(scenario: Scenario) -> None:
    """The baseline answers 200 with its greeting."""
    reply = fetch(scenario.port, scenario.path)
    if reply.status != 200 or reply.body != "Hello, World!":
        scenario.problems.append(f"hello-world answered {reply.status} {reply.body[:60]!r}")


def check_teaser(scenario: Scenario) -> None:
    """Anonymous on a paid article: the teaser and the gate, nothing past the teaser."""
    reply = fetch(scenario.port, scenario.path)
    if reply.status != 200:
        scenario.problems.append(f"answered {reply.status}, not 200")
    if 'id="paywall-gate"' not in reply.body:
        scenario.problems.append("no gate (#paywall-gate) in the page")
    if PARAGRAPHS[0] not in reply.body:
        scenario.problems.append("the teaser's first paragraph is missing")
    leaked = [i for i, p in enumerate(PARAGRAPHS) if i >= TEASER_PARAGRAPHS and p in reply.body]
    if leaked:
        scenario.problems.append(f"paragraphs past the teaser were sent: {leaked}")


def check_full(scenario: Scenario, email: str) -> None:
    """Signed in: the full text, the reader recognised, no gate."""
    reply = fetch(scenario.port, scenario.path, scenario.cookie)
    if reply.status != 200:
        scenario.problems.append(f"answered {reply.status}, not 200")
    if email not in reply.body:
        scenario.problems.append("the page does not show the reader as signed in")
    if PARAGRAPHS[-1] not in reply.body:
        scenario.problems.append("the article's last paragraph is missing")
    if 'id="paywall-gate"' in reply.body:
        scenario.problems.append("the page carries a gate")
    if reply.set_cookies:
        scenario.problems.append("each response rewrites the session cookie (extra work)")


# --- main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument(
        "--session",
        choices=("form", "minted"),
        default="form",
        help="how the signed-in reader gets its session cookie: the real /signin form "
        "(falls back to minted if the form fails) or minted with the app's key",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use (a fresh database is created on it and dropped)",
    )
    parser.add_argument(
        "--per-cache",
        action="store_true",
        help="then time each scenario in process (WSGI calls on the same database and "
        "Redis) with all caches on and with each reading-path cache off in turn",
    )
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.rounds < 1 or args.readers < 1 or args.articles < len(LEVELS):
        parser.error(f"--seconds, --rounds, --readers >= 1 and --articles >= {len(LEVELS)}")
    return args


def print_table(scenarios: list[Scenario]) -> None:
    """Each scenario's median round, its ratio to hello-world and the verdict.

    The ratio is the median of the per-round ratios (each against the hello-world run of
    the same round, seconds apart), which shrugs off the machine getting busier or
    quieter between rounds; its range over the rounds is shown beside it.
    """
    hello_rounds = scenarios[0].results
    print(
        f"\n{'scenario':<36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} "
        f"{'(range)':>11}  verdict"
    )
    for scenario in scenarios:
        result = median_result(scenario.results)
        ratios = sorted(
            r.requests_per_second / (h.requests_per_second or float("nan"))
            for r, h in zip(scenario.results, hello_rounds, strict=True)
        )
        ratio = ratios[len(ratios) // 2]
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        failed = sum(r.bad_responses for r in scenario.results)
        if scenario is scenarios[0]:
            verdict = "baseline"
        elif scenario.problems or failed:
            verdict = "INVALID (see the checks above)"
        else:
            verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        if failed:
            verdict += f", {failed} failed requests"
        print(
            f"{result.name:<36} {result.requests_per_second:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {ratio:>6.2f} {spread:>11}  {verdict}"
        )
    print(f"target: ratio >= {TARGET_RATIO} to hello-world for both reading scenarios")


def run(args: argparse.Namespace) -> None:
    """Seed, serve, check, load, report."""
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-bench-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(args.database_url, workdir))
        started = time.monotonic()
        seeded = seed(database_url, workdir, args.readers, args.articles)
        print(
            f"seeded {args.readers} readers and {args.articles} articles "
            f"({', '.join(LEVELS)}) in {time.monotonic() - started:.1f} s "
            f"on {database_url.split(':')[0]}"
        )

        secret_key = secrets.token_hex(32)
        env = production_environment(secret_key, database_url, workdir)
        # Any Stripe call the app makes lands here and is counted (the reading path: none).
        stripe = cleanup.enter_context(StripeCounter())
        env["STRIPE_API_BASE"] = stripe.url
        app_port = cleanup.enter_context(gunicorn("wsgi:app", env, ROOT, probe=APP_PROBE))
        hello_port = cleanup.enter_context(gunicorn("hello:app", env, ROOT / "bench"))

        if args.session == "minted":
            cookie = mint_session_cookie(secret_key, seeded.reader_id)
            how = "session cookie minted with the app's key (--session minted)"
        else:
            try:
                cookie = sign_in_with_form(app_port, seeded.reader_email)
                how = "signed in through the real /signin form"
            except (RuntimeError, OSError) as error:
                cookie = mint_session_cookie(secret_key, seeded.reader_id)
                how = f"session cookie minted with the app's key (the form failed: {error})"
        print(f"signed-in reader: {how}")

        scenarios = [
            Scenario("hello-world", hello_port, "/"),
            Scenario("anonymous, paid article (teaser)", app_port, f"/articles/{seeded.paid_slug}"),
            Scenario(
                "signed in, free article (full)", app_port, f"/articles/{seeded.free_slug}", cookie
            ),
            Scenario(
                "subscriber, paid article (full)",
                app_port,
                f"/articles/{seeded.paid_slug}",
                cookie,
            ),
        ]
        check_hello(scenarios[0])
        check_teaser(scenarios[1])
        check_full(scenarios[2], seeded.reader_email)
        check_full(scenarios[3], seeded.reader_email)
        for scenario in scenarios:
            verdict = "; ".join(scenario.problems) or "ok"
            print(f"check {scenario.name}: {verdict}")

        generator = (
            f"wrk -t{THREADS} -c{CONNECTIONS}"
            if shutil.which("wrk")
            else f"python load generator, {CONNECTIONS} threads"
        )
        print(
            f"load: {generator}, {args.rounds} interleaved round(s) of {args.seconds} s per "
            f"scenario (median shown); gunicorn 2 sync workers; {os.cpu_count()} cores shared "
            "with the load generator"
        )
        # Interleaved rounds, medians reported: a burst of other work on the machine then
        # hits every scenario of a round alike instead of skewing one of them.
        for round_number in range(1, args.rounds + 1):
            for scenario in scenarios:
                result = measure(scenario, args.seconds)
                scenario.results.append(result)
                print(
                    f"  round {round_number}: {scenario.name:<36} "
                    f"{result.requests_per_second:>8.0f} req/s  p50 {result.p50_ms:.2f} ms",
                    flush=True,
                )
        print(f"Stripe calls made by the app during the run: {stripe.calls}")
        print_table(scenarios)
        if args.per_cache:
            time_each_cache(env, scenarios)


READING_CACHES = ("paywall.article_pages", "paywall.article_shells", "paywall.billing_snapshots")
IN_PROCESS_CALLS, IN_PROCESS_REPEATS = 2000, 5


def time_each_cache(env: dict[str, str], scenarios: list[Scenario]) -> None:
    """Milliseconds per request in process, all caches on and each one off in turn
    (``PAYWALL_CACHES_OFF``); what a cache gains is its row minus the first."""
    import statistics

    from hello import app as hello_app
    from inprocess import environ_for, time_per_request

    from paywall import create_app

    os.environ.update(env)
    print(f"\nin process, ms per request, median of {IN_PROCESS_REPEATS} x {IN_PROCESS_CALLS}")
    print(f"{'caches':<28}" + "".join(f"{s.name[:22]:>24}" for s in scenarios))
    for off in ("", *READING_CACHES):
        os.environ["PAYWALL_CACHES_OFF"] = off
        app = create_app()
        row = []
        for scenario in scenarios:
            target = hello_app if scenario.name == "hello-world" else app
            environ = environ_for(scenario.path, scenario.cookie)
            time_per_request(target, environ, 200)  # warm
            runs = [
                time_per_request(target, environ, IN_PROCESS_CALLS)
                for _ in range(IN_PROCESS_REPEATS)
            ]
            row.append(statistics.median(runs))
        label = f"without {off.removeprefix('paywall.')}" if off else "all on"
        print(f"{label:<28}" + "".join(f"{ms:>24.3f}" for ms in row), flush=True)
    os.environ.pop("PAYWALL_CACHES_OFF", None)


def main() -> int:
    """Entry point; returns the exit code."""
    return run_benchmark(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())

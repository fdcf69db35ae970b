"""In-process timing of the article page: each app called as WSGI, no server, no network.

The served figures of ``bench/articles.py`` swing with whatever else the machine runs;
calling the apps directly times only their own work, so this is the steadier guide while
optimising. Its ratios are not the served ones: a server adds the same fixed cost to
every request (about 0.3 ms here), which the served ratio includes.

With ``--spread`` it times the reading path as a news site's traffic hits it instead:
on a PostgreSQL scratch database (``--database-url``) seeded with many readers, articles
of realistic length and subscribers with billing rows, every request is another reader
(a session of their own) on an article drawn from a long-tail (Zipf) popularity, so the
per-worker caches mostly miss. It prints ms per request and, per request, the SQL
statements and the database round trips (libpq's protocol trace: one ``ReadyForQuery``
per round trip, the pool's pre-ping and transaction ends included).

Run: python bench/inprocess.py [--requests 2000] [--repeats 5] [--profile SCENARIO]
     [--sort cumulative|tottime]
     python bench/inprocess.py --spread [--readers 100000] [--articles 10000]
     [--subscribers 20000] [--database-url postgresql+psycopg://USER@HOST/DB] [--profile ...]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import itertools
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    LEVELS,
    PARAGRAPHS,
    fresh_database,
    insert_readers,
    mint_session_cookie,
    production_environment,
    seed,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SCENARIOS = ("hello", "teaser", "signed", "subscriber")
SPREAD_SCENARIOS = ("hello", "anonymous", "free-account", "subscriber")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# About 1,000 words in 14 paragraphs, as a long news article.
LONG_PARAGRAPHS = [
    f"Paragraph {i}. "
    + " ".join(
        f"The council's {word} budget for the river district, said residents on street {i},"
        for word in ("housing", "transport", "school", "library", "parks", "water")
    )
    for i in range(14)
]


def call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """One request: the status, the headers and the body."""
    reply: list[Any] = []
    body = b"".join(app({**environ, "wsgi.input": io.BytesIO()}, lambda *a: reply.extend(a)))
    return reply[0], reply[1], body


def environ_for(path: str, cookie: str = "") -> dict[str, Any]:
    """A GET from loopback without a User-Agent, as wrk sends it."""
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": cookie} if cookie else {}
    builder = EnvironBuilder(path=path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    return builder.get_environ()


def check(name: str, reply: tuple[str, list[tuple[str, str]], bytes], email: str) -> None:
    """Refuse to time a scenario that does not serve what it claims."""
    status, headers, body = reply
    problems = [] if status.startswith("200") else [f"answered {status}"]
    if name in ("signed", "subscriber"):
        if email.encode() not in body or PARAGRAPHS[-1].encode() not in body:
            problems.append("not the signed-in reader's full article")
        if any(key == "Set-Cookie" for key, _ in headers):
            problems.append("rewrites the session cookie on every request")
    if name == "teaser" and PARAGRAPHS[-1].encode() in body:
        problems.append("text past the teaser was sent")
    if problems:
        raise SystemExit(f"{name}: {'; '.join(problems)}")


def time_per_request(app: WsgiApp, environ: dict[str, Any], requests: int) -> float:
    """Milliseconds per request over ``requests`` calls."""
    started = time.perf_counter()
    for _ in range(requests):
        call(app, environ)
    return (time.perf_counter() - started) / requests * 1000


def main() -> int:
    """Seed, build the apps, check each scenario, then time or profile."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per scenario")
    parser.add_argument(
        "--profile", choices=sorted({*SCENARIOS, *SPREAD_SCENARIOS}), help="cProfile one instead"
    )
    parser.add_argument("--sort", default="cumulative", help="profile order (e.g. tottime)")
    parser.add_argument("--spread", action="store_true", help="many readers and articles")
    parser.add_argument("--readers", type=int, default=100_000, help="with --spread")
    parser.add_argument("--articles", type=int, default=10_000, help="with --spread")
    parser.add_argument("--subscribers", type=int, default=20_000, help="with --spread")
    parser.add_argument(
        "--database-url", default=DEFAULT_POSTGRES, help="with --spread: a PostgreSQL server"
    )
    args = parser.parse_args()
    if args.spread:
        return spread(args)
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-inprocess-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(None, workdir))
        seeded = seed(database_url, workdir, readers=2000, articles=200)
        secret_key = secrets.token_hex(32)
        os.environ.update(production_environment(secret_key, database_url, workdir))

        from hello import app as hello_app

        from paywall import create_app

        app = create_app()
        cookie = mint_session_cookie(secret_key, seeded.reader_id)
        scenarios: dict[str, tuple[WsgiApp, dict[str, Any]]] = {
            "hello": (hello_app, environ_for("/")),
            "teaser": (app, environ_for(f"/articles/{seeded.paid_slug}")),
            "signed": (app, environ_for(f"/articles/{seeded.free_slug}", cookie)),
            "subscriber": (app, environ_for(f"/articles/{seeded.paid_slug}", cookie)),
        }
        for name, (target, environ) in scenarios.items():
            check(name, call(target, environ), seeded.reader_email)
            time_per_request(target, environ, 200)  # warm every cache first

        if args.profile:
            target, environ = scenarios[args.profile]
            profiler = cProfile.Profile()
            profiler.runcall(time_per_request, target, environ, args.requests)
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
            return 0
        print(f"ms per request, median (min) of {args.repeats} x {args.requests} calls")
        for name, (target, environ) in scenarios.items():
            runs = [time_per_request(target, environ, args.requests) for _ in range(args.repeats)]
            print(f"  {name:<7} {statistics.median(runs):.3f} ({min(runs):.3f})")
    return 0


# --- spread over many articles and readers ------------------------------------------------


@dataclass
class SpreadSeed:
    """The seeded database's slugs (most popular first) and session tokens."""

    slugs: list[str]
    free_tokens: list[str]  # sessions of readers without a subscription
    subscriber_tokens: list[str]


def spread_seed(database_url: str, instance: Path, args: argparse.Namespace) -> SpreadSeed:
    """Migrate and bulk-load readers, long articles, subscribers (customer, card, active
    subscription, paid invoice) and one live session per reader that will be used."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription
    from paywall import create_app
    from paywall.accounts.models import LoginSession
    from paywall.articles.content import render_body
    from paywall.articles.models import Article
    from paywall.extensions import db

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
        }
    )
    now = datetime.now(UTC)
    rendered = render_body("\n\n".join(LONG_PARAGRAPHS), "markdown", 2)
    subscribers = min(args.subscribers, args.readers // 2)
    # Readers 0 .. subscribers-1 subscribe; as many others use the site signed in.
    signed_in = min(args.readers, 2 * subscribers + 20_000)

    def batches(rows: Iterable[dict[str, Any]], table: Any, size: int = 10_000) -> None:
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, size)):
            db.session.execute(insert(table), batch)

    tokens = [secrets.token_urlsafe(32) for _ in range(signed_in)]
    with app.app_context():
        upgrade()
        insert_readers(args.readers, now)
        batches(
            (
                {
                    "slug": f"article-{i}",
                    "title": f"Article {i}: the council and the river",
                    "author": f"Writer {i % 50}",
                    "dek": f"What the budget means for district {i}.",
                    "published_at": now - timedelta(minutes=i),
                    "access_level": LEVELS[i % len(LEVELS)],
                    "tiers": "standard" if LEVELS[i % len(LEVELS)] == "tiers" else "",
                    "body_source": "\n\n".join(LONG_PARAGRAPHS),
                    "body_format": "markdown",
                    "teaser_html": rendered.teaser_html,
                    "full_html": rendered.full_html,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(args.articles)
            ),
            Article,
            2_000,
        )
        db.session.execute(
            insert(Plan),
            {"code": "monthly", "name": "Monthly", "tier": "standard", "amount": 900,
             "stripe_plan_id": "price_bench", "stripe_product_id": "prod_bench"},
        )  # fmt: skip
        # Reader ids start at 1 in a fresh database, in insertion order.
        ids = range(1, subscribers + 1)
        batches(({"id": n, "reader_id": n, "stripe_customer_id": f"cus_{n}",
                  "default_payment_method_id": f"pm_{n}"} for n in ids), Customer)  # fmt: skip
        batches(({"stripe_payment_method_id": f"pm_{n}", "customer_id": n, "brand": "visa",
                  "last4": "4242", "exp_month": 12, "exp_year": now.year + 3} for n in ids),
                PaymentMethod)  # fmt: skip
        batches(({"stripe_subscription_id": f"sub_{n}", "customer_id": n, "status": "active",
                  "plan_code": "monthly", "was_active": True, "latest_invoice_status": "paid",
                  "current_period_end": now + timedelta(days=n % 28 + 1)} for n in ids),
                Subscription)  # fmt: skip
        batches(({"stripe_invoice_id": f"in_{n}", "customer_id": n, "status": "paid",
                  "amount_due": 900, "amount_paid": 900, "created": now - timedelta(days=3),
                  "stripe_subscription_id": f"sub_{n}"} for n in ids), Invoice)  # fmt: skip
        batches(({"reader_id": n + 1, "remember": True, "created_at": now, "last_seen_at": now,
                  "token_digest": hashlib.sha256(token.encode()).hexdigest(),
                  "expires_at": now + timedelta(days=30)} for n, token in enumerate(tokens)),
                LoginSession)  # fmt: skip
        db.session.execute(
            text(
                "SELECT setval('billing_customers_id_seq', (SELECT max(id) FROM billing_customers))"
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return SpreadSeed(
        slugs=[f"article-{i}" for i in range(args.articles)],
        free_tokens=tokens[subscribers:],
        subscriber_tokens=tokens[:subscribers],
    )


def cookie_minter(secret_key: str) -> Callable[[str], str]:
    """Session cookies as a real sign-in leaves them (see ``articles.mint_session_cookie``),
    made by one serializer instead of an app per cookie."""
    from flask import Flask
    from flask_login import LoginManager

    app = Flask(__name__)
    app.secret_key = secret_key
    login_manager = LoginManager(app)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = login_manager._session_identifier_generator()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]

    def mint(token: str) -> str:
        values = {"_user_id": token, "_fresh": True, "_id": identifier,
                  "csrf_token": secrets.token_hex(20)}  # fmt: skip
        return f"session={serializer.dumps(values)}"

    return mint


def zipf_slugs(slugs: list[str], count: int, rng: random.Random) -> list[str]:
    """``count`` slugs drawn with popularity 1/rank (a long tail)."""
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(slugs) + 1)))
    return rng.choices(slugs, cum_weights=weights, k=count)


def spread_environs(
    seeded: SpreadSeed, mint: Callable[[str], str], count: int, rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    """Per scenario, ``count`` requests: each a Zipf-drawn article, each signed-in one
    by a reader not seen before in the run (cycling only past the seeded sessions)."""
    out: dict[str, list[dict[str, Any]]] = {"hello": [environ_for("/")] * count}
    out["anonymous"] = [environ_for(f"/articles/{s}") for s in zipf_slugs(seeded.slugs, count, rng)]
    for name, tokens in (
        ("free-account", seeded.free_tokens),
        ("subscriber", seeded.subscriber_tokens),
    ):
        shuffled = rng.sample(tokens, len(tokens))
        readers = itertools.islice(itertools.cycle(shuffled), count)
        slugs = zipf_slugs(seeded.slugs, count, rng)
        out[name] = [
            environ_for(f"/articles/{slug}", mint(token))
            for slug, token in zip(slugs, readers, strict=False)
        ]
    return out


def check_spread(name: str, reply: tuple[str, list[tuple[str, str]], bytes]) -> None:
    """Every answer is a page; nothing past the teaser reaches a reader without access."""
    status, headers, body = reply
    problems = [] if status.startswith("200") else [f"answered {status}"]
    gated = b'id="paywall-gate"' in body
    last = LONG_PARAGRAPHS[-1][:40].encode()
    if gated and last in body:
        problems.append("text past the teaser was sent with the gate")
    if name == "subscriber" and (gated or last not in body):
        problems.append("a subscriber was not given the full text")
    if name != "anonymous" and b"Sign out" not in body:
        problems.append("the reader is not recognised")
    if name != "anonymous" and any(key == "Set-Cookie" for key, _ in headers):
        problems.append("rewrites the session cookie")
    if problems:
        raise SystemExit(f"{name}: {'; '.join(problems)}")


@contextmanager
def counted_round_trips(engine: Any) -> Iterator[dict[str, int]]:
    """Count SQL statements and libpq round trips (``ReadyForQuery`` messages, each the end
    of one exchange) of the connections ``engine`` opens within."""
    from sqlalchemy import event

    counts = {"statements": 0, "round_trips": 0, "connects": 0}
    with tempfile.TemporaryFile(mode="w+") as trace:

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            counts["connects"] += 1
            dbapi_connection.pgconn.trace(trace.fileno())

        def on_execute(*args: Any) -> None:
            counts["statements"] += 1

        engine.dispose()
        event.listen(engine, "connect", on_connect)
        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            yield counts
        finally:
            event.remove(engine, "connect", on_connect)
            event.remove(engine, "before_cursor_execute", on_execute)
            engine.dispose()
            trace.flush()
            trace.seek(0)
            exchanges = sum(1 for line in trace if "\tReadyForQuery" in line)
            # Each new connection's start-up ends with one too: not a request's.
            counts["round_trips"] = exchanges - counts["connects"]


def spread(args: argparse.Namespace) -> int:
    """``--spread``: seed a big PostgreSQL database, then time, count or profile."""
    rng = random.Random(12)
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-inprocess-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(args.database_url, workdir))
        started = time.monotonic()
        seeded = spread_seed(database_url, workdir, args)
        print(
            f"seeded {args.readers} readers, {args.articles} articles, "
            f"{len(seeded.subscriber_tokens)} subscribers, "
            f"{len(seeded.free_tokens) + len(seeded.subscriber_tokens)} sessions "
            f"in {time.monotonic() - started:.0f} s"
        )
        secret_key = secrets.token_hex(32)
        os.environ.update(production_environment(secret_key, database_url, workdir))

        from hello import app as hello_app

        from paywall import create_app
        from paywall.extensions import db

        app = create_app()
        warm, counted = 500, 200
        total = warm + counted + args.requests * (args.repeats if not args.profile else 1)
        requests = spread_environs(seeded, cookie_minter(secret_key), total, rng)
        apps: dict[str, WsgiApp] = {name: app for name in requests}
        apps["hello"] = hello_app
        taken = dict.fromkeys(requests, 0)

        def run(name: str, count: int) -> tuple[float, float]:
            """Milliseconds per request over the scenario's next ``count`` requests: wall
            clock and this process's CPU (the database's own work is not in either)."""
            target, start = apps[name], taken[name]
            batch = requests[name][start : start + count]
            taken[name] = start + count
            began, began_cpu = time.perf_counter(), time.process_time()
            for environ in batch:
                call(target, environ)
            wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
            return wall / count * 1000, cpu / count * 1000

        for name in SPREAD_SCENARIOS:
            for environ in requests[name][:20]:
                if name != "hello":
                    check_spread(name, call(app, environ))
            run(name, warm)  # caches as warm as a long-running worker's
        with app.app_context():
            engine = db.engine
        per_request: dict[str, tuple[float, float]] = {}
        for name in SPREAD_SCENARIOS[1:]:
            with counted_round_trips(engine) as counts:
                run(name, counted)
            per_request[name] = (counts["statements"] / counted, counts["round_trips"] / counted)

        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(run, args.profile, args.requests)
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
            return 0
        print(
            f"spread: ms per request, min and median of {args.repeats} x {args.requests} "
            "calls, every call another article (Zipf) and another reader; CPU is this "
            "process's (the app's), wall adds the waits for PostgreSQL and Redis"
        )
        print(
            f"  {'scenario':<13} {'CPU min':>8} {'median':>7} {'wall min':>9} {'median':>7}"
            "  SQL/req  round trips/req"
        )
        for name in SPREAD_SCENARIOS:
            walls, cpus = zip(*(run(name, args.requests) for _ in range(args.repeats)), strict=True)
            statements, trips = per_request.get(name, (0.0, 0.0))
            print(
                f"  {name:<13} {min(cpus):>8.3f} {statistics.median(cpus):>7.3f}"
                f" {min(walls):>9.3f} {statistics.median(walls):>7.3f}"
                f"  {statements:>7.2f}  {trips:>15.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

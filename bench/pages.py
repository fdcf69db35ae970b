"""List and staff pages at full size: each page timed in process as a signed-in admin.

Seeds (or reuses) a PostgreSQL database with 1,000,000 readers, 100,000 articles and
200,000 subscriptions (customers, cards, about 400,000 invoices, four plans in two
currencies), in ``INSERT ... SELECT generate_series`` statements (a few minutes), then
calls each page with the app's test client: the front page, section and author lists,
the staff's readers, subscribers (with revenue), articles, overview and dashboard, the
content API's list, each over varied pages (first page, deep pages by cursor, email and
title searches, filters). Prints the median and p95 of each and PASS/FAIL against its
target (20 ms for reader-facing lists, 100 ms for staff pages); ``--explain`` also
prints ``EXPLAIN ANALYZE`` of the statements of each page slower than its target.

The database is kept (``--database-name``) so later runs skip the seeding; each run
applies the migrations first, so a run on new code measures the same rows with the new
schema. ``--reseed`` drops and seeds it again.

Run: python bench/pages.py [--requests 30] [--explain] [--only subscribers]
     [--database-url postgresql+psycopg://USER@HOST/DB] [--database-name NAME] [--reseed]
     [--readers 1000000] [--articles 100000] [--subscriptions 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import render_bodies  # noqa: E402  (bench/ is on sys.path when run as a script)

LIST_TARGET_MS = 20.0
STAFF_TARGET_MS = 100.0
ADMIN_EMAIL = "admin@pages.bench"
FIRST_NAMES = ("anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo", "ida",
               "jonas", "karin", "liam", "mara", "nils", "olga", "paul", "quinn", "rosa",
               "sven", "tara", "ulla", "viktor", "wendy", "yusuf")  # fmt: skip
DOMAINS = ("mail.example", "post.example", "inbox.example", "news.example", "web.example")
SECTIONS = ("World", "Politics", "Business", "Science", "Culture", "Sport", "Climate",
            "Health", "Technology", "Opinion", "Local", "Travel")  # fmt: skip
TITLE_WORDS = ("harbour", "council", "budget", "river", "ferry", "election", "school",
               "market", "housing", "bridge", "festival", "forest", "rail", "museum",
               "storm", "energy")  # fmt: skip
AUTHORS = 300


def sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join(f"'{value}'" for value in values) + "]"


# --- seeding ---------------------------------------------------------------------------


def seed(conn: Any, readers: int, articles: int, subscriptions: int) -> None:
    """Bulk-load every table the pages read, in a handful of set-based statements."""
    from sqlalchemy import text

    def run(label: str, statement: str, **params: object) -> None:
        started = time.perf_counter()
        conn.execute(text(statement), params)
        print(f"  {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    names, domains = sql_array(FIRST_NAMES), sql_array(DOMAINS)
    run("readers", f"""
        INSERT INTO readers (email, name, role, email_verified_at, is_comped, security_stamp,
                             created_at, last_signed_in_at)
        SELECT ({names})[1 + i % 24] || '.' || i || '@' || ({domains})[1 + i % 5],
               initcap(({names})[1 + i % 24]) || ' ' || i, 'reader',
               CASE WHEN i % 10 = 0 THEN NULL ELSE now() - (i % 700) * interval '1 day' END,
               i % 1000 = 0, 0,
               now() - (:n - i) * interval '1 minute',
               CASE WHEN i % 10 = 0 THEN NULL ELSE now() - (i % 30) * interval '1 day' END
        FROM generate_series(1, :n) AS i""", n=readers)  # fmt: skip
    run(
        "admin",
        """
        INSERT INTO readers (email, name, role, email_verified_at, is_comped, security_stamp,
                             created_at)
        VALUES (:email, 'Bench Admin', 'admin', now(), false, 0, now())""",
        email=ADMIN_EMAIL,
    )
    run("plans", """
        INSERT INTO billing_plans (code, name, tier, amount, currency, interval, trial_days,
                                   description, active, position, stripe_product_id,
                                   stripe_plan_id, created_at)
        VALUES ('monthly', 'Monthly', 'standard', 900, 'usd', 'month', 0, '', true, 1,
                'prod_m', 'plan_monthly', now()),
               ('yearly', 'Yearly', 'standard', 9000, 'usd', 'year', 0, '', true, 2,
                'prod_y', 'plan_yearly', now()),
               ('premium', 'Premium', 'premium', 1500, 'usd', 'month', 14, '', true, 3,
                'prod_p', 'plan_premium', now()),
               ('euro', 'Monthly (EUR)', 'standard', 800, 'eur', 'month', 0, '', true, 4,
                'prod_e', 'plan_euro', now())""")  # fmt: skip
    # Customer i is reader 5i (reader ids start at 1 in a fresh database).
    run("customers", """
        INSERT INTO billing_customers (reader_id, stripe_customer_id, email,
                                       default_payment_method_id, deleted, synced_at)
        SELECT 5 * i, 'cus_b' || i, '', 'pm_b' || i, false, now()
        FROM generate_series(1, :n) AS i""", n=subscriptions)  # fmt: skip
    run("cards", """
        INSERT INTO billing_payment_methods (stripe_payment_method_id, customer_id, brand,
                                             last4, exp_month, exp_year, funding, synced_at)
        SELECT 'pm_b' || i, i, 'visa', lpad((i % 10000)::text, 4, '0'), 1 + i % 12,
               2026 + i % 5, 'credit', now()
        FROM generate_series(1, :n) AS i""", n=subscriptions)  # fmt: skip
    # By i % 20: 14 active, 1 trialing, 1 past due, 3 ended, 1 never paid.
    run("subscriptions", """
        INSERT INTO billing_subscriptions (
            stripe_subscription_id, customer_id, stripe_plan_id, plan_code, stripe_item_id,
            status, current_period_start, current_period_end, cancel_at_period_end,
            canceled_at, ended_at, trial_end, latest_invoice_status, payment_failed_at,
            was_active, has_own_payment_method, created_at, synced_at, collection_paused)
        SELECT 'sub_b' || i, i, 'plan_' || plan, plan, 'si_b' || i, status,
               now() - interval '10 days', now() + interval '20 days',
               status = 'active' AND i % 25 = 0,
               CASE WHEN status = 'canceled' THEN ended END,
               CASE WHEN status IN ('canceled', 'incomplete_expired') THEN ended END,
               CASE WHEN status = 'trialing' THEN now() + interval '7 days'
                    WHEN i % 4 = 0 THEN created + interval '14 days' END,
               CASE WHEN status = 'past_due' THEN 'open' ELSE 'paid' END,
               CASE WHEN status = 'past_due' THEN now() - interval '2 days' END,
               status <> 'incomplete_expired', false, created, now(), false
        FROM (
            SELECT i,
                   CASE WHEN i % 20 < 14 THEN 'active' WHEN i % 20 = 14 THEN 'trialing'
                        WHEN i % 20 = 15 THEN 'past_due' WHEN i % 20 < 19 THEN 'canceled'
                        ELSE 'incomplete_expired' END AS status,
                   CASE WHEN i % 10 < 6 THEN 'monthly' WHEN i % 10 < 8 THEN 'yearly'
                        WHEN i % 10 = 8 THEN 'premium' ELSE 'euro' END AS plan,
                   now() - (i % 730) * interval '1 day' - (i % 1440) * interval '1 minute'
                       AS created,
                   least(now() - (i % 730) * interval '1 day' + (i % 300) * interval '1 day',
                         now() - (i % 7) * interval '1 hour') AS ended
            FROM generate_series(1, :n) AS i
        ) AS s""", n=subscriptions)  # fmt: skip
    # Two invoices each: the first payment and a renewal (open and retried when past due,
    # every 13th paid on a later attempt).
    run("invoices", """
        INSERT INTO billing_invoices (stripe_invoice_id, customer_id, stripe_subscription_id,
            status, amount_due, amount_paid, currency, billing_reason, attempt_count,
            created, paid_at, synced_at)
        SELECT 'in_b' || s.id || '_' || k, s.customer_id, s.stripe_subscription_id,
               CASE WHEN k = 1 AND s.status = 'past_due' THEN 'open' ELSE 'paid' END,
               p.amount,
               CASE WHEN k = 1 AND s.status = 'past_due' THEN 0 ELSE p.amount END,
               p.currency, CASE WHEN k = 0 THEN 'subscription_create'
                                ELSE 'subscription_cycle' END,
               CASE WHEN k = 1 AND (s.status = 'past_due' OR s.id % 13 = 0) THEN 2 ELSE 1 END,
               s.created_at + k * interval '30 days',
               s.created_at + k * interval '30 days', now()
        FROM billing_subscriptions AS s
        JOIN billing_plans AS p ON p.code = s.plan_code
        CROSS JOIN generate_series(0, 1) AS k
        WHERE s.was_active""")  # fmt: skip
    source, teaser_html, full_html = render_bodies()
    words = sql_array(TITLE_WORDS)
    # 1 in 100 a draft, 1 in 200 scheduled; one every 10 minutes back from now.
    run("articles", f"""
        INSERT INTO articles (slug, title, author, dek, published_at, access_level, tiers,
                              body_source, body_format, teaser_html, full_html, created_at,
                              updated_at)
        SELECT 'story-' || i,
               initcap(({words})[1 + i % 16]) || ' and the ' || ({words})[1 + (i / 16) % 16]
                   || ', part ' || i,
               'Writer ' || (i % {AUTHORS}), 'A one-paragraph summary of story ' || i || '.',
               CASE WHEN i % 100 = 0 THEN NULL
                    WHEN i % 200 = 1 THEN now() + (i % 7 + 1) * interval '1 day'
                    ELSE now() - i * interval '10 minutes' END,
               (ARRAY['free','registered','paid','paid'])[1 + i % 4], '',
               :source, 'markdown', :teaser, :full, now(), now()
        FROM generate_series(1, :n) AS i""",
        n=articles, source=source, teaser=teaser_html, full=full_html)  # fmt: skip


def seed_sections(conn: Any) -> None:
    """Give every article a section and the slugs of its section and author, when the
    schema has them and the rows do not (a database seeded before they existed)."""
    from sqlalchemy import inspect, text

    columns = {c["name"] for c in inspect(conn).get_columns("articles")}
    if "section" not in columns:
        return
    if conn.execute(text("SELECT 1 FROM articles WHERE section <> '' LIMIT 1")).first():
        return
    started = time.perf_counter()
    conn.execute(text(f"""
        UPDATE articles SET section = ({sql_array(SECTIONS)})[1 + id % {len(SECTIONS)}],
                            section_slug = lower(({sql_array(SECTIONS)})[1 + id % {len(SECTIONS)}]),
                            author_slug = lower(replace(author, ' ', '-'))"""))  # fmt: skip
    print(f"  sections: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


@contextmanager
def bench_database(args: argparse.Namespace) -> Iterator[str]:
    """The URL of the kept bench database, created and seeded when missing."""
    import sqlalchemy as sa

    from config import normalise_database_url

    server = sa.make_url(normalise_database_url(args.database_url))
    if server.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: only PostgreSQL is supported")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = args.database_name
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and args.reseed:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield server.set(database=name).render_as_string(hide_password=False)


# --- the pages ---------------------------------------------------------------------------


@dataclass
class Page:
    """A page and the varied URLs it is timed over (as an admin when ``staff``, else
    as an anonymous reader)."""

    name: str
    target_ms: float
    urls: list[str]
    timings: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU per request
    statements: dict[str, list[str]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.timings)

    @property
    def staff(self) -> bool:
        return self.target_ms == STAFF_TARGET_MS

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def cursor(*key: object) -> str:
    from paywall.pagination import encode_cursor

    return encode_cursor(tuple(key))


def build_pages(conn: Any, readers: int, api_key: str | None) -> list[Page]:
    """Every page timed, each over a few kinds of request."""
    from sqlalchemy import text

    def one(statement: str) -> Any:
        return conn.execute(text(statement)).first()

    deep_article = one("SELECT published_at, id FROM articles WHERE published_at < now() "
                       "ORDER BY published_at DESC, id DESC OFFSET 60000 LIMIT 1")  # fmt: skip
    front_deep = cursor(deep_article[0], deep_article[1])
    pages = [
        Page("front page: first", LIST_TARGET_MS, ["/"]),
        Page("front page: deep (cursor)", LIST_TARGET_MS,
             [f"/?older={front_deep}", f"/?newer={front_deep}"]),
    ]  # fmt: skip
    columns = {r[0] for r in conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles'"
    ))}  # fmt: skip
    if "section_slug" in columns:
        deep_politics = one("SELECT published_at, id FROM articles WHERE section_slug = "
                            "'politics' AND published_at < now() ORDER BY published_at DESC, "
                            "id DESC OFFSET 5000 LIMIT 1")  # fmt: skip
        deep_writer = one("SELECT published_at, id FROM articles WHERE author_slug = "
                          "'writer-7' AND published_at < now() ORDER BY published_at DESC, "
                          "id DESC OFFSET 200 LIMIT 1")  # fmt: skip
        pages += [
            Page("section: first", LIST_TARGET_MS,
                 [f"/sections/{s.lower()}" for s in SECTIONS]),
            Page("section: deep (cursor)", LIST_TARGET_MS,
                 [f"/sections/politics?older={cursor(*deep_politics)}"]),
            Page("author: first", LIST_TARGET_MS,
                 [f"/authors/writer-{n}" for n in (1, 7, 42, 150, 299)]),
            Page("author: deep (cursor)", LIST_TARGET_MS,
                 [f"/authors/writer-7?older={cursor(*deep_writer)}"]),
        ]  # fmt: skip
    if api_key:
        pages.append(Page("content API list", LIST_TARGET_MS,
                          ["/api/v1/articles", "/api/v1/articles?limit=100"]))  # fmt: skip
    middle_reader = readers // 2
    deep_customer = one("SELECT max(id) / 2 FROM billing_customers")[0]
    pages += [
        Page("readers: first", STAFF_TARGET_MS, ["/admin/readers"]),
        Page("readers: deep (cursor)", STAFF_TARGET_MS,
             [f"/admin/readers?older={cursor(middle_reader)}",
              f"/admin/readers?newer={cursor(middle_reader)}"]),
        Page("readers: email search", STAFF_TARGET_MS,
             ["/admin/readers?email=anna", f"/admin/readers?email=mara.{middle_reader}",
              "/admin/readers?email=nobody-here", "/admin/readers?email=sven.12"]),
        Page("readers: state filter", STAFF_TARGET_MS,
             ["/admin/readers?state=unconfirmed", "/admin/readers?state=comped",
              "/admin/readers?state=staff", "/admin/readers?state=confirmed"]),
        Page("subscribers: first", STAFF_TARGET_MS, ["/admin/subscribers"]),
        Page("subscribers: deep (cursor)", STAFF_TARGET_MS,
             [f"/admin/subscribers?older={cursor(deep_customer)}",
              f"/admin/subscribers?newer={cursor(deep_customer)}"]),
        Page("subscribers: email search", STAFF_TARGET_MS,
             ["/admin/subscribers?email=anna", "/admin/subscribers?email=mara.15",
              "/admin/subscribers?email=nobody-here"]),
        Page("subscribers: status/plan filter", STAFF_TARGET_MS,
             ["/admin/subscribers?status=past_due", "/admin/subscribers?status=trialing",
              "/admin/subscribers?plan=premium", "/admin/subscribers?status=canceled&plan=euro",
              "/admin/subscribers?status=paused"]),
        Page("articles (staff): first", STAFF_TARGET_MS, ["/admin/articles"]),
        Page("articles (staff): title search", STAFF_TARGET_MS,
             ["/admin/articles?title=harbour", "/admin/articles?title=part 4242",
              "/admin/articles?title=no such words"]),
        Page("articles (staff): state filter", STAFF_TARGET_MS,
             ["/admin/articles?state=draft", "/admin/articles?state=scheduled",
              "/admin/articles?state=published&access=free"]),
        Page("overview", STAFF_TARGET_MS, ["/admin"]),
        Page("dashboard", STAFF_TARGET_MS, ["/admin/dashboard"]),
    ]  # fmt: skip
    return pages


def make_site(app: Any) -> str:
    """A site with every article linked to it; its secret API key."""
    from sqlalchemy import text

    from paywall.embed.sites import create_site
    from paywall.extensions import db

    made = create_site("Pages bench", ["https://news.pages.bench"])
    db.session.execute(text("""
        INSERT INTO embed_articles (site_id, external_id, article_id, canonical_url,
                                    created_at, updated_at)
        SELECT :site, 'ext-' || id, id, '', now(), now() FROM articles"""),
        {"site": made.site.id},
    )  # fmt: skip
    db.session.commit()
    db.session.execute(text("ANALYZE embed_articles"))
    db.session.commit()
    return str(made.secret_key)


# --- timing ------------------------------------------------------------------------------


@contextmanager
def recorded(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) sent meanwhile."""
    from sqlalchemy import event

    sent: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def time_pages(
    app: Any, pages: list[Page], requests: int, headers: dict[str, str], billing_changes: bool
) -> None:
    """Call each page's URLs in turn ``requests`` times, after one warm-up each;
    ``billing_changes``: move the billing counter before each staff request (untimed), as
    a webhook applied between two views would, so no figure kept per worker is reused."""
    from paywall.invalidation import BILLING, bump

    admin, anonymous = signed_in_client(app), app.test_client()
    for page in pages:
        client = admin if page.staff else anonymous
        api = page.urls[0].startswith("/api/")
        for url in page.urls:
            answer = client.get(url, headers=headers if api else {})
            if answer.status_code != 200:
                raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")
        for number in range(requests):
            url = page.urls[number % len(page.urls)]
            if billing_changes and page.staff:
                with app.app_context():
                    bump([BILLING])
            started, cpu = time.perf_counter(), time.process_time()
            client.get(url, headers=headers if api else {})
            page.timings.append((time.perf_counter() - started) * 1000)
            page.cpu.append((time.process_time() - cpu) * 1000)


def signed_in_client(app: Any) -> Any:
    """A test client signed in as the bench's admin."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = app.config["BENCH_SESSION"]
        session["_fresh"] = True
    return client


def explain(app: Any, page: Page, headers: dict[str, str]) -> None:
    """``EXPLAIN ANALYZE`` of every statement the page's URLs send."""
    from paywall.extensions import db

    client = signed_in_client(app) if page.staff else app.test_client()
    api = page.urls[0].startswith("/api/")
    with app.app_context():
        engine = db.engine
    for url in page.urls:
        with recorded(engine) as sent:
            client.get(url, headers=headers if api else {})
        print(f"\n=== {page.name}: {url}")
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for statement, parameters in sent:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                started = time.perf_counter()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = [row[0] for row in cur.fetchall()]
                took = (time.perf_counter() - started) * 1000
                if took < 2:
                    continue
                print(f"--- {took:.1f} ms: {' '.join(statement.split())[:300]}")
                print("\n".join(plan))
        finally:
            raw.rollback()
            raw.close()


def print_table(pages: list[Page], requests: int) -> None:
    """Wall time (median, p95, min) and this process's CPU (median) per page."""
    print(f"\nms per request, in process (test client), {requests} requests each;")
    print("app cpu: this process's CPU, the rest is the database and waiting for a core")
    print(f"{'page':<34} {'median':>7} {'p95':>7} {'min':>7} {'app cpu':>8} {'target':>6}  verdict")
    for page in pages:
        verdict = "PASS" if page.median <= page.target_ms else "FAIL"
        print(
            f"{page.name:<34} {page.median:7.1f} {page.p95:7.1f} {min(page.timings):7.1f} "
            f"{statistics.median(page.cpu):8.1f} {page.target_ms:6.0f}  {verdict}"
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE slow pages (every page with --only)"
    )
    parser.add_argument(
        "--billing-changes",
        action="store_true",
        help="a billing change before each staff request: the figures kept per worker unused",
    )
    parser.add_argument("--only", default="", help="time only pages whose name has this")
    parser.add_argument("--readers", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--subscriptions", type=int, default=200_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "PAYWALL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (the database named is only used to connect)",
    )
    parser.add_argument("--database-name", default="paywall_pages_bench")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from paywall import create_app
    from paywall.accounts.models import Reader
    from paywall.accounts.sessions import open_session
    from paywall.extensions import db

    with bench_database(args) as url, tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance}
        )
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                if conn.scalar(text("SELECT count(*) FROM (SELECT 1 FROM readers LIMIT 1) r")) == 0:
                    print("seeding (kept for later runs)", file=sys.stderr, flush=True)
                    seed(conn, args.readers, args.articles, args.subscriptions)
                seed_sections(conn)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            admin = db.session.scalars(select(Reader).where(Reader.email == ADMIN_EMAIL)).one()
            app.config["BENCH_SESSION"] = open_session(admin.id).token
            api_key = make_site(app)
            with db.engine.connect() as conn:
                pages = build_pages(conn, args.readers, api_key)
            db.session.remove()
        pages = [page for page in pages if args.only in page.name]
        headers = {"Authorization": f"Bearer {api_key}"}
        time_pages(app, pages, args.requests, headers, args.billing_changes)
        print_table(pages, args.requests)
        if args.explain:
            for page in pages:
                if page.median > page.target_ms or args.only:
                    explain(app, page, headers)
        with app.app_context():
            db.session.execute(text("DELETE FROM embed_sites WHERE name = 'Pages bench'"))
            db.session.commit()
    print(f"finished {datetime.now(UTC):%H:%M:%S}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

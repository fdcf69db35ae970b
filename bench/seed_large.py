"""Seed a PostgreSQL database at a news site's size, fast: server-side bulk inserts.

Readers, articles, plans, customers, cards, subscriptions and invoices are made by
``INSERT ... SELECT generate_series`` statements in batches (the rows are built by the
server, nothing crosses the wire but the statement), so 1,000,000 readers and 100,000
articles of 800-1,500 words take minutes. Rows follow fixed rules of their number, which
the benchmark uses to know what each request should get (:func:`article_level`,
:func:`subscriber_reader`, ...):

- reader ``n`` (1 .. readers) is ``reader<n>@bench.example``, one argon2 hash shared;
- every fifth reader (``5 * s``) is subscriber ``s`` (1 .. subscribers): a Stripe
  customer, a default card, a subscription (mostly active; some trialing, past due or
  canceled) on one of three plans, and 1 to 6 invoices, as webhooks leave them;
- article ``n`` (1 .. articles) is ``article-<n>``, published ``n`` hours ago, of one of
  a few bodies rendered once with the app's renderer and numbered per article, at the
  access level :func:`article_level` gives.

A table ``bench_seeded`` records the sizes and whether seeding finished, so a kept
database is seeded once and reused (:func:`ensure_seeded`).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH_READERS, BATCH_ARTICLES, BATCH_SUBSCRIBERS = 100_000, 5_000, 50_000
PASSWORD = "benchmark-password"
TEASER_PARAGRAPHS = 3
BODIES = 8  # distinct bodies rendered; each article numbers its own copy
NUMBER = "ARTICLENUMBER"  # placeholder replaced by the article's number in SQL
SITE_NAME, SITE_ORIGIN = "Bench News", "https://news.example.com"
ADMIN_EMAIL = "admin@bench.example"
PLANS = (  # code, name, tier, amount in cents, interval
    ("monthly", "Monthly", "standard", 900, "month"),
    ("annual", "Annual", "standard", 9000, "year"),
    ("premium", "Premium", "premium", 1900, "month"),
)
WORDS = [
    "council",
    "budget",
    "river",
    "housing",
    "school",
    "hospital",
    "election",
    "mayor",
    "report",
    "inquiry",
    "residents",
    "street",
    "bridge",
    "funding",
    "plan",
    "vote",
    "committee",
    "officials",
    "data",
    "investigation",
    "court",
    "ruling",
    "contract",
    "company",
    "workers",
    "union",
    "strike",
    "transport",
    "rail",
    "bus",
    "fares",
    "energy",
    "prices",
    "heating",
    "winter",
    "summer",
    "drought",
    "flood",
    "insurance",
    "farmers",
    "market",
    "police",
    "evidence",
    "witness",
    "documents",
    "spending",
    "audit",
    "deficit",
    "taxes",
    "pensions",
    "teachers",
    "nurses",
    "doctors",
    "patients",
    "waiting",
    "lists",
    "beds",
    "ward",
    "emergency",
    "ambulance",
]


@dataclass(frozen=True)
class Sizes:
    """How many of each a database holds."""

    readers: int
    articles: int
    subscribers: int


# --- the rules the benchmark relies on ------------------------------------------------


def article_level(number: int) -> str:
    """Access level of article ``number``: 20 % free, 20 % registered, 50 % paid, 10 % tiers."""
    return ("free", "free", "registered", "registered", "paid", "paid", "paid", "paid",
            "paid", "tiers")[number % 10]  # fmt: skip


def subscriber_reader(subscriber: int) -> int:
    """The reader id of subscriber ``subscriber``."""
    return 5 * subscriber


def is_subscriber_reader(reader: int, sizes: Sizes) -> bool:
    """Whether reader ``reader`` has a customer and a subscription."""
    return reader % 5 == 0 and reader // 5 <= sizes.subscribers


def subscription_status(subscriber: int) -> str:
    """84 % active, 6 % trialing, 4 % past due, 6 % canceled."""
    slot = subscriber % 50
    if slot < 3:
        return "canceled"
    if slot < 5:
        return "past_due"
    if slot < 8:
        return "trialing"
    return "active"


def subscription_plan(subscriber: int) -> str:
    """Plan code of subscriber ``subscriber``: monthly, annual and premium in turn."""
    return PLANS[subscriber % 3][0]


def reader_email(reader: int) -> str:
    return f"reader{reader}@bench.example"


def end_marker(number: int) -> str:
    """The last paragraph's words, sent only with the full text of article ``number``."""
    return f"End of article {number}."


# --- bodies ---------------------------------------------------------------------------


def body_sources(count: int = BODIES, seed: int = 12) -> list[str]:
    """``count`` Markdown bodies of 800-1,500 words, with :data:`NUMBER` placeholders."""
    rng = random.Random(seed)
    bodies = []
    for index in range(count):
        target = 800 + index * 700 // max(1, count - 1)
        paragraphs = [f"Lead of article {NUMBER}: " + sentence(rng, 40)]
        words = 45
        while words < target - 60:
            if len(paragraphs) % 6 == 3:
                paragraphs.append(f"## {sentence(rng, 5).rstrip('.').capitalize()}")
            length = rng.randint(50, 110)
            text = sentence(rng, length)
            if len(paragraphs) % 5 == 2:
                text = text.replace(" the ", " *the* ", 1) + " [More](https://example.com/more)."
            paragraphs.append(text)
            words += length
        paragraphs.append(end_marker(NUMBER))  # type: ignore[arg-type]
        bodies.append("\n\n".join(paragraphs))
    return bodies


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def rendered_bodies() -> list[tuple[str, str, str]]:
    """(source, teaser HTML, full HTML) of each body, rendered by the app's renderer."""
    from paywall.articles.content import render_body

    rendered = []
    for source in body_sources():
        body = render_body(source, "markdown", TEASER_PARAGRAPHS)
        rendered.append((source, body.teaser_html, body.full_html))
    return rendered


# --- seeding --------------------------------------------------------------------------


def plain_url(database_url: str) -> str:
    """A libpq URL (psycopg's) for a SQLAlchemy one."""
    import sqlalchemy as sa

    url = sa.make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def seeded_sizes(connection: Any) -> tuple[Sizes, bool] | None:
    """What ``bench_seeded`` says (sizes, finished), or None when the table is missing."""
    exists = connection.execute("SELECT to_regclass('bench_seeded')").fetchone()[0]
    if exists is None:
        return None
    row = connection.execute(
        "SELECT readers, articles, subscribers, finished_at IS NOT NULL FROM bench_seeded"
    ).fetchone()
    if row is None:
        return None
    return Sizes(row[0], row[1], row[2]), row[3]


def has_tables(connection: Any) -> bool:
    return bool(
        connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    )


def ensure_database(server_url: str, name: str, sizes: Sizes, seed_if_needed: bool) -> str:
    """The URL of database ``name`` on ``server_url``'s server, seeded at ``sizes``.

    Created and seeded when missing (or left half-seeded by an interrupted run); reused
    as it is when a finished seeding at the same sizes is recorded; refused when it holds
    other sizes or tables that are not a benchmark's. With ``seed_if_needed`` False,
    anything but a finished seeding is refused.
    """
    import psycopg
    import sqlalchemy as sa

    from config import normalise_database_url

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"database name {name!r}: letters, digits and _ only")
    server = sa.make_url(normalise_database_url(server_url))
    if server.get_backend_name() != "postgresql":
        raise SystemExit("the realistic benchmark needs PostgreSQL (--database-url)")
    url = server.set(database=name).render_as_string(hide_password=False)
    admin_url = plain_url(server.render_as_string(hide_password=False))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    state = None
    if found:
        with psycopg.connect(plain_url(url)) as connection:
            state = seeded_sizes(connection)
            tables = has_tables(connection)
        if state is not None and state[1]:
            if state[0] != sizes:
                raise SystemExit(
                    f"database {name} holds {state[0]}, not {sizes}: name another database "
                    "or drop it"
                )
            print(f"database {name}: already seeded at these sizes, reused")
            migrate(url)  # the code may have gained migrations since it was seeded
            return url
        if state is None and tables:
            raise SystemExit(f"database {name} has tables but is not a benchmark database")
    if not seed_if_needed:
        raise SystemExit(f"database {name} is not seeded (seed it with --keep {name})")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if found:
            print(f"database {name}: an unfinished seeding, started again")
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    seed(url, sizes)
    return url


@contextmanager
def app_for(database_url: str) -> Iterator[None]:
    """An app context of a development app on ``database_url``; its pool closed after."""
    import tempfile

    from paywall import create_app
    from paywall.extensions import db

    with tempfile.TemporaryDirectory(prefix="paywall-bench-") as instance:
        app = create_app(
            {
                "ENV_NAME": "development",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "INSTANCE_PATH": str(Path(instance)),
            }
        )
        with app.app_context():
            try:
                yield
            finally:
                db.engine.dispose()


def migrate(database_url: str) -> None:
    """Bring the schema of ``database_url`` up to the code's newest migration."""
    from flask_migrate import upgrade

    with app_for(database_url):
        upgrade()


def seed(database_url: str, sizes: Sizes) -> None:
    """Migrate the empty database at ``database_url`` and fill it to ``sizes``."""
    import psycopg

    from paywall.accounts.passwords import hash_password

    started = time.monotonic()
    # Recorded first, so a seeding interrupted at any point is known as unfinished.
    with psycopg.connect(plain_url(database_url), autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_seeded (readers int, articles int, subscribers int, "
            "started_at timestamptz DEFAULT now(), finished_at timestamptz)"
        )
        connection.execute(
            "INSERT INTO bench_seeded (readers, articles, subscribers) VALUES (%s, %s, %s)",
            (sizes.readers, sizes.articles, sizes.subscribers),
        )
    migrate(database_url)
    with app_for(database_url):
        password_hash = hash_password(PASSWORD)  # production argon2, once
        bodies = rendered_bodies()
    with psycopg.connect(plain_url(database_url), autocommit=True) as connection:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("readers", lambda: insert_readers(connection, sizes.readers, password_hash)),
            ("articles", lambda: insert_articles(connection, sizes.articles, bodies)),
            ("plans", lambda: insert_plans(connection)),
            ("subscribers", lambda: insert_subscribers(connection, sizes.subscribers)),
            ("site", lambda: insert_site(database_url, sizes.articles)),
            ("ANALYZE", lambda: connection.execute("ANALYZE")),
        ]
        for name, step in steps:
            step_started = time.monotonic()
            step()
            progress(f"{name} done in {time.monotonic() - step_started:.0f} s")
        connection.execute("UPDATE bench_seeded SET finished_at = now()")
    progress(f"seeded {sizes} in {time.monotonic() - started:.0f} s")


def progress(message: str) -> None:
    print(f"  seed: {message}", file=sys.stderr, flush=True)


def in_batches(
    connection: Any, label: str, total: int, batch: int, statement: str, **params: Any
) -> None:
    """Run ``statement`` for ``%(first)s .. %(last)s`` ranges covering 1 .. ``total``."""
    started = time.monotonic()
    for first in range(1, total + 1, batch):
        last = min(first + batch - 1, total)
        connection.execute(statement, {"first": first, "last": last, **params})
        rate = last / max(time.monotonic() - started, 1e-6)
        progress(f"{label} {last:,} / {total:,} ({rate:,.0f}/s)")


def insert_readers(connection: Any, count: int, password_hash: str) -> None:
    in_batches(
        connection, "readers", count, BATCH_READERS,
        """
        INSERT INTO readers (id, email, name, password_hash, role, email_verified_at,
                             is_comped, security_stamp, created_at, last_signed_in_at)
        SELECT n, 'reader' || n || '@bench.example', 'Reader ' || n, %(hash)s, 'reader',
               now() - (n %% 1000) * interval '1 day', false, 0,
               now() - (n %% 1500) * interval '1 day' - (n %% 86400) * interval '1 second',
               CASE WHEN n %% 4 = 0 THEN NULL ELSE now() - (n %% 60) * interval '1 day' END
        FROM generate_series(%(first)s::int, %(last)s::int) AS n
        """,
        hash=password_hash,
    )  # fmt: skip
    connection.execute(
        "INSERT INTO readers (id, email, name, password_hash, role, email_verified_at, "
        "is_comped, security_stamp, created_at) VALUES "
        "(%s, %s, 'Bench Admin', %s, 'admin', now(), false, 0, now())",
        (count + 1, ADMIN_EMAIL, password_hash),
    )
    connection.execute("SELECT setval('readers_id_seq', %s)", (count + 1,))


def insert_articles(connection: Any, count: int, bodies: list[tuple[str, str, str]]) -> None:
    sources, teasers, fulls = (list(column) for column in zip(*bodies, strict=True))
    in_batches(
        connection, "articles", count, BATCH_ARTICLES,
        """
        INSERT INTO articles (id, slug, title, author, dek, published_at, access_level, tiers,
                              body_source, body_format, teaser_paragraphs, teaser_html,
                              full_html, created_at, updated_at)
        SELECT n, 'article-' || n,
               'Article ' || n || ': the ' || (%(words)s::text[])[1 + n %% 60] || ' and the '
                 || (%(words)s::text[])[1 + (n / 60) %% 60],
               'Writer ' || (n %% 40),
               'What the ' || (%(words)s::text[])[1 + (n / 7) %% 60] || ' means for readers.',
               now() - n * interval '1 hour',
               (ARRAY['free','free','registered','registered','paid','paid','paid','paid',
                      'paid','tiers'])[1 + n %% 10],
               CASE WHEN n %% 10 = 9 THEN 'premium' ELSE '' END,
               replace((%(sources)s::text[])[1 + n %% %(bodies)s], %(number)s, n::text),
               'markdown', %(teaser)s,
               replace((%(teasers)s::text[])[1 + n %% %(bodies)s], %(number)s, n::text),
               replace((%(fulls)s::text[])[1 + n %% %(bodies)s], %(number)s, n::text),
               now() - n * interval '1 hour', now() - n * interval '1 hour'
        FROM generate_series(%(first)s::int, %(last)s::int) AS n
        """,
        words=list(WORDS[:60]), sources=sources, teasers=teasers, fulls=fulls,
        bodies=len(bodies), number=NUMBER, teaser=TEASER_PARAGRAPHS,
    )  # fmt: skip
    connection.execute("SELECT setval('articles_id_seq', %s)", (count,))


def insert_plans(connection: Any) -> None:
    for position, (code, name, tier, amount, interval) in enumerate(PLANS):
        connection.execute(
            "INSERT INTO billing_plans (code, name, tier, amount, currency, interval, "
            "trial_days, description, active, position, stripe_product_id, stripe_plan_id, "
            "synced_at, created_at) VALUES (%s, %s, %s, %s, 'usd', %s, 0, '', true, %s, %s, %s, "
            "now(), now())",
            (code, name, tier, amount, interval, position, f"paywall_{code}",
             f"paywall_{code}_{amount}usd_{interval}"),
        )  # fmt: skip


# The status of subscriber s, as subscription_status computes it.
_STATUS_SQL = """CASE WHEN s %% 50 < 3 THEN 'canceled' WHEN s %% 50 < 5 THEN 'past_due'
                 WHEN s %% 50 < 8 THEN 'trialing' ELSE 'active' END"""
_PLAN_SQL = "(ARRAY['monthly','annual','premium'])[1 + s %% 3]"


def insert_subscribers(connection: Any, count: int) -> None:
    """Customers, cards, subscriptions and invoices of subscribers 1 .. ``count``."""
    in_batches(
        connection, "customers", count, BATCH_SUBSCRIBERS,
        """
        INSERT INTO billing_customers (id, reader_id, stripe_customer_id, email,
                                       default_payment_method_id, deleted, synced_at)
        SELECT s, 5 * s, 'cus_b' || s, 'reader' || (5 * s) || '@bench.example', 'pm_b' || s,
               false, now()
        FROM generate_series(%(first)s::int, %(last)s::int) AS s
        """,
    )  # fmt: skip
    in_batches(
        connection, "cards", count, BATCH_SUBSCRIBERS,
        """
        INSERT INTO billing_payment_methods (id, stripe_payment_method_id, customer_id, brand,
                                             last4, exp_month, exp_year, funding, synced_at)
        SELECT s, 'pm_b' || s, s, (ARRAY['visa','mastercard','amex'])[1 + s %% 3],
               lpad((s %% 10000)::text, 4, '0'), 1 + s %% 12,
               extract(year FROM now())::int + s %% 5, 'credit', now()
        FROM generate_series(%(first)s::int, %(last)s::int) AS s
        """,
    )  # fmt: skip
    in_batches(
        connection, "subscriptions", count, BATCH_SUBSCRIBERS,
        f"""
        INSERT INTO billing_subscriptions (
            id, stripe_subscription_id, customer_id, stripe_plan_id, plan_code, stripe_item_id,
            status, current_period_start, current_period_end, cancel_at_period_end,
            canceled_at, ended_at, trial_end, latest_invoice_id, latest_invoice_status,
            payment_failed_at, was_active, has_own_payment_method, created_at, synced_at,
            collection_paused)
        SELECT s, 'sub_b' || s, s, p.stripe_plan_id, p.code, 'si_b' || s, st.status,
               now() - (s %% 28) * interval '1 day',
               now() + (30 - s %% 28) * interval '1 day',
               s %% 17 = 0,
               CASE WHEN st.status = 'canceled' THEN now() - interval '10 days' END,
               CASE WHEN st.status = 'canceled' THEN now() - interval '10 days' END,
               CASE WHEN st.status = 'trialing' THEN now() + interval '7 days' END,
               'in_b' || s || '_' || (1 + s %% 6),
               CASE WHEN st.status = 'past_due' THEN 'open' ELSE 'paid' END,
               CASE WHEN st.status = 'past_due' THEN now() - interval '2 days' END,
               st.status <> 'trialing', false,
               now() - (1 + s %% 6) * interval '30 days', now(), false
        FROM generate_series(%(first)s::int, %(last)s::int) AS s
        CROSS JOIN LATERAL (SELECT {_STATUS_SQL} AS status) AS st
        JOIN billing_plans AS p ON p.code = {_PLAN_SQL}
        """,
    )  # fmt: skip
    in_batches(
        connection, "invoices (1 to 6 per subscriber)", count, BATCH_SUBSCRIBERS,
        f"""
        INSERT INTO billing_invoices (
            stripe_invoice_id, customer_id, stripe_subscription_id, status, amount_due,
            amount_paid, currency, billing_reason, attempt_count, hosted_invoice_url, created,
            paid_at, synced_at, payment_intent_status)
        SELECT 'in_b' || s || '_' || k, s, 'sub_b' || s,
               CASE WHEN k = 1 + s %% 6 AND st.status = 'past_due' THEN 'open' ELSE 'paid' END,
               p.amount,
               CASE WHEN k = 1 + s %% 6 AND st.status = 'past_due' THEN 0 ELSE p.amount END,
               'usd',
               CASE WHEN k = 1 THEN 'subscription_create' ELSE 'subscription_cycle' END,
               CASE WHEN k = 1 + s %% 6 AND st.status = 'past_due' THEN 2 ELSE 1 END,
               'https://invoice.stripe.com/i/b' || s || '_' || k,
               now() - (1 + s %% 6 - k) * interval '30 days' - interval '1 day',
               CASE WHEN k = 1 + s %% 6 AND st.status = 'past_due' THEN NULL
                    ELSE now() - (1 + s %% 6 - k) * interval '30 days' END,
               now(),
               CASE WHEN k = 1 + s %% 6 AND st.status = 'past_due'
                    THEN 'requires_payment_method' ELSE 'succeeded' END
        FROM generate_series(%(first)s::int, %(last)s::int) AS s
        CROSS JOIN LATERAL (SELECT {_STATUS_SQL} AS status) AS st
        CROSS JOIN LATERAL generate_series(1, 1 + s %% 6) AS k
        JOIN billing_plans AS p ON p.code = {_PLAN_SQL}
        """,
    )  # fmt: skip
    for table in ("billing_customers", "billing_payment_methods", "billing_subscriptions"):
        connection.execute(f"SELECT setval('{table}_id_seq', %s)", (count,))


def insert_site(database_url: str, articles: int) -> None:
    """A registered publisher site with every article linked to it (external id = slug)."""
    import psycopg

    from paywall import create_app
    from paywall.embed.sites import create_site

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        site_id = create_site(SITE_NAME, [SITE_ORIGIN]).site.id
        from paywall.extensions import db

        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(plain_url(database_url), autocommit=True) as connection:
        in_batches(
            connection, "site articles", articles, BATCH_ARTICLES * 10,
            """
            INSERT INTO embed_articles (site_id, external_id, article_id, canonical_url,
                                        created_at, updated_at)
            SELECT %(site)s::int, 'article-' || n, n, '', now(), now()
            FROM generate_series(%(first)s::int, %(last)s::int) AS n
            """,
            site=site_id,
        )  # fmt: skip

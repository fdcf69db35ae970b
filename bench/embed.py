"""Embed benchmark: the reader decision API under gunicorn against hello-world, and
entitlement-token (JWT) verifications per second.

Seeds a fresh database (readers, articles linked to a registered site, a subscriber with
a reader token), serves the app and ``bench/hello.py`` with the same gunicorn
settings (2 sync workers), checks each scenario answers what it claims, loads each from
another process on loopback (wrk when installed, else a Python load generator) and prints
requests/s, p50, p99 and the ratio to hello-world for:

- the decision API with a Bearer reader token on a free-account article (full text; the
  embed's own path: token, site, article, decision, gate),
- the same reader on a paid article (full text as a subscriber whose subscription is in
  the local billing tables, as webhooks leave it: adds the billing snapshot read that
  every signed-in reader on a paid article costs, and no Stripe call),
- the decision API for an anonymous reader on a paid article (the teaser and the gate),

then verifies one entitlement token against the served JWKS in a loop, in this process.

Run: python bench/embed.py [--seconds 10] [--rounds 3] [--readers 2000] [--articles 400]
     [--database-url postgresql+psycopg://USER@HOST/DB]

Exits 0 once it has measured (verdicts are information); 1 when it cannot set up.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    PARAGRAPHS,
    TEASER_PARAGRAPHS,
    fresh_database,
    insert_articles,
    insert_readers,
    make_subscriber,
    production_environment,
)
from harness import (  # noqa: E402
    APP_PROBE,
    CONNECTIONS,
    THREADS,
    Scenario,
    fetch,
    gunicorn,
    measure,
    median_result,
    run_benchmark,
)
from inprocess import call, time_per_request  # noqa: E402

TARGET_RATIO = 0.6
ORIGIN = "https://news.example.com"


@dataclass
class Seeded:
    site_key: str
    reader_token: str
    paid_id: str
    registered_id: str


def seed(database_url: str, instance: Path, secret_key: str, readers: int, articles: int) -> Seeded:
    """Migrate, bulk-load readers and articles, register a site and give it the articles."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from paywall import create_app
    from paywall.accounts.models import Reader
    from paywall.articles.models import Article
    from paywall.embed.models import SiteArticle
    from paywall.embed.sites import create_site
    from paywall.embed.tokens import issue_token
    from paywall.extensions import db

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": secret_key,
            "EMBED_TOKEN_MAX_HOURS": 12,
        }
    )
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        insert_readers(readers, now)
        insert_articles(articles, now, ("registered", "paid"))
        site = create_site("Bench News", [ORIGIN]).site
        ids = db.session.execute(select(Article.id, Article.slug)).all()
        db.session.execute(
            insert(SiteArticle),
            [
                {
                    "site_id": site.id,
                    "external_id": slug,
                    "article_id": article_id,
                    "canonical_url": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for article_id, slug in ids
            ],
        )
        db.session.commit()
        email = f"reader{readers // 2}@bench.example"
        subscriber = db.session.scalars(select(Reader).where(Reader.email == email)).one()
        make_subscriber(subscriber.id, now)
        token, _ = issue_token(site.id, subscriber.id, subscriber.security_stamp)
        middle = (articles // 2) | 1
        seeded = Seeded(site.public_key, token, f"article-{middle}", f"article-{middle - 1}")
        db.session.remove()
        db.engine.dispose()
    return seeded


def check_decision(scenario: Scenario, full: bool) -> None:
    """The decision answers 200 with the right access and never the gated text to a teaser."""
    reply = fetch(scenario.port, scenario.path, extra_headers=scenario.headers)
    if reply.status != 200:
        scenario.problems.append(f"answered {reply.status}: {reply.body[:120]!r}")
        return
    body = json.loads(reply.body)
    if body["access"] != ("full" if full else "teaser"):
        scenario.problems.append(f"access {body['access']!r}, reason {body['reason']!r}")
    if full and PARAGRAPHS[-1] not in body["html"]:
        scenario.problems.append("the full text is missing")
    if not full and any(p in reply.body for p in PARAGRAPHS[TEASER_PARAGRAPHS:]):
        scenario.problems.append("text past the teaser was sent")
    if reply.set_cookies:
        scenario.problems.append("the API set a cookie")


def jwt_verifications_per_second(port: int, site_key: str, token: str, seconds: float) -> float:
    """Fetch an entitlement token and the JWKS over HTTP, then verify in a loop."""
    import jwt

    reply = fetch(
        port,
        f"/api/v1/sites/{site_key}/entitlements",
        extra_headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    if reply.status != 200:
        raise RuntimeError(f"entitlements answered {reply.status}: {reply.body[:120]}")
    signed = json.loads(reply.body)["token"]
    keys = {
        k["kid"]: jwt.PyJWK(k)
        for k in json.loads(fetch(port, "/.well-known/jwks.json").body)["keys"]
    }
    count = 0
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        kid = jwt.get_unverified_header(signed)["kid"]
        jwt.decode(signed, keys[kid], algorithms=["EdDSA"], audience=site_key)
        count += 1
    return count / seconds


def in_process_timings(scenarios: list[Scenario], env: dict[str, str], requests: int) -> None:
    """Each scenario called as WSGI in this process: the apps' own work, no server.

    Far steadier than the served figures on a busy machine (see bench/inprocess.py).
    """
    from hello import app as hello_app
    from werkzeug.test import EnvironBuilder

    from paywall import create_app

    os.environ.update(env)
    apps = {True: hello_app, False: create_app()}
    print(f"\nin process, ms per request (median of 5 x {requests} calls):")
    for scenario in scenarios:
        app = apps[scenario is scenarios[0]]
        environ = EnvironBuilder(
            path=scenario.path,
            headers=scenario.headers,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()
        status = call(app, environ)[0]
        if not status.startswith("200"):
            raise RuntimeError(f"{scenario.name}: answered {status} in process")
        time_per_request(app, environ, 200)  # warm the caches
        runs = sorted(time_per_request(app, environ, requests) for _ in range(5))
        print(f"  {scenario.name:<44} {runs[2]:.3f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--readers", type=int, default=2_000)
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is used)")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.rounds < 1 or args.readers < 1 or args.articles < 2:
        parser.error("--seconds, --rounds, --readers >= 1 and --articles >= 2")
    return args


def print_table(scenarios: list[Scenario], verifications: float) -> None:
    """Median rounds, ratio to hello-world (median of per-round ratios) and verdicts."""
    hello_rounds = scenarios[0].results
    print(f"\n{'scenario':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}  verdict")
    for scenario in scenarios:
        result = median_result(scenario.results)
        ratios = sorted(
            r.requests_per_second / (h.requests_per_second or float("nan"))
            for r, h in zip(scenario.results, hello_rounds, strict=True)
        )
        ratio = ratios[len(ratios) // 2]
        failed = sum(r.bad_responses for r in scenario.results)
        if scenario is scenarios[0]:
            verdict = "baseline"
        elif scenario.problems or failed:
            verdict = f"INVALID ({'; '.join(scenario.problems) or f'{failed} failed requests'})"
        else:
            verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(
            f"{result.name:<44} {result.requests_per_second:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {ratio:>6.2f}  {verdict}"
        )
    print(f"{'entitlement JWT verifications (1 thread)':<44} {verifications:>8.0f} /s")
    print(f"target: decision API ratio >= {TARGET_RATIO} to hello-world")


def run(args: argparse.Namespace) -> None:
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-bench-embed-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(args.database_url, workdir))
        secret_key = secrets.token_hex(32)
        seeded = seed(database_url, workdir, secret_key, args.readers, args.articles)
        print(f"seeded {args.readers} readers, {args.articles} articles on a site")
        env = production_environment(secret_key, database_url, workdir)
        app_port = cleanup.enter_context(gunicorn("wsgi:app", env, ROOT, probe=APP_PROBE))
        hello_port = cleanup.enter_context(gunicorn("hello:app", env, ROOT / "bench"))
        decisions = f"/api/v1/sites/{seeded.site_key}/decisions"
        paid, registered = f"{decisions}/{seeded.paid_id}", f"{decisions}/{seeded.registered_id}"
        bearer = {"Authorization": f"Bearer {seeded.reader_token}", "Origin": ORIGIN}
        anonymous = {"Origin": ORIGIN}
        scenarios = [
            Scenario("hello-world", hello_port, "/"),
            Scenario("Bearer token, free-account article", app_port, registered, headers=bearer),
            Scenario("Bearer token, paid article (+billing)", app_port, paid, headers=bearer),
            Scenario("anonymous, paid article (teaser)", app_port, paid, headers=anonymous),
        ]
        check_decision(scenarios[1], full=True)
        check_decision(scenarios[2], full=True)
        check_decision(scenarios[3], full=False)
        for scenario in scenarios[1:]:
            print(f"check {scenario.name}: {'; '.join(scenario.problems) or 'ok'}")
        generator = f"wrk -t{THREADS} -c{CONNECTIONS}" if shutil.which("wrk") else "python"
        print(f"load: {generator}, {args.rounds} round(s) of {args.seconds} s; 2 sync workers")
        for round_number in range(1, args.rounds + 1):
            for scenario in scenarios:
                result = measure(scenario, args.seconds)
                scenario.results.append(result)
                print(
                    f"  round {round_number}: {scenario.name:<44} "
                    f"{result.requests_per_second:>8.0f} req/s  p99 {result.p99_ms:.2f} ms",
                    flush=True,
                )
        verifications = jwt_verifications_per_second(
            app_port, seeded.site_key, seeded.reader_token, min(args.seconds, 5)
        )
        print_table(scenarios, verifications)
        in_process_timings(scenarios, env, 2000)


def main() -> int:
    """Entry point; returns the exit code."""
    return run_benchmark(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())

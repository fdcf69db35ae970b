"""Realistic reading benchmark: many articles, many readers, a long tail, on PostgreSQL.

Seeds (or reuses) a PostgreSQL database at a news site's size with ``seed_large.py``
(1,000,000 readers, 100,000 articles of 800-1,500 words, 200,000 subscriptions with
cards and invoices), signs in thousands of distinct readers (session rows and cookies
minted with the app's key) and gives thousands of them embed reader tokens, then serves
the app and ``bench/hello.py`` with gunicorn (2 sync workers each) on the same Redis and
loads, in interleaved rounds, with wrk and a Lua script picking each request from a
pre-generated list: article popularity Zipf-like over all the articles.

Prints per scenario the median round's requests/s, p50 and p99, the ratio to hello-world
(median of the rounds' ratios, and its range) and PASS/FAIL against the targets (spread
>= 0.4, one URL >= 0.6, p99 <= 4 x p50); then the SQL statements and pool checkouts per
request counted in process, the Stripe calls, the workers' memory, the front page's and
the staff subscribers page's single-request times, and optionally a cProfile listing.

Run: python bench/realistic.py [--keep NAME | --reuse NAME] [--seconds 10] [--rounds 5]
     [--readers 1000000] [--articles 100000] [--subscribers 200000] [--instances 1|2]
     [--profile SCENARIO] [--database-url postgresql+psycopg://USER@HOST/DB]

Exits 0 once it has measured (verdicts are information, not a test), 1 when it cannot
set up, 130 on Ctrl-C. Servers are always stopped; a database made without ``--keep``
is dropped.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import production_environment, session_cookie_minter  # noqa: E402
from harness import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    APP_PROBE,
    CONNECTIONS,
    THREADS,
    Result,
    Scenario,
    fetch,
    gunicorn,
    measure,
    median_result,
    run_benchmark,
    worker_rss_mb,
)
from seed_large import (  # noqa: E402
    SITE_NAME,
    SITE_ORIGIN,
    Sizes,
    article_level,
    end_marker,
    ensure_database,
    is_subscriber_reader,
    plain_url,
    reader_email,
    seed,
    subscriber_reader,
    subscription_plan,
    subscription_status,
)
from stripe_counter import StripeCounter  # noqa: E402
from traffic import (  # noqa: E402
    INSTANCES_TARGET,
    ONE_URL_TARGET,
    P99_OVER_P50_LIMIT,
    SPREAD_TARGET,
    ZipfPicker,
    judge,
    median,
    ratios,
    request_line,
    wrk_script,
)

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GATE = 'id="paywall-gate"'
PROFILE_KEYS = ("anon-one", "sub-one", "anon-spread", "free-spread", "sub-spread", "api-spread")
Headers = dict[str, str]


@dataclass
class Expect:
    """What one request must get: the full text or the teaser, and whose page it is."""

    number: int  # the article's
    full: bool
    email: str = ""  # shown in the masthead when signed in (pages only)
    api: bool = False


@dataclass
class Case:
    """A scenario with its kind (``baseline``, ``one-url`` or ``spread``) and requests."""

    key: str  # for --profile
    scenario: Scenario
    kind: str
    expects: list[Expect] = field(default_factory=list)  # one per request in the list
    counts: dict[str, float] = field(default_factory=dict)  # in process, per request
    twin: Case | None = None  # the same requests on two app instances (--instances 2)


@dataclass
class People:
    """The signed-in readers and reader tokens of this run."""

    free_cookies: list[tuple[int, str]]  # reader id, Cookie header
    subscriber_cookies: list[tuple[int, str]]  # subscriber number, Cookie header
    tokens: list[tuple[int, str, str]]  # reader id, kind (free|subscriber), token
    admin_cookie: str
    site_key: str


# --- readers of this run --------------------------------------------------------------


def sign_in_readers(database_url: str, sizes: Sizes, secret_key: str, args: Any) -> People:
    """Open a session for ``--signed-in`` free readers and as many active subscribers, and
    issue ``--tokens`` reader tokens (half each): rows written with COPY, cookies minted.

    The previous run's sessions and tokens are deleted first (they expire anyway).
    """
    import psycopg

    from paywall.embed.keys import READER_TOKEN_PREFIX

    rng = random.Random(2026)
    free = pick(rng, args.signed_in, lambda: rng.randint(1, sizes.readers),
                lambda r: not is_subscriber_reader(r, sizes))  # fmt: skip
    subscribers = pick(rng, args.signed_in, lambda: rng.randint(1, sizes.subscribers),
                       lambda s: subscription_status(s) == "active")  # fmt: skip
    mint = session_cookie_minter(secret_key)
    now = datetime.now(UTC)
    sessions: list[tuple[int, str]] = []  # reader id, token

    def session_for(reader: int) -> str:
        token = secrets.token_urlsafe(32)
        sessions.append((reader, token))
        return mint(token)

    free_cookies = [(r, session_for(r)) for r in free]
    subscriber_cookies = [(s, session_for(subscriber_reader(s))) for s in subscribers]
    admin_id = sizes.readers + 1
    admin_cookie = session_for(admin_id)
    half = args.tokens // 2
    tokens = [(r, "free", READER_TOKEN_PREFIX + secrets.token_urlsafe(32)) for r in free[:half]]
    tokens += [
        (subscriber_reader(s), "subscriber", READER_TOKEN_PREFIX + secrets.token_urlsafe(32))
        for s in subscribers[: args.tokens - half]
    ]
    with psycopg.connect(plain_url(database_url)) as connection:
        connection.execute("DELETE FROM login_sessions")
        connection.execute("DELETE FROM embed_reader_tokens")
        site_id, site_key = connection.execute(
            "SELECT id, public_key FROM embed_sites WHERE name = %s", (SITE_NAME,)
        ).fetchone()  # type: ignore[misc]
        with connection.cursor().copy(
            "COPY login_sessions (reader_id, token_digest, device, remember, created_at, "
            "last_seen_at, expires_at) FROM STDIN"
        ) as copy:
            for reader, token in sessions:
                copy.write_row((reader, sha256(token), "bench", True, now, now,
                                now + timedelta(days=30)))  # fmt: skip
        with connection.cursor().copy(
            "COPY embed_reader_tokens (digest, site_id, reader_id, security_stamp, created_at, "
            "expires_at) FROM STDIN"
        ) as copy:
            for reader, _, token in tokens:
                copy.write_row((sha256(token), site_id, reader, 0, now, now + timedelta(hours=1)))
        connection.execute("ANALYZE login_sessions, embed_reader_tokens")
    return People(free_cookies, subscriber_cookies, tokens, admin_cookie, site_key)


def pick(
    rng: random.Random, count: int, draw: Callable[[], int], keep: Callable[[int], bool]
) -> list[int]:
    """``count`` distinct numbers from ``draw`` that ``keep`` accepts."""
    chosen: dict[int, None] = {}
    for _ in range(count * 20):
        if len(chosen) == count:
            break
        number = draw()
        if keep(number):
            chosen[number] = None
    if len(chosen) < count:
        raise SystemExit(f"could not find {count} readers of that kind: seed more readers")
    return list(chosen)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- requests -------------------------------------------------------------------------


def expects_full(number: int, reader: str, subscriber: int = 0) -> bool:
    """Whether a reader of kind ``reader`` (anonymous, free, subscriber: an active one,
    number ``subscriber``) reads article ``number`` in full."""
    level = article_level(number)
    if level == "free":
        return True
    if reader == "anonymous":
        return False
    if level == "registered":
        return True
    if reader == "free":
        return False
    return level == "paid" or subscription_plan(subscriber) == "premium"


def build_cases(
    people: People, sizes: Sizes, args: Any, app_port: int, hello_port: int, workdir: Path
) -> list[Case]:
    """Every scenario, its request list written out with a wrk script reading it."""
    rng = random.Random(12)
    articles = ZipfPicker(range(1, sizes.articles + 1), args.zipf, rng)
    one_paid = next(
        n for n in range(sizes.articles // 2, sizes.articles) if article_level(n) == "paid"
    )
    one_subscriber, one_cookie = people.subscriber_cookies[0]
    decisions = f"/api/v1/sites/{people.site_key}/decisions"

    def page(number: int) -> str:
        return f"/articles/article-{number}"

    def anonymous() -> tuple[str, Headers, Expect]:
        number = articles.pick()
        return page(number), {}, Expect(number, expects_full(number, "anonymous"))

    def free_reader() -> tuple[str, Headers, Expect]:
        number = articles.pick()
        reader, cookie = rng.choice(people.free_cookies)
        expect = Expect(number, expects_full(number, "free"), reader_email(reader))
        return page(number), {"Cookie": cookie}, expect

    def subscriber() -> tuple[str, Headers, Expect]:
        number = articles.pick()
        who, cookie = rng.choice(people.subscriber_cookies)
        expect = Expect(
            number, expects_full(number, "subscriber", who), reader_email(subscriber_reader(who))
        )
        return page(number), {"Cookie": cookie}, expect

    def bearer() -> tuple[str, Headers, Expect]:
        number = articles.pick()
        reader, kind, token = rng.choice(people.tokens)
        full = expects_full(number, kind, reader // 5)
        headers = {"Authorization": f"Bearer {token}", "Origin": SITE_ORIGIN}
        return f"{decisions}/article-{number}", headers, Expect(number, full, api=True)

    one_url: list[tuple[str, str, Callable[[], tuple[str, Headers, Expect]]]] = [
        ("anon-one", "anonymous, one paid article",
         lambda: (page(one_paid), {}, Expect(one_paid, False))),
        ("sub-one", "subscriber, one paid article",
         lambda: (page(one_paid), {"Cookie": one_cookie},
                  Expect(one_paid, True, reader_email(subscriber_reader(one_subscriber))))),
    ]  # fmt: skip
    spread = [
        ("anon-spread", "anonymous, spread", anonymous),
        ("free-spread", f"free account ({len(people.free_cookies):,}), spread", free_reader),
        ("sub-spread", f"subscriber ({len(people.subscriber_cookies):,}), spread", subscriber),
        ("api-spread", f"decision API, Bearer ({len(people.tokens):,}), spread", bearer),
    ]
    cases = [Case("hello", Scenario("hello-world", hello_port, "/"), "baseline")]
    for kind, plans, length in (("one-url", one_url, 1), ("spread", spread, args.requests)):
        for key, name, make in plans:
            made = [make() for _ in range(length)]
            file = workdir / f"{key}.requests"
            file.write_text("\n".join(request_line(p, h) for p, h, _ in made) + "\n")
            scenario = Scenario(name, app_port, made[0][0], requests=[(p, h) for p, h, _ in made])
            scenario.headers = made[0][1] if length == 1 else {}
            if length > 1:
                scenario.script = workdir / f"{key}.lua"
                scenario.script.write_text(wrk_script(str(file), [app_port]))
            cases.append(Case(key, scenario, kind, [e for _, _, e in made]))
    print(
        f"requests: {args.requests:,} per spread scenario, article popularity Zipf s={args.zipf} "
        f"over {sizes.articles:,} articles (top 1 % of articles get "
        f"{articles.share_of_top(0.01):.0%} of the views)"
    )
    return cases


def add_twins(cases: list[Case], ports: list[int], workdir: Path) -> list[Case]:
    """The spread scenarios again, their load split between two app instances."""
    twins = []
    for case in cases:
        if case.kind != "spread" or case.scenario.script is None:
            continue
        script = workdir / f"{case.key}-twin.lua"
        script.write_text(wrk_script(str(workdir / f"{case.key}.requests"), ports))
        twin = Case(
            case.key + "-x2",
            Scenario(f"{case.scenario.name}, 2 instances", ports[0], case.scenario.path,
                     script=script, requests=case.scenario.requests),
            "twin",
            case.expects,
        )  # fmt: skip
        case.twin = twin
        twins.append(twin)
    return twins


# --- checks ---------------------------------------------------------------------------


def check(case: Case, samples: int) -> None:
    """Send the first ``samples`` requests of a scenario and compare with what each must
    get; problems are kept on the scenario (its results are then marked INVALID)."""
    scenario = case.scenario
    if case.kind == "baseline":
        reply = fetch(scenario.port, "/")
        if reply.status != 200 or reply.body != "Hello, World!":
            scenario.problems.append(f"hello-world answered {reply.status}")
        return
    seen = {"full": 0, "teaser": 0}
    for (path, headers), expect in list(zip(scenario.requests, case.expects, strict=True))[
        :samples
    ]:
        reply = fetch(scenario.port, path, extra_headers=headers, timeout=30)
        problem = judge_reply(reply, expect)
        if problem:
            scenario.problems.append(f"{path}: {problem}")
        seen["full" if expect.full else "teaser"] += 1
    verdict = "; ".join(scenario.problems[:3]) or "ok"
    print(f"check {scenario.name}: {verdict} ({seen['full']} full, {seen['teaser']} teasers)")


def judge_reply(reply: Any, expect: Expect) -> str:
    """What is wrong with one answer, or ``""``."""
    if reply.status != 200:
        return f"answered {reply.status}"
    marker = end_marker(expect.number)
    if expect.api:
        body = json.loads(reply.body)
        if (body.get("access") == "full") != expect.full:
            return f"access {body.get('access')!r} ({body.get('reason')!r}), expected " + (
                "full" if expect.full else "teaser"
            )
        if expect.full and marker not in body.get("html", ""):
            return "the full text is missing"
    else:
        if expect.full and (marker not in reply.body or GATE in reply.body):
            return "not the full article (end missing or a gate shown)"
        if not expect.full and GATE not in reply.body:
            return "no gate on a teaser"
        if expect.email and expect.email not in reply.body:
            return "the reader is not shown as signed in"
    if not expect.full and marker in reply.body:
        return "text past the teaser was sent"
    if reply.set_cookies:
        return "the response sets a cookie"
    return ""


# --- in process -----------------------------------------------------------------------


def count_in_process(cases: list[Case], env: dict[str, str], args: Any) -> None:
    """SQL statements, database round trips and milliseconds per request, each scenario's
    requests called as WSGI in this process (same database and Redis): ``--warm`` of its
    requests first, then ``--in-process`` timed, then as many others counted (libpq's
    protocol trace, :func:`inprocess.counted_round_trips`: pings, BEGIN and ROLLBACK
    included); ``--profile`` lists further ones."""
    from inprocess import call, counted_round_trips
    from werkzeug.test import EnvironBuilder

    from paywall import create_app
    from paywall.extensions import db

    os.environ.update(env)
    app = create_app()
    with app.app_context():
        engine = db.engine
    for case in cases:
        if case.kind in ("baseline", "twin"):
            continue
        # Timed, counted and profiled requests are different ones (spread: not yet cached).
        needed = args.warm + args.in_process * (3 if args.profile == case.key else 2)
        environs = [
            EnvironBuilder(path=p, headers=h, environ_base={"REMOTE_ADDR": "127.0.0.1"})
            .get_environ()
            for p, h in case.scenario.requests[:needed]
        ]  # fmt: skip
        if len(environs) == 1:
            environs *= needed
        warm = environs[: args.warm]
        timed = environs[args.warm : args.warm + args.in_process]
        counted = environs[args.warm + args.in_process : args.warm + 2 * args.in_process]

        def run_requests(environs: list[dict[str, Any]] = timed) -> None:
            for environ in environs:
                status = call(app, environ)[0]
                if not status.startswith("200"):
                    raise RuntimeError(f"answered {status} in process")

        run_requests(warm)
        started = time.perf_counter()
        run_requests()
        elapsed = time.perf_counter() - started
        with counted_round_trips(engine) as counts:
            run_requests(counted or timed)
        requests = len(counted or timed)
        case.counts = {
            "statements": counts["statements"] / requests,
            "round_trips": counts["round_trips"] / requests,
            "ms": elapsed * 1000 / len(timed),
        }
        if args.profile == case.key:
            profiler = cProfile.Profile()
            profiler.runcall(run_requests, environs[args.warm + 2 * args.in_process :] or timed)

            print(f"\ncProfile of {len(timed)} requests of {case.scenario.name} (in process):")
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


# --- report ---------------------------------------------------------------------------


def time_pages(port: int, admin_cookie: str, repeats: int) -> list[str]:
    """Single-request times of the front page and the staff subscribers page."""
    lines = []
    for name, path, cookie in (
        ("front page (anonymous)", "/", ""),
        ("staff subscribers page", "/admin/subscribers", admin_cookie),
    ):
        times, size, status = [], 0, 0
        for _ in range(repeats):
            started = time.perf_counter()
            reply = fetch(port, path, cookie, timeout=300)
            times.append((time.perf_counter() - started) * 1000)
            size, status = len(reply.body.encode()), reply.status
        lines.append(
            f"{name:<28} median {statistics.median(times):>9.1f} ms  min {min(times):>9.1f} ms "
            f"({repeats} requests one at a time, {size / 1024:,.0f} kB, status {status})"
        )
    return lines


def print_table(cases: list[Case], stripe_calls: int) -> None:
    """Median rounds, ratios to hello-world, p99/p50, counts in process and verdicts."""
    hello = [r.requests_per_second for r in cases[0].scenario.results]
    print(
        f"\n{'scenario':<44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} "
        f"{'(range)':>11} {'p99/p50':>7} {'SQL':>5} {'trips':>5} {'ms in':>6}  verdict"
    )
    for case in cases:
        if case.kind == "twin":
            continue
        scenario = case.scenario
        result = median_result(scenario.results)
        spread = ratios([r.requests_per_second for r in scenario.results], hello)
        ratio = median(spread)
        failed = sum(r.bad_responses for r in scenario.results)
        if case.kind == "baseline":
            verdict = "baseline"
        elif scenario.problems or failed:
            verdict = "INVALID" + (f", {failed} failed requests" if failed else "")
        else:
            verdict = judge(case.kind, ratio, result.p50_ms, result.p99_ms).word
        counts = case.counts
        sql = f"{counts['statements']:.2f}" if counts else "-"
        trips = f"{counts['round_trips']:.2f}" if counts else "-"
        in_process = f"{counts['ms']:.2f}" if counts else "-"
        print(
            f"{scenario.name:<44} {result.requests_per_second:>7.0f} {result.p50_ms:>7.2f} "
            f"{result.p99_ms:>7.2f} {ratio:>6.2f} {spread[0]:>5.2f}-{spread[-1]:<5.2f} "
            f"{result.p99_ms / result.p50_ms:>7.1f} {sql:>5} {trips:>5} {in_process:>6}  {verdict}"
        )
    print(
        f"targets: spread ratio >= {SPREAD_TARGET}, one URL >= {ONE_URL_TARGET}, p99 <= "
        f"{P99_OVER_P50_LIMIT:g} x p50; at most 2 database round trips per reading request"
    )
    print(
        "SQL: statements per request, in process; trips: database round trips per request "
        "(libpq's trace: pings, BEGIN and ROLLBACK too); ms in: milliseconds per request"
    )
    print(f"Stripe calls made by the app (served and in process): {stripe_calls} (expected 0)")
    twins = [c for c in cases if c.twin is not None]
    if not twins:
        return
    print(f"\n{'two instances x 1 worker vs one x 2 workers':<52} {'1 inst':>7} {'2 inst':>7} "
          f"{'ratio':>6} {'(range)':>11}  verdict")  # fmt: skip
    for case in twins:
        assert case.twin is not None
        one = [r.requests_per_second for r in case.scenario.results]
        two = case.twin.scenario.results
        spread = ratios([r.requests_per_second for r in two], one)
        ratio = median(spread)
        bad = sum(r.bad_responses for r in two) or case.twin.scenario.problems
        verdict = "INVALID" if bad else ("PASS" if ratio >= INSTANCES_TARGET else "FAIL")
        print(
            f"{case.scenario.name:<52} {median(one):>7.0f} "
            f"{median_result(two).requests_per_second:>7.0f} {ratio:>6.2f} "
            f"{spread[0]:>5.2f}-{spread[-1]:<5.2f}  {verdict}"
        )
    print(f"target: two instances' per-core throughput >= {INSTANCES_TARGET} of one's")


def load_average() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


# --- main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--seconds", type=int, default=10, help="load per scenario and round")
    add("--rounds", type=int, default=5, help="interleaved rounds (medians reported)")
    add("--readers", type=int, default=1_000_000)
    add("--articles", type=int, default=100_000)
    add("--subscribers", type=int, default=200_000)
    add("--signed-in", type=int, default=20_000, help="free readers and subscribers, each")
    add("--tokens", type=int, default=20_000, help="embed reader tokens (half subscribers)")
    add("--requests", type=int, default=100_000, help="requests listed per spread scenario")
    add("--zipf", type=float, default=1.0, help="popularity exponent s")
    add("--instances", type=int, choices=(1, 2), default=1,
        help="2: also load each spread scenario split over two instances of 1 worker")  # fmt: skip
    add("--checks", type=int, default=40, help="requests checked per scenario before loading")
    add("--page-repeats", type=int, default=5, help="front and staff page requests timed")
    add("--warm", type=int, default=500, help="in process: requests before counting")
    add("--in-process", type=int, default=200, help="in process: requests counted (0: skip)")
    add("--profile", choices=PROFILE_KEYS, help="cProfile this scenario in process")
    add("--sort", default="cumulative", help="profile order (cumulative, tottime)")
    add("--top", type=int, default=40, help="profile lines")
    add("--database-url", default=os.environ.get("PAYWALL_BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="the PostgreSQL server (the database named is only used to connect)")  # fmt: skip
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="NAME", help="seed database NAME once and keep it")
    kept.add_argument("--reuse", metavar="NAME", help="use database NAME, seeded by --keep")
    args = parser.parse_args(argv)
    if min(args.seconds, args.rounds, args.requests, args.signed_in, args.tokens) < 1:
        parser.error("--seconds, --rounds, --requests, --signed-in and --tokens must be >= 1")
    if args.subscribers * 5 > args.readers or args.articles < 10:
        parser.error("--subscribers at most a fifth of --readers, and --articles >= 10")
    return args


def run(args: argparse.Namespace) -> None:
    """Seed, sign readers in, serve, check, load, count, report."""
    sizes = Sizes(args.readers, args.articles, args.subscribers)
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-bench-realistic-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        started = time.monotonic()
        if args.keep or args.reuse:
            database_url = ensure_database(
                args.database_url, args.keep or args.reuse, sizes, seed_if_needed=bool(args.keep)
            )
        else:
            from tests.databases import scratch_postgres_database

            database_url = cleanup.enter_context(
                scratch_postgres_database(args.database_url, "bench")
            )
            seed(database_url, sizes)
        print(f"database ready in {time.monotonic() - started:.0f} s: {sizes}")

        secret_key = secrets.token_hex(32)
        people = sign_in_readers(database_url, sizes, secret_key, args)
        env = production_environment(secret_key, database_url, workdir)
        stripe = cleanup.enter_context(StripeCounter())
        env["STRIPE_API_BASE"] = stripe.url
        app_port = cleanup.enter_context(gunicorn("wsgi:app", env, ROOT, probe=APP_PROBE))
        hello_port = cleanup.enter_context(gunicorn("hello:app", env, ROOT / "bench"))
        cases = build_cases(people, sizes, args, app_port, hello_port, workdir)
        twin_ports = []
        if args.instances == 2:
            for _ in range(2):
                twin_ports.append(
                    cleanup.enter_context(
                        gunicorn("wsgi:app", env, ROOT, probe=APP_PROBE, workers=1)
                    )
                )
            cases += add_twins(cases, twin_ports, workdir)
        for case in cases:
            check(case, args.checks)

        print(
            f"load: wrk -t{THREADS} -c{CONNECTIONS} with a Lua script per spread scenario, "
            f"{args.rounds} interleaved round(s) of {args.seconds} s; gunicorn 2 sync workers"
            + (", and two instances of 1 worker each" if twin_ports else "")
            + f"; {os.cpu_count()} cores shared with wrk and PostgreSQL"
            if shutil.which("wrk")
            else "load: wrk is missing, so the Python load generator (it flatters the ratios)"
        )
        rss: list[str] = []
        for round_number in range(1, args.rounds + 1):
            print(f"  round {round_number}, load average {load_average()}")
            for case in cases:
                result: Result = measure(case.scenario, args.seconds)
                case.scenario.results.append(result)
                print(
                    f"    {case.scenario.name:<48} {result.requests_per_second:>7.0f} req/s  "
                    f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms",
                    flush=True,
                )
            rss.append(", ".join(f"{mb:.0f}" for mb in worker_rss_mb(app_port)))
            print(f"    worker RSS MB after the round: {rss[-1]}")
        print(f"load average after the rounds: {load_average()}")
        print("worker RSS MB per round: " + " | ".join(rss))
        for line in time_pages(app_port, people.admin_cookie, args.page_repeats):
            print(line)
        after_pages = ", ".join(f"{mb:.0f}" for mb in worker_rss_mb(app_port))
        print(f"worker RSS MB after the pages: {after_pages}")
        if args.in_process:
            count_in_process(cases, env, args)
        print_table(cases, stripe.calls)


def main() -> int:
    """Entry point; returns the exit code."""
    return run_benchmark(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())

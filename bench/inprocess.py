"""In-process timing of the article page: each app called as WSGI, no server, no network.

The served figures of ``bench/articles.py`` swing with whatever else the machine runs;
calling the apps directly times only their own work, so this is the steadier guide while
optimising. Its ratios are not the served ones: a server adds the same fixed cost to
every request (about 0.3 ms here), which the served ratio includes.

Run: python bench/inprocess.py [--requests 2000] [--repeats 5] [--profile SCENARIO]
     [--sort cumulative|tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    PARAGRAPHS,
    fresh_database,
    mint_session_cookie,
    production_environment,
    seed,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SCENARIOS = ("hello", "teaser", "signed", "subscriber")


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
    parser.add_argument("--profile", choices=SCENARIOS, help="cProfile one scenario instead")
    parser.add_argument("--sort", default="cumulative", help="profile order (e.g. tottime)")
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())

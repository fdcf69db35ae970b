"""Article-page benchmark: Paywall under gunicorn against a hello-world Flask baseline.

Seeds a database (10,000 readers and 1,000 articles by default), serves the app and the
baseline with the same gunicorn settings, loads each from another process on loopback
(wrk when installed, else a small Python load generator) and prints requests/s, p50, p99
and the ratio to hello-world for:

- an anonymous reader on a paid article (the teaser and the gate), and
- a signed-in reader on a free article (the full text).

Run: python bench/articles.py [--seconds 10] [--readers 10000] [--articles 1000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.5
PASSWORD = "benchmark-password"


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(database_url: str, instance: Path, readers: int, articles: int) -> dict[str, str]:
    """Migrate and bulk-load the database; returns the slugs and login to benchmark with."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from paywall import create_app
    from paywall.accounts.models import Reader
    from paywall.accounts.passwords import hash_password
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
    paragraphs = [
        f"Paragraph {i} of a long investigation, with enough words to look like a real "
        "article: the council, the river, the budget and the people who live with them."
        for i in range(12)
    ]
    rendered = render_body("\n\n".join(paragraphs), "markdown", 2)
    now = datetime.now(UTC)
    levels = ["free", "registered", "paid", "tiers"]
    with app.app_context():
        upgrade()
        password_hash = hash_password(PASSWORD)
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
                for i in range(readers)
            ],
        )
        db.session.execute(
            insert(Article),
            [
                {
                    "slug": f"article-{i}",
                    "title": f"Article {i}",
                    "author": "Bench Writer",
                    "dek": "A summary.",
                    "published_at": now - timedelta(minutes=i),
                    "access_level": levels[i % 4],
                    "tiers": "premium" if levels[i % 4] == "tiers" else "",
                    "body_source": "\n\n".join(paragraphs),
                    "body_format": "markdown",
                    "teaser_html": rendered.teaser_html,
                    "full_html": rendered.full_html,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(articles)
            ],
        )
        db.session.commit()
        db.engine.dispose()
    return {
        "paid_slug": "article-2",
        "free_slug": "article-0",
        "email": f"reader{readers // 2}@bench.example",
        "last_paragraph": paragraphs[-1],
    }


def start_gunicorn(target: str, port: int, env: dict[str, str], chdir: Path) -> subprocess.Popen:
    """Start gunicorn (2 sync workers) and wait until it answers."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--chdir", str(chdir), "--log-level", "warning", target,
        ],
        env=env,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn for {target} exited with {process.returncode}"
                ) from None
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn for {target} did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fetch(port: int, path: str, cookie: str = "", method: str = "GET", body: str = "") -> tuple:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    data = response.read().decode()
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    connection.close()
    return response.status, data, cookies


def sign_in(port: int, email: str) -> str:
    """Sign in through the real form; returns the Cookie header of the session."""
    status, page, cookies = fetch(port, "/signin")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if status != 200 or not token:
        raise RuntimeError("the sign-in form did not load")
    cookie = "; ".join(c.split(";", 1)[0] for c in cookies)
    form = urllib.parse.urlencode(
        {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    status, _, cookies = fetch(port, "/signin", cookie, "POST", form)
    if status != 302 or not cookies:
        raise RuntimeError(f"sign-in failed with status {status}")
    return "; ".join(c.split(";", 1)[0] for c in cookies)


def load_with_wrk(name: str, url: str, seconds: int, cookie: str) -> Result:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        print(f"  warning: {name}: {errors.group(1)} non-2xx responses", file=sys.stderr)
    return Result(name, rps, percentile("50"), percentile("99"))


def load_with_python(name: str, port: int, path: str, seconds: int, cookie: str) -> Result:
    """Fallback: 16 threads issuing requests for ``seconds`` (bounded)."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        local: list[float] = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            fetch(port, path, cookie)
            local.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return Result(
        name,
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


def median_result(results: list[Result]) -> Result:
    """The round with the median requests/s (its own p50 and p99 travel with it)."""
    ordered = sorted(results, key=lambda r: r.requests_per_second)
    return ordered[len(ordered) // 2]


def measure(name: str, port: int, path: str, seconds: int, cookie: str = "") -> Result:
    if shutil.which("wrk"):
        return load_with_wrk(name, f"http://127.0.0.1:{port}{path}", seconds, cookie)
    return load_with_python(name, port, path, seconds, cookie)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1/test")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="paywall-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    started = time.monotonic()
    facts = seed(database_url, workdir, args.readers, args.articles)
    print(
        f"seeded {args.readers} readers and {args.articles} articles "
        f"in {time.monotonic() - started:.1f}s ({database_url.split(':')[0]})"
    )

    env = {
        **os.environ,
        "PAYWALL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "PAYWALL_INSTANCE_PATH": str(workdir),
    }
    app_port, hello_port = free_port(), free_port()
    processes = []
    try:
        processes.append(start_gunicorn("wsgi:app", app_port, env, ROOT))
        processes.append(start_gunicorn("hello:app", hello_port, env, ROOT / "bench"))

        status, teaser_page, _ = fetch(app_port, f"/articles/{facts['paid_slug']}")
        teaser_ok = (
            status == 200
            and 'id="paywall-gate"' in teaser_page
            and facts["last_paragraph"] not in teaser_page
        )
        print(f"anonymous paid article is a teaser with the gate: {'yes' if teaser_ok else 'NO'}")
        cookie = sign_in(app_port, facts["email"])
        status, full_page, _ = fetch(app_port, f"/articles/{facts['free_slug']}", cookie)
        full_ok = status == 200 and facts["last_paragraph"] in full_page
        print(f"signed-in reader gets the full free article: {'yes' if full_ok else 'NO'}")

        generator = "wrk -t2 -c16" if shutil.which("wrk") else "python, 16 threads"
        print(
            f"load: {generator}, {args.rounds} rounds of {args.seconds}s each (median), "
            "gunicorn 2 sync workers, "
            "2 cores shared with the load generator"
        )
        scenarios = [
            ("hello-world", hello_port, "/", ""),
            ("anonymous, paid article (teaser)", app_port, f"/articles/{facts['paid_slug']}", ""),
            ("signed in, free article (full)", app_port, f"/articles/{facts['free_slug']}", cookie),
        ]
        # Interleaved rounds, medians reported: a burst of other work on the machine then
        # hits every scenario alike instead of skewing one of them.
        rounds: list[list[Result]] = [[] for _ in scenarios]
        for _ in range(args.rounds):
            for index, (name, port, path, cookie_header) in enumerate(scenarios):
                rounds[index].append(measure(name, port, path, args.seconds, cookie_header))
        results = [median_result(measured) for measured in rounds]
        hello = results[0]
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{'scenario':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    for result in results:
        ratio = result.requests_per_second / hello.requests_per_second
        verdict = "" if result is hello else ("PASS" if ratio >= TARGET_RATIO else "FAIL")
        print(
            f"{result.name:<36} {result.requests_per_second:>9.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {ratio:>6.2f} {verdict}"
        )
    print(f"target: ratio >= {TARGET_RATIO} for both reading scenarios")


if __name__ == "__main__":
    main()

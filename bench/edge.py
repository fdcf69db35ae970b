"""Edge-cache benchmark: anonymous pages through Varnish beside the app alone.

Seeds a fresh database as ``bench/articles.py`` does, serves the app and a hello-world
Flask app with gunicorn (2 sync workers), starts Debian's ``varnishd`` in front of the
app with ``deploy/varnish/default.vcl`` (its backend pointed at the app), checks each
scenario (a teaser from the cache has no text past the gate; a signed-in reader through
the cache reaches the app and gets the full text) and loads each from another process on
loopback, printing requests/s, p50, p99 and the ratio to hello-world for:

- an anonymous reader on a paid article (the teaser), from the app alone and through
  Varnish;
- the front page, from the app alone and through Varnish;
- a subscriber on the same article through Varnish (always passed to the app).

Run: python bench/edge.py [--seconds 10] [--rounds 3] [--readers 10000] [--articles 1000]
     [--database-url postgresql+psycopg://USER@HOST/DB]

Exits 0 once it has measured, 1 when it cannot set up (no varnishd, a server that does
not start), 130 on Ctrl-C; every server it starts is stopped on the way out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    PARAGRAPHS,
    check_teaser,
    fresh_database,
    production_environment,
    seed,
    sign_in_with_form,
)
from harness import (  # noqa: E402
    CONNECTIONS,
    THREADS,
    Scenario,
    fetch,
    free_port,
    gunicorn,
    measure,
    median_result,
    run_benchmark,
    stop,
)

VCL = ROOT / "deploy" / "varnish" / "default.vcl"
BACKEND_PORT_LINE = '.port = "8000";'


def varnishd_path() -> str:
    found = shutil.which("varnishd") or "/usr/sbin/varnishd"
    if not os.access(found, os.X_OK):
        raise RuntimeError("varnishd is not installed (apt-get install varnish)")
    return found


@contextmanager
def varnish(backend_port: int, workdir: Path) -> Iterator[int]:
    """Varnish with the shipped VCL in front of ``backend_port``; yields its port."""
    vcl = VCL.read_text()
    if vcl.count(BACKEND_PORT_LINE) != 1:
        raise RuntimeError(f"{VCL} no longer has the line {BACKEND_PORT_LINE!r}")
    vcl_file = workdir / "paywall.vcl"
    vcl_file.write_text(vcl.replace(BACKEND_PORT_LINE, f'.port = "{backend_port}";'))
    port = free_port()
    process = subprocess.Popen(
        [
            varnishd_path(), "-F", "-n", str(workdir / "varnish"),
            "-a", f"127.0.0.1:{port}", "-f", str(vcl_file), "-s", "malloc,256m",
            "-j", "none", "-T", "none",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # the VCL is compiled with cc first
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"varnishd exited with code {process.returncode}")
            try:
                fetch(port, "/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("varnishd did not answer within 60 s") from None
                time.sleep(0.2)
        yield port
    finally:
        stop(process)


def check_from_cache(scenario: Scenario) -> None:
    """Through Varnish: the second request is a hit."""
    fetch(scenario.port, scenario.path)
    reply = fetch_with_headers(scenario.port, scenario.path)
    if reply.get("x-cache") != "HIT":
        scenario.problems.append(f"not served from the cache (X-Cache: {reply.get('x-cache')})")


def check_passed(scenario: Scenario, email: str) -> None:
    """Through Varnish, signed in: the reader's own full page, never from the cache."""
    import http.client

    for _ in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", scenario.port, timeout=10)
        connection.request("GET", scenario.path, headers={"Cookie": scenario.cookie})
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        if response.getheader("X-Cache") != "PASS":
            scenario.problems.append(f"X-Cache {response.getheader('X-Cache')}, not PASS")
        if email not in body or PARAGRAPHS[-1] not in body:
            scenario.problems.append("not the subscriber's own full page")


def fetch_with_headers(port: int, path: str) -> dict[str, str]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to use (a fresh database)")
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.rounds < 1 or args.readers < 1 or args.articles < 4:
        parser.error("--seconds, --rounds, --readers >= 1 and --articles >= 4")
    return args


def print_table(scenarios: list[Scenario]) -> None:
    """Each scenario's median round and its ratio to hello-world (median per round)."""
    hello_rounds = scenarios[0].results
    print(f"\n{'scenario':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}  checks")
    for scenario in scenarios:
        result = median_result(scenario.results)
        ratios = sorted(
            r.requests_per_second / (h.requests_per_second or float("nan"))
            for r, h in zip(scenario.results, hello_rounds, strict=True)
        )
        failed = sum(r.bad_responses for r in scenario.results)
        checks = "; ".join(scenario.problems) or "ok"
        if failed:
            checks += f", {failed} failed requests"
        print(
            f"{result.name:<40} {result.requests_per_second:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {ratios[len(ratios) // 2]:>6.2f}  {checks}"
        )


def run(args: argparse.Namespace) -> None:
    """Seed, serve, put Varnish in front, check, load, report."""
    varnishd_path()
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="paywall-edge-bench-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = cleanup.enter_context(fresh_database(args.database_url, workdir))
        seeded = seed(database_url, workdir, args.readers, args.articles)
        env = production_environment(secrets.token_hex(32), database_url, workdir)
        app_port = cleanup.enter_context(gunicorn("wsgi:app", env, ROOT))
        hello_port = cleanup.enter_context(gunicorn("hello:app", env, ROOT / "bench"))
        cache_port = cleanup.enter_context(varnish(app_port, workdir))
        cookie = sign_in_with_form(app_port, seeded.reader_email)
        teaser = f"/articles/{seeded.paid_slug}"

        scenarios = [
            Scenario("hello-world", hello_port, "/"),
            Scenario("anonymous teaser, app alone", app_port, teaser),
            Scenario("anonymous teaser, through Varnish", cache_port, teaser),
            Scenario("front page, app alone", app_port, "/"),
            Scenario("front page, through Varnish", cache_port, "/"),
            Scenario("subscriber, through Varnish (pass)", cache_port, teaser, cookie),
        ]
        for scenario in scenarios[1:3]:
            check_teaser(scenario)
        for scenario in (scenarios[2], scenarios[4]):
            check_from_cache(scenario)
        check_passed(scenarios[5], seeded.reader_email)
        for scenario in scenarios:
            print(f"check {scenario.name}: {'; '.join(scenario.problems) or 'ok'}")

        print(
            f"load: wrk -t{THREADS} -c{CONNECTIONS} (or the python generator), {args.rounds} "
            f"interleaved round(s) of {args.seconds} s; gunicorn 2 sync workers; varnishd "
            f"with default thread pools; {os.cpu_count()} cores shared by all"
        )
        for round_number in range(1, args.rounds + 1):
            for scenario in scenarios:
                result = measure(scenario, args.seconds)
                scenario.results.append(result)
                print(
                    f"  round {round_number}: {scenario.name:<40} "
                    f"{result.requests_per_second:>8.0f} req/s  p50 {result.p50_ms:.2f} ms",
                    flush=True,
                )
        print_table(scenarios)


def main() -> int:
    """Entry point; returns the exit code."""
    return run_benchmark(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())

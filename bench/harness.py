"""Reusable benchmark parts: gunicorn servers on loopback, plain HTTP, and load runs.

Every benchmark script in this folder measures the same way: servers started in their
own process group and always stopped, load from another process (wrk when installed,
else a bounded Python generator), requests/s with p50 and p99.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

THREADS, CONNECTIONS = 2, 16
# What the app's readiness is probed with: a static file, no database and no list, so a
# server over any number of articles answers it at once.
APP_PROBE = "/static/css/site.css"


class Reply(NamedTuple):
    """One HTTP response, read in full."""

    status: int
    body: str
    set_cookies: list[str]


@dataclass
class Result:
    """One scenario's load run."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    bad_responses: int = 0


@dataclass
class Scenario:
    """What to load, and whether the pre-flight check found it serves what it claims."""

    name: str
    port: int
    path: str
    cookie: str = ""
    problems: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request
    # A wrk Lua script choosing each request (path and headers are then ignored by wrk),
    # and the same requests for the Python load generator, which cycles through them.
    script: Path | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


# --- servers --------------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    target: str, env: dict[str, str], chdir: Path, probe: str = "/", workers: int = 2
) -> Iterator[int]:
    """Serve ``target`` with gunicorn (``workers`` sync workers) on loopback; yields the port.

    Ready once ``probe`` answers. The server runs in its own process group, stopped
    (TERM, then KILL) on the way out.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning",
            target,
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_answering(process, port, target, probe)
        yield port
    finally:
        stop(process)


def wait_until_answering(
    process: subprocess.Popen[bytes], port: int, target: str, probe: str = "/"
) -> None:
    """Wait (30 s at most) until the server answers a request for ``probe``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {target} exited with code {process.returncode}")
        try:
            fetch(port, probe, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn for {target} did not answer within 30 s")


def worker_rss_mb(port: int) -> list[float]:
    """Resident memory (MB) of each gunicorn worker serving on ``port`` (Linux ``/proc``).

    Workers are the processes whose command line names the port and whose parent's does
    too (the parent is the gunicorn master).
    """
    serving: dict[int, int] = {}  # pid -> parent pid
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "gunicorn" in command and f"127.0.0.1:{port} " in command:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                serving[int(pid)] = int(stat[1])
        except (OSError, ValueError, IndexError):
            continue
    sizes = []
    for pid, parent in serving.items():
        if parent not in serving:
            continue  # the master
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        if found:
            sizes.append(int(found.group(1)) / 1024)
    return sorted(sizes)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session: TERM, then KILL after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


# --- HTTP -----------------------------------------------------------------------------


def fetch(
    port: int,
    path: str,
    cookie: str = "",
    method: str = "GET",
    form: dict[str, str] | None = None,
    timeout: float = 10,
    extra_headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a new connection to the server on ``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    headers.update(extra_headers or {})
    body = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(form)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read().decode()
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        return Reply(response.status, data, cookies)
    finally:
        connection.close()


def cookie_header(set_cookies: list[str]) -> str:
    """The ``Cookie`` request header a browser would send back for these ``Set-Cookie``s."""
    return "; ".join(c.split(";", 1)[0] for c in set_cookies)


# --- load -----------------------------------------------------------------------------


def load_with_wrk(scenario: Scenario, seconds: int) -> Result:
    """Load with ``wrk --latency`` and parse requests/s, p50 and p99."""
    command = [
        "wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
        f"http://127.0.0.1:{scenario.port}{scenario.path}",
    ]  # fmt: skip
    if scenario.script is not None:
        command[1:1] = ["-s", str(scenario.script)]
    if scenario.cookie:
        command[1:1] = ["-H", f"Cookie: {scenario.cookie}"]
    for name, value in scenario.headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout

    def number(pattern: str) -> re.Match[str]:
        found = re.search(pattern, output)
        if found is None:
            raise RuntimeError(f"cannot read {pattern!r} in wrk's output:\n{output}")
        return found

    def percentile(p: str) -> float:
        value, unit = number(rf"\n\s+{p}%\s+([\d.]+)(us|ms|s)\b").groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad_count = int(bad.group(1)) if bad else 0
    bad_count += sum(int(n) for n in errors.groups()) if errors else 0
    return Result(
        scenario.name,
        float(number(r"Requests/sec:\s+([\d.]+)").group(1)),
        percentile("50"),
        percentile("99"),
        bad_count,
    )


def load_with_python(scenario: Scenario, seconds: int) -> Result:
    """Fallback load generator: CONNECTIONS threads, keep-alive when the server allows it.

    Bounded by time: no request starts after ``seconds``, and each has a 10 s timeout.
    """
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Cookie": scenario.cookie} if scenario.cookie else {}
    headers.update(scenario.headers)

    requests = scenario.requests or [(scenario.path, {})]

    def worker(offset: int) -> None:
        local: list[float] = []
        local_bad = 0
        connection = http.client.HTTPConnection("127.0.0.1", scenario.port, timeout=10)
        sent = offset * 7919
        while time.monotonic() < stop_at:
            path, own_headers = requests[sent % len(requests)]
            sent += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={**headers, **own_headers})
                response = connection.getresponse()
                response.read()
                if response.will_close:
                    connection.close()  # reconnects on the next request
                if response.status >= 400:
                    local_bad += 1
            except (OSError, http.client.HTTPException):
                connection.close()
                local_bad += 1
                continue
            local.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(local)
            bad[0] += local_bad

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    latencies.sort()
    if not latencies:
        return Result(scenario.name, 0.0, float("nan"), float("nan"), bad[0])
    return Result(
        scenario.name,
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        bad[0],
    )


def measure(scenario: Scenario, seconds: int) -> Result:
    """One load run of ``scenario`` for ``seconds``, with wrk if it is installed."""
    if shutil.which("wrk"):
        return load_with_wrk(scenario, seconds)
    return load_with_python(scenario, seconds)


def median_result(results: list[Result]) -> Result:
    """The round with the median requests/s (its own p50 and p99 travel with it)."""
    ordered = sorted(results, key=lambda r: r.requests_per_second)
    return ordered[len(ordered) // 2]


def _on_terminate(signum: int, frame: Any) -> Any:
    """Turn SIGTERM/SIGHUP into an exception so the clean-up still runs."""
    raise KeyboardInterrupt


def run_benchmark(run: Callable[[Any], None], args: Any) -> int:
    """Run one benchmark script's ``run(args)``; the exit code (servers always cleaned up)."""
    signal.signal(signal.SIGTERM, _on_terminate)
    signal.signal(signal.SIGHUP, _on_terminate)
    try:
        run(args)
    except KeyboardInterrupt:
        print("interrupted: servers stopped, temporary files removed", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.SubprocessError, OSError) as error:
        print(f"benchmark could not run: {error}", file=sys.stderr)
        return 1
    return 0

"""The app as production runs it: ``gunicorn wsgi:app`` with two workers, in processes of
their own, on this run's PostgreSQL database and Redis, beside an in-process instance on
the same database and Redis (the test's hands).

Needs PostgreSQL (``PAYWALL_TEST_DATABASE_URL``; SQLite is one process's file) and Redis
(``REDIS_URL``, else 127.0.0.1:6379): without them these tests skip and say why.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask

from tests.billing.conftest import emulator  # noqa: F401  (the Stripe emulator fixture)
from tests.conftest import TEST_DATABASE_URL, free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
SECRET_KEY = "multiprocess-test-secret-key-0123456789abcdef"


def redis_problem(url: str) -> str | None:
    """Why Redis at ``url`` cannot be used (None: it answers)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis at {url} does not answer ({error})"
    return None


@pytest.fixture
def shared_services(migrated_database: str) -> str:
    """The run's PostgreSQL database URL, once PostgreSQL and Redis are known to be there."""
    if not TEST_DATABASE_URL:
        pytest.skip("multi-process tests need PostgreSQL: set PAYWALL_TEST_DATABASE_URL")
    problem = redis_problem(REDIS_URL)
    if problem:
        pytest.skip(f"multi-process tests need Redis: {problem}")
    return migrated_database


@dataclass
class Browser:
    """A client of a served app over real HTTP, keeping its cookies (secure ones too,
    as a browser on https would) and following nothing by itself."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, str]:
        """One request (``body``: form fields); returns the status and the body as text."""
        if body is None:
            return self.send(method, path, None, headers)
        form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        return self.send(method, path, urlencode(body).encode(), form)

    def request_raw(self, path: str, payload: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST ``payload`` as JSON, as Stripe posts an event."""
        return self.send("POST", path, payload, {**headers, "Content-Type": "application/json"})

    def send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str]:
        """One request as given; returns the status and the body as text."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        sent = dict(headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Max-Age=0" not in header and "1970" not in header:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            return response.status, text
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> str:
        status, text = self.request("GET", path, **headers)
        assert status == 200, (path, status, text[:500])
        return text

    def get_json(self, path: str, **headers: str) -> tuple[int, Any]:
        import json

        status, text = self.request("GET", path, **headers)
        return status, json.loads(text)

    def sign_in(self, email: str, password: str) -> None:
        """Through the real sign-in form."""
        page = self.get("/signin")
        token = re.search(r'name="csrf_token" [^>]*value="([^"]+)"', page)
        assert token, "no CSRF token on the sign-in form"
        fields = {"csrf_token": token.group(1), "email": email, "password": password}
        status, text = self.request("POST", "/signin", fields)
        assert status == 302, (status, text[:500])


@dataclass
class Served:
    """A gunicorn server of the app: its port and settings."""

    port: int
    environment: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self) -> Browser:
        return Browser(self.port)


def production_environment(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a production deployment on the test database and Redis."""
    return {
        **os.environ,
        "PAYWALL_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "PAYWALL_BASE_URL": f"http://127.0.0.1:{port}",
        "PAYWALL_RATELIMIT_ENABLED": "false",
        "STRIPE_SECRET_KEY": "sk_test_multiprocess",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_multiprocess",
        "STRIPE_WEBHOOK_SECRET": "whsec_multiprocess",
        **extra,
    }


@contextmanager
def gunicorn(environment: dict[str, str], port: int, workers: int = 2) -> Iterator[Served]:
    """``gunicorn wsgi:app`` with ``workers`` sync workers on ``port``, in its own process
    group; stopped (TERM, then KILL) on the way out."""
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning",
        "wsgi:app",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=environment, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_until_answering(process, port)
        yield Served(port, environment)
    finally:
        _stop(process)


def _wait_until_answering(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            Browser(port).request("GET", "/")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer within 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
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


@pytest.fixture
def queue_namespace(shared_services: str) -> Iterator[str]:
    """A job-queue namespace of this test's own on the run's Redis, removed afterwards."""
    import redis

    namespace = "paywall-test-" + secrets.token_hex(4)
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


class Servers:
    """Starts gunicorn servers of the app (``servers(**environment)``) and ``paywall
    worker`` processes (``servers.worker(**environment)``) on the run's database, Redis
    and the test's job queue; all stopped after the test."""

    def __init__(self, database_url: str, namespace: str) -> None:
        self.database_url = database_url
        self.namespace = namespace
        self.stack = ExitStack()

    def environment(self, port: int, extra: dict[str, str]) -> dict[str, str]:
        return production_environment(
            self.database_url, port, PAYWALL_JOB_QUEUE_NAMESPACE=self.namespace, **extra
        )

    def __call__(self, **extra: str) -> Served:
        port = free_port()
        return self.stack.enter_context(gunicorn(self.environment(port, extra), port))

    def worker(self, **extra: str) -> None:
        """``paywall worker`` in a process of its own, applying what the servers queue."""
        command = [sys.executable, "-m", "paywall", "worker", "--threads", "2", "--no-schedule"]
        environment = self.environment(0, {"PAYWALL_JOB_MAX_RETRIES": "0", **extra})
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.stack.callback(_stop, process)


@pytest.fixture
def serve(shared_services: str, queue_namespace: str) -> Iterator[Servers]:
    """Gunicorn servers (two workers each) and job workers of the app: see :class:`Servers`."""
    servers = Servers(shared_services, queue_namespace)
    with servers.stack:
        yield servers


@pytest.fixture
def hands(
    make_app: Any, shared_services: str, queue_namespace: str, mailbox: Any
) -> Iterator[Flask]:
    """An in-process instance of the app on the same database and Redis, in whose app
    context the test makes its changes (as another host would)."""
    instance = make_app(
        REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY, JOB_QUEUE_NAMESPACE=queue_namespace
    )
    with instance.app_context():
        yield instance


def every_worker(check: Callable[[], None], times: int = 12) -> None:
    """Run ``check`` on enough requests that both workers of a server answer some of them
    (a new connection each: the kernel hands each to whichever worker accepts first)."""
    for _ in range(times):
        check()

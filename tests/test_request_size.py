"""Request bodies are bounded everywhere, chunked ones (no Content-Length) included.

Run against gunicorn in its own process, as production runs: a 64 MB chunked body sent
to the Stripe webhook (which reads the body before it can check the signature) is
refused with 413 after at most ``MAX_CONTENT_LENGTH`` bytes, and the worker's memory
does not grow by the size of the body.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
BODY_BYTES = 64 * 1024 * 1024
BLOCK = b"{" + b" " * (64 * 1024 - 2) + b"}"


def wait_until_listening(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("gunicorn did not start")


def worker_pid(master: int, seconds: float = 10) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("gunicorn started no worker")


def peak_memory_kb(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[int, int]]:
    """The app under gunicorn (one sync worker); yields its port and the worker's pid."""
    port = free_port()
    env = {
        **os.environ,
        "PAYWALL_ENV": "testing",
        "PAYWALL_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_listening(port, process)
        yield port, worker_pid(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def post_chunked(
    port: int, path: str, total: int, content_type: str = "application/json"
) -> tuple[bytes, int]:
    """POST ``total`` bytes with chunked encoding, stopping as soon as an answer comes;
    the answer's status line and how much of the body got sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Stripe-Signature: t=1,v1=00\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"%x\r\n" % len(BLOCK) + BLOCK + b"\r\n"
    sent, answer, done_sending = 0, b"", False
    deadline = time.monotonic() + 30
    with sock:
        while not answer and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [] if done_sending else [sock], [], 1)
            if readable:
                answer = sock.recv(4096)
            elif writable:
                try:
                    if sent < total:
                        sock.sendall(chunk)
                        sent += len(BLOCK)
                    else:
                        sock.sendall(b"0\r\n\r\n")
                        done_sending = True
                except OSError:  # the server answered and hung up: read its answer
                    done_sending = True
    return answer.split(b"\r\n", 1)[0], sent


def test_a_huge_chunked_webhook_body_is_refused_without_being_read(gunicorn):
    port, worker = gunicorn
    status, _ = post_chunked(port, "/stripe/webhook", 1024)  # warm the worker up
    assert b" 400 " in status  # small and unsigned: a bad signature
    before = peak_memory_kb(worker)

    started = time.monotonic()
    status, sent = post_chunked(port, "/stripe/webhook", BODY_BYTES)
    elapsed = time.monotonic() - started

    assert b" 413 " in status
    assert elapsed < 5
    assert sent < BODY_BYTES
    grew_mb = (peak_memory_kb(worker) - before) / 1024
    assert grew_mb < 16, f"the worker's memory grew by {grew_mb:.0f} MB"


def test_the_webhooks_own_limit_applies_to_chunked_bodies(gunicorn):
    port, _ = gunicorn
    status, _ = post_chunked(port, "/stripe/webhook", 640 * 1024)  # over its 512 KB
    assert b" 413 " in status


def test_a_huge_chunked_form_post_is_refused_too(gunicorn):
    port, worker = gunicorn
    form = "application/x-www-form-urlencoded"
    status, _ = post_chunked(port, "/signin", 1024, form)  # warm the worker up
    assert b" 400 " in status  # no CSRF token
    before = peak_memory_kb(worker)
    status, _ = post_chunked(port, "/signin", BODY_BYTES, form)  # the CSRF check reads it
    assert b" 413 " in status
    assert (peak_memory_kb(worker) - before) / 1024 < 16

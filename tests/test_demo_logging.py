"""``paywall demo`` logs the app, as the README says: outgoing emails and tracebacks.

Run as its own process, as a person runs it. Real Stripe keys (unused here) keep the
emulator out of it: only the app's own logging is under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port
from tests.live import LiveBrowser

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition, seconds: float = 60, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def test_the_demo_logs_outgoing_emails_and_tracebacks(tmp_path: Path):
    port = free_port()
    instance = tmp_path / "instance"
    log = tmp_path / "demo.log"
    env = {
        **os.environ,
        "PAYWALL_INSTANCE_PATH": str(instance),
        "PAYWALL_ENV": "development",
        "PAYWALL_BASE_URL": f"http://127.0.0.1:{port}",
        "STRIPE_SECRET_KEY": "sk_test_unused",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_unused",
        "STRIPE_WEBHOOK_SECRET": "whsec_unused",
    }
    for name in ("DATABASE_URL", "MAIL_SERVER", "REDIS_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "paywall"]  # this checkout's code, not an installed one
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, "demo", "--port", str(port), "--publisher-port", str(free_port())],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        browser = LiveBrowser(f"http://127.0.0.1:{port}")

        def serving() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return browser.get("/")[0] == 200
            except OSError:
                return False

        wait_for(serving, what="the demo to serve")
        browser.submit("/password/forgot", {"email": "reader@example.com"})
        wait_for(lambda: "email to reader@example.com" in log.read_text(), 10, "the email")
        assert "Reset your password" in log.read_text()

        # Mail can no longer be written to the outbox: the error is logged in full.
        shutil.rmtree(instance / "outbox")
        (instance / "outbox").write_text("not a folder")
        browser.submit("/signin/link", {"email": "reader@example.com"})
        wait_for(lambda: "Traceback" in log.read_text(), 10, "the traceback")
        before, after = log.read_text().split("Traceback", 1)
        assert "could not send the email 'Your sign-in link and code'" in before.splitlines()[-1]
        assert "Could not write to directory" in after or "not a directory" in after
    finally:
        process.terminate()
        process.wait(timeout=10)

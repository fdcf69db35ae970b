"""Run the local Stripe emulator (``localstripe``) as a separate process.

The emulator is a development dependency (GPL): it is started as its own process and
spoken to over HTTP, never imported. It also serves a stand-in Stripe.js at
``/js.stripe.com/v3/`` whose card "Element" is plain inputs, so the card form works
offline. Used by ``paywall demo`` and by the test suite.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

EMULATOR_SECRET_KEY = "sk_test_paywall_emulator"  # noqa: S105 (the emulator accepts any key)
EMULATOR_PUBLISHABLE_KEY = "pk_test_paywall_emulator"


class EmulatorError(RuntimeError):
    """The emulator could not be started or configured."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_base_for(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def stripe_js_for(port: int) -> str:
    return f"{api_base_for(port)}/js.stripe.com/v3/"


@dataclass
class Emulator:
    """A running emulator process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def api_base(self) -> str:
        return api_base_for(self.port)

    @property
    def stripe_js_url(self) -> str:
        return stripe_js_for(self.port)

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        """Have the emulator sign events with ``secret`` and POST them to ``url``."""
        body = json.dumps({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback http URL)
            f"{self.api_base}/_config/webhooks/{name}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (loopback URL)
                pass
        except (urllib.error.URLError, OSError) as error:
            raise EmulatorError(
                f"could not register the webhook with the emulator: {error}"
            ) from error

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the process (its state is kept only in memory and a scratch file)."""
        if self.is_running():
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def is_answering(port: int) -> bool:
    """True when an emulator answers API requests on ``port``."""
    request = urllib.request.Request(  # noqa: S310 (loopback http URL)
        f"{api_base_for(port)}/v1/plans?limit=1",
        headers={"Authorization": f"Bearer {EMULATOR_SECRET_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_emulator(
    port: int | None = None, log_path: Path | None = None, timeout: float = 20
) -> Emulator:
    """Start ``localstripe`` on ``port`` (a free one by default) and wait until it answers."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if log_path:
            log.close()  # type: ignore[union-attr]
    emulator = Emulator(port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not emulator.is_running():
            raise EmulatorError(
                "the Stripe emulator exited at start; is localstripe installed "
                "(pip install -e '.[dev]')?"
            )
        if is_answering(port):
            return emulator
        time.sleep(0.1)
    emulator.stop()
    raise EmulatorError(f"the Stripe emulator did not answer on port {port} within {timeout}s")

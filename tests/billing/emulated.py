"""Test-side access to the Stripe emulator (the client itself lives in devstripe.emulator).

What the browser does (confirm a card on a SetupIntent) and what Stripe does on its own
clock (bill a renewal) are not app code, so tests do them here, over HTTP, as the real
parties would. Emulator quirks the tests rely on are noted where used.
"""

from __future__ import annotations

import time
from typing import Any

from devstripe.emulator import (  # noqa: F401  (re-exported for the tests)
    ALWAYS_AUTHENTICATE,
    DECLINED_ON_CHARGE,
    VISA,
    EmulatorClient,
    EmulatorRefused,
)

StripeSide = EmulatorClient


def let_stripe_catch_up(seconds: float = 2.2) -> None:
    """Let the emulator deliver the events of what just happened (it sends them ~1 s late),
    and let the clock move on: Stripe stamps events to the second, and a renewal a month
    later never shares a second with the subscription's own events."""
    time.sleep(seconds)


def wait_for(check: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy (webhooks arrive ~1 s late)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(interval)

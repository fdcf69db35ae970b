"""Idempotency keys, kept as Stripe keeps them (localstripe ignores them).

The first answer to a POST with an ``Idempotency-Key`` is kept for 24 hours: the same
key with the same method, path and parameters gets that answer again (same status and
body, ``Idempotent-Replayed: true``); with anything else, a 400 ``idempotency_error``.
Requests refused before they ran (a contract violation) keep nothing, as at Stripe.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

KEY_LIFETIME_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Kept:
    """The first request made with a key, and its answer."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: bytes
    at: float = field(default_factory=time.time)


def conflict(key: str, kept: Kept, method: str, path: str) -> dict[str, Any]:
    """Stripe's error body for a key reused for another request."""
    if (kept.method, kept.path) != (method, path):
        message = (
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{kept.method} {kept.path}' vs '{method} {path}'). Try using a "
            f"key other than '{key}' if you meant to execute a different request."
        )
    else:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request."
        )
    return {"error": {"type": "idempotency_error", "message": message}}


class IdempotencyKeys:
    """The keys seen in the last 24 hours, each with the answer it got."""

    def __init__(self) -> None:
        self._kept: dict[str, Kept] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, key: str) -> asyncio.Lock:
        """Held while a request with ``key`` runs, so a concurrent twin waits and replays."""
        return self._locks.setdefault(key, asyncio.Lock())

    def recall(self, key: str) -> Kept | None:
        kept = self._kept.get(key)
        if kept is not None and time.time() - kept.at > KEY_LIFETIME_SECONDS:
            del self._kept[key]
            return None
        return kept

    def keep(self, key: str, kept: Kept) -> None:
        self._kept[key] = kept

    def forget_all(self) -> None:
        self._kept.clear()

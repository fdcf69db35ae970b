"""The per-worker cache behind the reading path: bounded, and its entries expire."""

from __future__ import annotations

import paywall.extensions
from paywall.extensions import LocalCache


def test_an_entry_expires_after_its_lifetime(monkeypatch):
    cache: LocalCache[str, int] = LocalCache(maxsize=10, seconds=5)
    cache.put("a", 1)
    assert cache.get("a") == 1
    now = paywall.extensions.monotonic()
    monkeypatch.setattr(paywall.extensions, "monotonic", lambda: now + 6)
    assert cache.get("a") is None


def test_a_full_cache_drops_its_oldest_entry():
    cache: LocalCache[str, int] = LocalCache(maxsize=2, seconds=60)
    for number, key in enumerate("abc"):
        cache.put(key, number)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 1, 2)
    cache.forget("b")
    assert cache.get("b") is None


def test_fetch_makes_a_missing_value_once():
    cache: LocalCache[str, int] = LocalCache(maxsize=2, seconds=60)
    calls: list[str] = []

    def make() -> int:
        calls.append("made")
        return 42

    assert [cache.fetch("a", make) for _ in range(3)] == [42, 42, 42]
    assert calls == ["made"]

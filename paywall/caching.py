"""The reading path's caches: bounded LRU maps in each worker, kept right by generations.

A :class:`FreshCache` names the scopes its values are read from; an entry is used only
while those scopes' counters (:mod:`paywall.invalidation`) are what they were when it
was filled, so a change anywhere is seen on the next request, and no entry has a
lifetime. A cache with no scopes holds values fully determined by their keys.
``PAYWALL_CACHES_OFF`` turns named caches off (to measure what each one gains).

Caches of small records are bounded by their number of entries. Caches of pages are
bounded by the bytes their values hold (a ``size`` function, the text's length), each at
``PAGE_CACHE_BYTES`` per worker: an article of 1,000 words is 8 kB twice over (teaser and
full text), so a count alone would let a worker's memory grow with the articles' length.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

from cachetools import LRUCache
from flask import Flask, current_app

from paywall.invalidation import generations

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
EXTENSION = "paywall.caches"


class FreshCache(Generic[K, V]):
    """A bounded cache of values read from ``scopes`` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        scopes: tuple[str, ...],
        maxsize: int,
        size: Callable[[V], int] | None = None,
    ) -> None:
        self.name = name
        self.scopes = scopes
        self.maxsize = maxsize
        self._size = size
        # maxsize counts entries, or with ``size`` what the values weigh.
        weigh = (lambda entry: size(entry[1])) if size is not None else None
        self._entries: LRUCache[K, tuple[tuple[int, ...], V]] = LRUCache(maxsize, weigh)
        self._lock = Lock()

    def _stamp(self) -> tuple[int, ...] | None:
        if not self.scopes:
            return ()
        current = generations()
        return tuple(current[scope] for scope in self.scopes) if current is not None else None

    def fetch(self, key: K, make: Callable[[], V | None]) -> V | None:
        """The value kept for ``key``, or ``make()``'s, kept unless it is None.

        The counters are read before ``make`` reads the database, so a value made from
        the state before a change is never kept as the state after it.
        """
        stamp = self._stamp()
        if stamp is None:  # the counters cannot be read: neither trust nor keep
            return make()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == stamp:
            return entry[1]
        value = make()
        if value is not None and (self._size is None or self._size(value) <= self.maxsize):
            with self._lock:
                self._entries[key] = (stamp, value)
        return value

    def keep(self, key: K, value: V) -> None:
        """Keep ``value``, read from the database during this request after a fetch of any
        cache (which reads the counters first: see :meth:`fetch`), e.g. by the same query."""
        stamp = self._stamp()
        if stamp is not None and (self._size is None or self._size(value) <= self.maxsize):
            with self._lock:
                self._entries[key] = (stamp, value)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def weight(self) -> float:
        """What the entries weigh: their number, or with ``size`` their bytes."""
        return self._entries.currsize


class NoCache(FreshCache[K, V]):
    """A cache turned off: every fetch makes the value."""

    def fetch(self, key: K, make: Callable[[], V | None]) -> V | None:
        return make()

    def keep(self, key: K, value: V) -> None:
        return None


def init_app(app: Flask) -> None:
    """Give ``app`` its (empty) set of caches."""
    app.extensions[EXTENSION] = {}


def cache(
    name: str, scopes: tuple[str, ...], maxsize: int, size: Callable[[V], int] | None = None
) -> FreshCache:
    """The app's cache called ``name``, made on first use (``size``: see the docstring)."""
    caches: dict[str, FreshCache] = current_app.extensions[EXTENSION]
    found = caches.get(name)
    if found is None:
        off = name in current_app.config["CACHES_OFF"]
        kind = NoCache if off else FreshCache
        found = caches.setdefault(name, kind(name, scopes, maxsize, size))
    return found


def page_cache(name: str, scopes: tuple[str, ...], size: Callable[[V], int]) -> FreshCache:
    """A cache of pages, bounded by ``PAGE_CACHE_BYTES`` of what ``size`` weighs."""
    return cache(name, scopes, current_app.config["PAGE_CACHE_BYTES"], size)

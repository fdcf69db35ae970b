"""Every Flask extension, created unbound in one place and bound in ``create_app``, and
the lifetime-bound :class:`LocalCache` that only the session code still uses (every other
cache is a :class:`paywall.caching.FreshCache`, kept right by generations)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from threading import Lock
from time import monotonic
from typing import Generic, TypeVar

from flask import Flask, current_app
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from billing.orm import Base

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
LOCAL_CACHES = "paywall.local_caches"
_caches_lock = Lock()


class LocalCache(Generic[K, V]):
    """A bounded, short-lived cache inside one worker process.

    Nothing is shared between processes: each caller says how long a change made in
    another process may take to show (the entry's lifetime) and forgets what it changes
    in this process itself. A plain dict, not ``cachetools``: reads sit on the measured
    reading path, and a dict read is atomic under the GIL, so only writes take the lock.
    When full, the oldest entry makes room.
    """

    def __init__(self, maxsize: int, seconds: float) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._maxsize = maxsize
        self._seconds = seconds
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self._maxsize:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (monotonic() + self._seconds, value)

    def fetch(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()``'s, which is then kept."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)


def local_cache(name: str, seconds: float, maxsize: int, app: Flask | None = None) -> LocalCache:
    """The app's :class:`LocalCache` called ``name``, made on first use (lifetime ``seconds``)."""
    owner = app or current_app._get_current_object()  # type: ignore[attr-defined]
    caches: dict[str, LocalCache] = owner.extensions.setdefault(LOCAL_CACHES, {})
    cache = caches.get(name)
    if cache is None:
        with _caches_lock:
            cache = caches.setdefault(name, LocalCache(maxsize, seconds))
    return cache


db = SQLAlchemy(model_class=Base, disable_autonaming=True)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


mail = Mail()

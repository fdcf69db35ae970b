"""One invalidation mechanism for every cache: generation counters, moved after commit.

Each kind of cached data has a *scope* (``articles``, ``sites``, ``billing``, ...) with a
counter. A cache keeps each entry with the counter it read before it read the database,
and uses it only while the counter is unchanged. Writing any table of a scope (ORM or
Core statement through a session) moves its counter once the transaction commits,
never before, so every worker and host sees the change on its very next request:

- with ``REDIS_URL``, the counters live in Redis (``paywall:generation:<scope>`` in the
  URL's database): one ``MGET`` of all of them per request that uses a cache, ``INCR``
  on change;
- without it (the single-process demo, tests), in this process, shared by every app here.

Counters shared more widely than needed (two deployments on one Redis database, apps on
different databases in one process) only cost extra cache misses, never a stale read.

A fill that read the old state is kept under the old counter (read first), so it is
never taken for current once the change commits: the database's reads must see every
commit made before they start (PostgreSQL's READ COMMITTED, SQLite outside an open
write transaction), which is how both are used here.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable
from threading import Lock
from typing import Any, Protocol

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

ARTICLES = "articles"
SITES = "sites"
READERS = "readers"
READER_TOKENS = "reader_tokens"
BILLING = "billing"
SIGNING_KEYS = "signing_keys"
SCOPES = (ARTICLES, SITES, READERS, READER_TOKENS, BILLING, SIGNING_KEYS)

TABLE_SCOPES = {
    "articles": ARTICLES,
    "embed_articles": ARTICLES,
    "embed_sites": SITES,
    "readers": READERS,
    "login_sessions": READERS,
    "embed_reader_tokens": READER_TOKENS,
    "billing_plans": BILLING,
    "billing_customers": BILLING,
    "billing_subscriptions": BILLING,
    "billing_payment_methods": BILLING,
    "billing_invoices": BILLING,
    "embed_signing_keys": SIGNING_KEYS,
}
"""Which scope a write to each table moves (tables no cache reads are absent)."""

log = logging.getLogger(__name__)
EXTENSION = "paywall.generations"
PENDING = "paywall.changed_scopes"
Generations = dict[str, int]


class Counters(Protocol):
    """Where the generation counters live."""

    def read(self) -> Generations | None: ...

    def bump(self, scopes: Iterable[str]) -> None: ...


class LocalCounters:
    """Counters in this process (no Redis): right only when one process serves."""

    def __init__(self) -> None:
        self._values = dict.fromkeys(SCOPES, 0)
        self._lock = Lock()

    def read(self) -> Generations:
        return dict(self._values)

    def bump(self, scopes: Iterable[str]) -> None:
        with self._lock:
            for scope in scopes:
                self._values[scope] += 1


class RedisCounters:
    """Counters in Redis, shared by every worker and host.

    A counter Redis does not have (new, or lost with Redis's data) starts at a random
    value, so entries kept under an older value can never match it. While Redis does
    not answer, :meth:`read` gives None and the caches read the database every time.
    """

    def __init__(self, url: str) -> None:
        import redis

        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._keys = [f"paywall:generation:{scope}" for scope in SCOPES]
        self._key_of = dict(zip(SCOPES, self._keys, strict=True))
        self._own = threading.local()

    def read(self) -> Generations | None:
        try:
            values = self._mget()
            if None in values:
                for key, value in zip(self._keys, values, strict=True):
                    if value is None:
                        self._client.set(key, secrets.randbits(48), nx=True)
                values = self._mget()
        except self._errors:
            self._drop_connection()
            log.warning("Redis does not answer: caches read the database", exc_info=True)
            return None
        return {scope: int(value) for scope, value in zip(SCOPES, values, strict=True)}

    def _mget(self) -> list[Any]:
        """``MGET`` of every counter on this thread's own connection, packed once: a third
        of the client's usual per-command cost (17 against 53 µs), on every request."""
        connection = getattr(self._own, "connection", None)
        if connection is None:
            pool = self._client.connection_pool
            try:
                connection = pool.get_connection()
            except TypeError:  # redis-py before 5.3 wants a command's name
                connection = pool.get_connection("MGET")  # type: ignore[call-arg]
            self._own.connection = connection
            self._own.command = connection.pack_command("MGET", *self._keys)
        connection.send_packed_command(self._own.command, check_health=False)
        return connection.read_response()  # type: ignore[no-any-return]

    def _drop_connection(self) -> None:
        connection = getattr(self._own, "connection", None)
        if connection is not None:
            self._own.connection = None
            connection.disconnect()
            self._client.connection_pool.release(connection)

    def bump(self, scopes: Iterable[str]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for scope in scopes:
            pipe.incr(self._key_of[scope])
        try:
            pipe.execute()
        except self._errors:
            log.exception(
                "Redis did not take a committed change to %s: other workers may show their "
                "cached copy until the next change there",
                ", ".join(scopes),
            )


_local_counters = LocalCounters()


def init_app(app: Flask) -> None:
    """Give ``app`` its counters: Redis with ``REDIS_URL``, else this process's."""
    redis_url = app.config.get("REDIS_URL")
    counters = RedisCounters(redis_url) if redis_url else _local_counters
    app.extensions[EXTENSION] = counters


def _counters() -> Counters:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def generations() -> Generations | None:
    """Every scope's counter, read once per request (each call outside a request); None
    while they cannot be read (then nothing may be taken from or kept in a cache)."""
    if not has_request_context():
        return _counters().read()
    if EXTENSION not in g:
        setattr(g, EXTENSION, _counters().read())
    found: Generations | None = getattr(g, EXTENSION)
    return found


def bump(scopes: Iterable[str]) -> None:
    """Move the counters of ``scopes`` now, and forget this request's reading of them."""
    scopes = sorted(set(scopes))
    if not scopes:
        return
    _counters().bump(scopes)
    if has_request_context():
        g.pop(EXTENSION, None)


def _note(session: Session, tables: Iterable[Any]) -> None:
    scopes = {TABLE_SCOPES[t.name] for t in tables if getattr(t, "name", None) in TABLE_SCOPES}
    if scopes:
        session.info.setdefault(PENDING, set()).update(scopes)


@event.listens_for(Session, "before_flush")
def _note_flushed_rows(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    rows = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    _note(session, (getattr(row, "__table__", None) for row in rows))


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _note(state.session, [getattr(state.statement, "table", None)])


@event.listens_for(Session, "after_commit")
def _bump_committed(session: Session) -> None:
    scopes = session.info.pop(PENDING, None)
    if scopes and has_app_context() and EXTENSION in current_app.extensions:
        bump(scopes)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(PENDING, None)

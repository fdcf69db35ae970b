"""One invalidation mechanism for every cache: generation counters, moved after commit.

Each kind of cached data has a *scope* (``articles``, ``sites``, ``billing``, ...) with a
counter. A cache keeps each entry with the counter it read before it read the database,
and uses it only while the counter is unchanged. Writing any table of a scope (ORM or
Core statement through a session) moves its counter once the transaction commits,
never before, so every worker and host sees the change on its very next request:

- with ``REDIS_URL``, the counters live in Redis (``paywall:generation:<scope>`` in the
  URL's database); each worker reads them once and follows their moves on a
  subscription (:class:`RedisCounters`), so a request reads them without a round trip;
- without it (the single-process demo, tests), in this process, shared by every app here.

Counters shared more widely than needed (two deployments on one Redis database, apps on
different databases in one process) only cost extra cache misses, never a stale read.

A fill that read the old state is kept under the old counter (read first), so it is
never taken for current once the change commits: the database's reads must see every
commit made before they start (PostgreSQL's READ COMMITTED, SQLite outside an open
write transaction), which is how both are used here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import select
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
GIFTS = "gifts"
SIGNING_KEYS = "signing_keys"
SCOPES = (ARTICLES, SITES, READERS, READER_TOKENS, BILLING, GIFTS, SIGNING_KEYS)

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
    "billing_gifts": GIFTS,
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


CHANNEL = "paywall:generations"

# Move each counter (one made anew starts at the random ARGV[1]) and tell every worker,
# in one atomic step: the messages arrive in the order the counters moved. Lua keeps
# numbers as doubles and would write one past 10^14 as "1.4e+14": "%d" writes it whole.
_BUMP = """
local moved = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then redis.call('SET', key, ARGV[1]) end
  moved[i] = string.format('%s=%d', ARGV[i + 1], redis.call('INCR', key))
end
redis.call('PUBLISH', ARGV[#ARGV], table.concat(moved, ' '))
"""


class RedisCounters:
    """Counters in Redis, shared by every worker and host, each worker keeping a copy.

    A worker reads every counter once (``MGET``) and then follows them on a
    subscription: each move is published by the same atomic script that makes it, so
    the message is in this worker's socket before the change's own request has even
    answered. Reading the counters is then a non-blocking look at that socket, not a
    round trip to Redis on every request; a change is still seen on the very next
    request. A lost subscription (Redis restarted, the connection dropped, a fork) is
    noticed on that look, and the copy is read anew.

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
        self._script = self._client.register_script(_BUMP)
        self._lock = Lock()
        self._subscription: Any = None
        self._subscribed_in = 0  # the process that subscribed (a forked child must not share)
        self._values: Generations = {}

    def read(self) -> Generations | None:
        with self._lock:
            try:
                if self._subscription is None or self._subscribed_in != os.getpid():
                    self._follow()
                elif self._news_waiting():
                    self._catch_up()
            except self._errors:
                self._forget()
                log.warning("Redis does not answer: caches read the database", exc_info=True)
                return None
            return dict(self._values)

    def _follow(self) -> None:
        """Subscribe, wait until Redis confirms, then read every counter: no move is lost
        between the two."""
        self._forget()
        subscription = self._client.pubsub()
        self._subscription, self._subscribed_in = subscription, os.getpid()
        subscription.subscribe(CHANNEL)
        confirmed = subscription.get_message(timeout=1)
        if not confirmed or confirmed["type"] != "subscribe":
            raise OSError("Redis did not confirm the subscription to the counters")
        self._read_all()

    def _read_all(self) -> None:
        values = self._client.mget(self._keys)
        for key, value in zip(self._keys, values, strict=True):
            if value is None:
                self._client.set(key, secrets.randbits(48), nx=True)
        if None in values:
            values = self._client.mget(self._keys)
        self._values = {scope: int(value) for scope, value in zip(SCOPES, values, strict=True)}

    def _news_waiting(self) -> bool:
        """Whether the subscription's socket has anything to read (a move, a reconnect's
        confirmation, or the end of the connection), by one poll with no wait.

        Asking redis-py's ``get_message(timeout=0)`` costs about 20 µs a request (it sets
        the socket's timeout twice around a failed ``recv``); a poll costs 2. It reads the
        connection's socket, which redis-py does not publish, so it says yes whenever
        that socket is not there. :meth:`_catch_up` reads until redis-py has nothing
        buffered, so a message it holds is never left behind a quiet socket.
        """
        sock = getattr(self._subscription.connection, "_sock", None)
        if sock is None:
            return True
        poller = select.poll()  # not select(): it refuses descriptors past 1023
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))

    def _catch_up(self) -> None:
        """Apply every move already published, without waiting for more."""
        while True:
            message = self._subscription.get_message(timeout=0)
            if message is None:
                return
            if message["type"] == "subscribe":  # the client reconnected: moves may be lost
                self._read_all()
                continue
            if message["type"] != "message":
                continue
            try:
                moves = [m.partition("=")[::2] for m in message["data"].decode().split()]
                moved = {scope: int(value) for scope, value in moves if scope in self._values}
            except ValueError:  # not a move this version writes: read the counters instead
                log.warning("unreadable counter move %r", message["data"])
                self._read_all()
                continue
            self._values.update(moved)

    def _forget(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None and self._subscribed_in == os.getpid():
            with contextlib.suppress(*self._errors):
                subscription.close()

    def bump(self, scopes: Iterable[str]) -> None:
        scopes = list(scopes)
        try:
            self._script(
                keys=[self._key_of[scope] for scope in scopes],
                args=[secrets.randbits(48), *scopes, CHANNEL],
            )
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

"""Gate views, counted without a database query on the reading path.

Each process adds a shown gate to an in-memory count per article and UTC day (a lock
and a dict increment). With ``REDIS_URL``, at most every :data:`PUSH_SECONDS` a
request pushes its process's counts to one Redis hash (an ``HINCRBY`` per article and
day, all in one ``MULTI``: a single round trip), so every worker's and host's views
meet there. :func:`flush_to_database` (the periodic job ``flush_gate_views``, and the
dashboard before it reads) takes what waits and adds it to the ``gate_views`` rows.
Without Redis there is one process, and the flush takes its counts directly.

These are analytics: a process that dies loses at most its last few seconds of views.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import date

import redis
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from paywall.articles.models import Article
from paywall.console.models import GateView
from paywall.extensions import db

log = logging.getLogger(__name__)
EXTENSION = "paywall.gate_views"
PUSH_SECONDS = 5.0
Key = tuple[int, str]  # article id, ISO day


class GateViewCounter:
    """This process's gate views not yet pushed or flushed, and the Redis hash (if any)."""

    def __init__(self, redis_url: str | None, namespace: str) -> None:
        self._counts: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._pushed_at = time.monotonic()
        self._client = (
            redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
            if redis_url
            else None
        )
        self.key = f"{namespace}:gate-views"

    def count(self, article_id: int, day: date) -> None:
        """One more view of ``article_id``'s gate on ``day``."""
        with self._lock:
            self._counts[(article_id, day.isoformat())] += 1
        if self._client is not None and time.monotonic() - self._pushed_at >= PUSH_SECONDS:
            self.push()

    def push(self) -> None:
        """Add this process's counts to the Redis hash; kept here if Redis cannot be reached."""
        self._pushed_at = time.monotonic()
        if self._client is None:
            return
        taken = self._take_local()
        if taken:
            try:
                self._add_to_redis(taken)
            except (redis.RedisError, OSError):
                log.warning("gate views not pushed to Redis; kept for the next push")
                self._give_back_local(taken)

    def take(self) -> Counter[Key]:
        """Every count not yet in the database, removed from where it waited."""
        if self._client is None:
            return self._take_local()
        self.push()
        pipe = self._client.pipeline(transaction=True)
        pipe.hgetall(self.key)
        pipe.delete(self.key)
        raw, _ = pipe.execute()
        taken: Counter[Key] = Counter()
        for field, views in raw.items():
            day, _, article_id = field.decode().partition(":")
            taken[(int(article_id), day)] += int(views)
        return taken

    def give_back(self, counts: Counter[Key]) -> None:
        """Put back counts that could not be written to the database."""
        if self._client is None:
            self._give_back_local(counts)
        else:
            self._add_to_redis(counts)

    def _take_local(self) -> Counter[Key]:
        with self._lock:
            taken, self._counts = self._counts, Counter()
        return taken

    def _give_back_local(self, counts: Counter[Key]) -> None:
        with self._lock:
            self._counts.update(counts)

    def _add_to_redis(self, counts: Counter[Key]) -> None:
        assert self._client is not None
        pipe = self._client.pipeline(transaction=True)
        for (article_id, day), views in counts.items():
            pipe.hincrby(self.key, f"{day}:{article_id}", views)
        pipe.execute()


def init_app(app: Flask) -> None:
    """Give the app its gate-view counter (no connection is made until a push)."""
    app.extensions[EXTENSION] = GateViewCounter(
        app.config.get("REDIS_URL"), app.config["JOB_QUEUE_NAMESPACE"]
    )


def counter() -> GateViewCounter:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def count_gate_view(article_id: int, day: date) -> None:
    """Count one shown gate of ``article_id`` (no database, at most a rare Redis push)."""
    counter().count(article_id, day)


def flush_to_database() -> int:
    """Add every waiting count to the ``gate_views`` rows; the number of views written.

    Views of an article deleted meanwhile are dropped. If the database refuses, the
    counts go back where they waited, for the next flush.
    """
    counts = counter().take()
    if not counts:
        return 0
    try:
        existing = set(
            db.session.scalars(
                select(Article.id).where(Article.id.in_({article for article, _ in counts}))
            )
        )
        rows = [
            {"day": date.fromisoformat(day), "article_id": article, "views": views}
            for (article, day), views in sorted(counts.items())
            if article in existing
        ]
        if rows:
            db.session.execute(_add_views(rows))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        counter().give_back(counts)
        raise
    return sum(row["views"] for row in rows)


def _add_views(rows: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    """One INSERT ... ON CONFLICT that adds to the day's count (PostgreSQL and SQLite)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(GateView).values(rows)
    return statement.on_conflict_do_update(
        index_elements=["day", "article_id"],
        set_={"views": GateView.views + statement.excluded.views},
    )


def flush_gate_views() -> None:
    """The periodic job: write the waiting gate views to the database."""
    written = flush_to_database()
    if written:
        log.info("flushed %d gate views", written)

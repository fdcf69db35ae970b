"""Purges of shared caches: when an article changes, the pages that show it are dropped.

Every page offered to shared caches (``paywall.headers.share_with_anonymous``) names
what it shows in ``Surrogate-Key``: ``all``, plus ``article-<id>`` on an article page
and ``lists`` on the front page. A write to the ``articles`` table notes the keys it
makes stale (the article's own page, under any slug it had, and every list); once the
transaction commits, never before, a ``purge_edge`` job sends each cache of
``PAYWALL_PURGE_URLS`` one ``BAN`` request naming them (``Paywall-Purge-Keys``), which
``deploy/varnish/default.vcl`` turns into a ban of the objects carrying any of them.
A statement that changes articles without naming them (a bulk UPDATE) purges ``all``.

A cache that cannot be told is logged and the job retried; ``s-maxage`` bounds how long
a page it kept can stay stale meanwhile (``docs/edge-cache.md``).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

log = logging.getLogger(__name__)
ALL, LISTS = "all", "lists"
TABLE = "articles"
PENDING = "paywall.stale_edge_keys"
KEYS_HEADER = "Paywall-Purge-Keys"
TIMEOUT_SECONDS = 2


class PurgeFailed(RuntimeError):
    """A cache did not take a purge (the job is retried)."""


def article_key(article_id: int) -> str:
    """The key of an article's own page."""
    return f"article-{article_id}"


def purge(keys: Iterable[str]) -> None:
    """Tell every configured cache to drop the pages carrying any of ``keys``.

    Every cache is tried; raises :class:`PurgeFailed` naming those that did not answer
    2xx, after logging each.
    """
    names = " ".join(sorted(set(keys)))
    failed = []
    for url in current_app.config["PURGE_URLS"]:
        try:
            status = _ban(url, names)
        except OSError as error:
            log.warning("cache at %s did not take the purge of %s: %s", url, names, error)
            failed.append(url)
            continue
        if not 200 <= status < 300:
            log.warning("cache at %s answered %s to the purge of %s", url, status, names)
            failed.append(url)
    if failed:
        raise PurgeFailed(f"not purged at {', '.join(failed)}: {names}")


def _ban(url: str, keys: str) -> int:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("BAN", parts.path or "/", headers={KEYS_HEADER: keys})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def purge_edge(keys: list[str]) -> None:
    """The ``purge_edge`` job."""
    purge(keys)


def _note(session: Session, keys: Iterable[str]) -> None:
    session.info.setdefault(PENDING, set()).update(keys)


@event.listens_for(Session, "after_flush")
def _note_flushed_articles(session: Session, flush_context: UOWTransaction) -> None:
    # After the flush new rows have their ids; the new/dirty/deleted sets still hold
    # what was flushed.
    changed = [
        row
        for row in (*session.new, *session.dirty, *session.deleted)
        if getattr(row, "__tablename__", None) == TABLE
        and (row not in session.dirty or session.is_modified(row))
    ]
    if changed:
        _note(session, [LISTS, *(article_key(row.id) for row in changed)])


@event.listens_for(Session, "do_orm_execute")
def _note_article_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == TABLE:
            _note(state.session, [ALL])


@event.listens_for(Session, "after_commit")
def _purge_committed(session: Session) -> None:
    keys = session.info.pop(PENDING, None)
    if not keys or not has_app_context() or not current_app.config.get("PURGE_URLS"):
        return
    from paywall.jobs import JobNotQueued, enqueue

    try:
        enqueue("purge_edge", sorted(keys))
    except JobNotQueued:
        log.exception("the purge of %s was not queued: caches keep those pages", keys)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(PENDING, None)

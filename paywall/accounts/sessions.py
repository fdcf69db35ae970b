"""What a signed-in session carries on every page: who the reader is, and a CSRF token.

Both sit on the measured reading path, so each worker keeps them briefly in memory.

The reader behind a session identity (``"id:stamp"``) is kept for
``SESSION_CACHE_SECONDS``. A change to a reader made in this process (a password
change, a reset, a role or comp change) clears that reader at once; other processes
notice within those seconds. So after a password change, other sessions served by
another worker can still *read* pages for that long — but never change anything:
requests other than GET and HEAD always check the security stamp in the database.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, event, select

from paywall.accounts.models import Reader, SessionReader
from paywall.extensions import LocalCache, db, local_cache

READERS_CACHE = "paywall.session_readers"
CSRF_CACHE = "paywall.csrf_tokens"
MAX_ENTRIES = 10_000

_SESSION_READER = select(*SessionReader.COLUMNS).where(Reader.id == bindparam("id"))


def _reader_cache() -> LocalCache[int, SessionReader] | None:
    seconds = current_app.config["SESSION_CACHE_SECONDS"]
    return local_cache(READERS_CACHE, seconds, MAX_ENTRIES) if seconds > 0 else None


def load_session_reader(session_id: str, *, cached: bool = False) -> SessionReader | None:
    """The reader of a session identity ``"id:stamp"``; None if the stamp is stale.

    With ``cached``, a reader read from the database in the last few seconds will do.
    """
    reader_id, _, stamp = session_id.partition(":")
    try:
        wanted_id, wanted_stamp = int(reader_id), int(stamp)
    except ValueError:
        return None
    cache = _reader_cache()
    if cached and cache is not None:
        reader = cache.get(wanted_id)
        if reader is not None and reader.security_stamp == wanted_stamp:
            return reader
    # Core-level execute: a plain column read needs none of the ORM's identity machinery.
    row = db.session.connection().execute(_SESSION_READER, {"id": wanted_id}).first()
    if row is None:
        return None
    reader = SessionReader(*row)
    if cache is not None:
        cache.put(wanted_id, reader)
    return reader if reader.security_stamp == wanted_stamp else None


def forget_reader(reader_id: int) -> None:
    """Drop this process's cached copy of a reader (called when the row changes)."""
    if has_app_context():
        cache = _reader_cache()
        if cache is not None:
            cache.forget(reader_id)


@event.listens_for(Reader, "after_update")
@event.listens_for(Reader, "after_delete")
def _reader_changed(mapper: Any, connection: Any, target: Reader) -> None:
    forget_reader(target.id)


def session_csrf_token() -> str:
    """This session's signed CSRF token, signed once per worker instead of on every page.

    Flask-WTF signs the session's secret token afresh (with a timestamp) each time a
    page shows a form — and the masthead's sign-out form is on every page. With no
    ``WTF_CSRF_TIME_LIMIT`` the timestamp is never checked, so a token signed earlier for
    the same secret is just as valid; with a limit, every page signs anew.
    """
    config = current_app.config
    secret = session.get(config["WTF_CSRF_FIELD_NAME"])
    if config["WTF_CSRF_TIME_LIMIT"] or not isinstance(secret, str):
        return generate_csrf()
    tokens: LocalCache[str, str] = local_cache(CSRF_CACHE, 3600, MAX_ENTRIES)
    return tokens.fetch(secret, generate_csrf)

"""Browser sessions that can be ended: one :class:`LoginSession` row per signed-in browser.

Flask-Login keeps a random token as the session's identity, in the session cookie and,
with "keep me signed in", in its remember-me cookie; only the row stored under the
token's digest makes either cookie worth anything. Every request reads the reader
together with that row in one query, so ending a session (sign-out, "sign out
everywhere", a password change or reset, signing out one device from the account
page) holds on every process and host from its very next request, and so does any
change to the reader (role, comp): nothing about a reader is kept between requests.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.exc import SQLAlchemyError

from billing import Gift, snapshots_from_row, utcnow, with_billing_snapshot
from paywall.accounts.devices import describe_device
from paywall.accounts.models import LoginSession, Reader, SessionReader
from paywall.caching import cache
from paywall.database import reads
from paywall.extensions import db
from paywall.invalidation import READERS
from paywall.kept_billing import keep_billing_snapshots, keep_no_gifts

log = logging.getLogger(__name__)
SESSION_READERS, SESSION_READER_ENTRIES = "paywall.session_readers", 10_000
TOKEN_BYTES = 32
LONGEST_TOKEN = 100  # anything longer is not one of ours: no database work for it
TOUCH_EVERY = timedelta(minutes=5)  # "last seen" is this precise, at one write per interval

# The reader's billing snapshot comes along (every page's notices read it, paid articles
# decide by it): one round trip for both.
_READER_BY_SESSION = with_billing_snapshot(
    select(
        *SessionReader.COLUMNS,
        LoginSession.id,
        LoginSession.expires_at,
        LoginSession.last_seen_at,
    )
    .join(LoginSession, LoginSession.reader_id == Reader.id)
    .where(LoginSession.token_digest == bindparam("digest")),
    Reader.id,
).add_columns(
    # Whether a gift has not ended: most readers have none, and then the reading path
    # needs no query of gifts (one round trip for the reader, billing and gifts alike).
    exists().where(Gift.redeemed_by == Reader.id, Gift.access_until > bindparam("now"))
)
_SESSION_WIDTH = len(SessionReader.COLUMNS) + 3


@dataclass(frozen=True)
class OpenedSession:
    """A new session: its row and the token its cookies carry (never stored)."""

    id: int
    token: str


def token_digest(token: str) -> str:
    """What is stored of a session token: a database copy cannot sign anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime(remember: bool) -> timedelta:
    """How long a session lasts: the remember-me cookie's life, else the session cookie's."""
    config = current_app.config
    if remember:
        duration = config["REMEMBER_COOKIE_DURATION"]
        return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
    return current_app.permanent_session_lifetime


def open_session(reader_id: int, *, remember: bool = False, device: str = "") -> OpenedSession:
    """Start a session for ``reader_id`` (and drop the reader's expired ones)."""
    now = utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.reader_id == reader_id, LoginSession.expires_at <= now
        )
    )
    row = LoginSession(
        reader_id=reader_id,
        token_digest=token_digest(token),
        device=device,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + session_lifetime(remember),
    )
    db.session.add(row)
    db.session.commit()
    return OpenedSession(row.id, token)


def load_session_reader(token: str) -> SessionReader | None:
    """The reader of a live session token, or None (unknown, ended or expired).

    Kept in each worker while the ``readers`` generation stands (any change to a reader
    or a session, committed on any host, moves it: see ``paywall.invalidation``).
    """
    if not token or len(token) > LONGEST_TOKEN:
        return None
    digest = token_digest(token)
    readers = cache(SESSION_READERS, (READERS,), SESSION_READER_ENTRIES)
    found = readers.fetch(digest, lambda: _read_session(digest))
    if found is None:
        return None
    columns, session_id, expires_at, last_seen_at = found
    now = utcnow()
    if expires_at <= now:
        return None
    if now - _last_touched.get(session_id, last_seen_at) >= TOUCH_EVERY:
        _touch(session_id, now)
    return SessionReader(*columns, session_id=session_id, session_token=token)


def _read_session(digest: str) -> tuple[tuple, int, datetime, datetime] | None:
    # Core-level execute: a plain column read needs none of the ORM's identity machinery.
    row = reads().execute(_READER_BY_SESSION, {"digest": digest, "now": utcnow()}).first()
    if row is None:
        return None
    *columns, session_id, expires_at, last_seen_at = row[:_SESSION_WIDTH]
    *billing_columns, has_gift = row[_SESSION_WIDTH:]
    keep_billing_snapshots(columns[0], snapshots_from_row(billing_columns))
    if not has_gift:
        keep_no_gifts(columns[0])
    return tuple(columns), session_id, expires_at, last_seen_at


_last_touched: dict[int, datetime] = {}  # per worker: when it last noted a session's use


def _touch(session_id: int, now: datetime) -> None:
    """Note that a session was used; best effort, on a connection of its own, so the
    request's own transaction is never committed by it."""
    if len(_last_touched) >= SESSION_READER_ENTRIES:
        _last_touched.clear()
    _last_touched[session_id] = now
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now)
            )
    except SQLAlchemyError:
        log.warning("could not note the use of session %s", session_id, exc_info=True)


def end_session(reader_id: int, session_id: int) -> bool:
    """End one of ``reader_id``'s sessions; False if it was not theirs or already over."""
    ended = db.session.execute(
        delete(LoginSession).where(
            LoginSession.id == session_id, LoginSession.reader_id == reader_id
        )
    )
    db.session.commit()
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def end_sessions(reader_id: int, *, keep: int | None = None) -> None:
    """End every session of ``reader_id`` but ``keep``, in the caller's transaction."""
    ending = delete(LoginSession).where(LoginSession.reader_id == reader_id)
    if keep is not None:
        ending = ending.where(LoginSession.id != keep)
    db.session.execute(ending)


def live_sessions(reader_id: int) -> list[LoginSession]:
    """The reader's sessions that still work, most recently used first."""
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.reader_id == reader_id, LoginSession.expires_at > utcnow())
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


# --- this request's browser ---------------------------------------------------------------


def load_user(token: str) -> SessionReader | None:
    """Flask-Login's user loader: the session token from either cookie, to its reader."""
    return load_session_reader(token)


def sign_in(reader: Reader, *, remember: bool = False) -> None:
    """Sign ``reader`` in on this browser with a new session (ending the one it had).

    The form-signing secret starts afresh too: one planted in the browser before
    sign-in (a cookie set by a neighbouring site) is worth nothing after it.
    """
    if current_user.is_authenticated:
        end_session(current_user.id, current_user.session_id)
    _new_form_secret()
    opened = open_session(
        reader.id, remember=remember, device=describe_device(request.user_agent.string)
    )
    columns = (getattr(reader, column.key) for column in SessionReader.COLUMNS)
    login_user(
        SessionReader(*columns, session_id=opened.id, session_token=opened.token),
        remember=remember,
    )


def _new_form_secret() -> None:
    """Replace the session's CSRF secret now, so the response that signs in carries it
    and the pages after it need not rewrite the cookie."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    session.pop(field, None)
    g.pop(field, None)  # Flask-WTF's token for the old secret, signed for this request
    generate_csrf()


def sign_out() -> None:
    """End this browser's session, for every copy of its cookies, and clear them here."""
    if current_user.is_authenticated:
        end_session(current_user.id, current_user.session_id)
    logout_user()

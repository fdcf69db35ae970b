"""Reader tokens: how a publisher's page says which reader is asking, without cookies.

The popup on the paywall's origin issues one after the reader signs in; the host page
keeps it in its own storage and sends it as a Bearer token. A token is bound to one
site and to the reader's security stamp, expires ``EMBED_TOKEN_MINUTES`` after its last
use (the expiry is pushed forward at most once per half-lifetime, so a busy reader costs
no write per request) and never lives beyond ``EMBED_TOKEN_MAX_HOURS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from billing import utcnow
from paywall.accounts.models import Reader, SessionReader
from paywall.caching import FreshCache, cache
from paywall.database import reads
from paywall.embed.errors import ApiError, invalid_token
from paywall.embed.keys import (
    READER_TOKEN_PREFIX,
    SECRET_KEY_PREFIX,
    SITE_KEY_PREFIX,
    digest,
    new_key,
)
from paywall.embed.models import ReaderToken
from paywall.extensions import db
from paywall.invalidation import READER_TOKENS, READERS

TOKEN_CACHE = "paywall.embed_reader_tokens"  # noqa: S105  (a cache name)

_TOKEN_WITH_READER = (
    select(
        ReaderToken.id,
        ReaderToken.site_id,
        ReaderToken.security_stamp,
        ReaderToken.created_at,
        ReaderToken.expires_at,
        ReaderToken.revoked_at,
        *SessionReader.COLUMNS,
    )
    .join(Reader, Reader.id == ReaderToken.reader_id)
    .where(ReaderToken.digest == bindparam("digest"))
)


@dataclass(frozen=True, slots=True)
class TokenReader:
    """A checked token: who it speaks for and until when."""

    token_id: int
    site_id: int
    reader: SessionReader
    expires_at: datetime


def _lifetimes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["EMBED_TOKEN_MINUTES"]),
        timedelta(hours=config["EMBED_TOKEN_MAX_HOURS"]),
    )


def issue_token(site_id: int, reader_id: int, security_stamp: int) -> tuple[str, datetime]:
    """A new token for the reader on the site; returns it (shown once) and its expiry."""
    idle, _ = _lifetimes()
    token = new_key(READER_TOKEN_PREFIX)
    now = utcnow()
    expires_at = now + idle
    # The reader's spent tokens go as a new one comes, so the table stays small.
    db.session.execute(
        delete(ReaderToken).where(
            ReaderToken.reader_id == reader_id,
            (ReaderToken.expires_at <= now) | ReaderToken.revoked_at.is_not(None),
        )
    )
    db.session.add(
        ReaderToken(
            digest=digest(token),
            site_id=site_id,
            reader_id=reader_id,
            security_stamp=security_stamp,
            expires_at=expires_at,
        )
    )
    db.session.commit()
    return token, expires_at


def not_a_reader_token(token: str) -> ApiError:
    """``invalid_token``, saying which key was sent instead of a reader token, if any."""
    if token.startswith(SECRET_KEY_PREFIX):
        return ApiError(
            401,
            "invalid_token",
            "This is the site's secret API key (pw_sk_...), not a reader token (pw_rt_...). "
            "Send it only from the site's servers, as the Bearer token of /api/v1/articles, "
            "/api/v1/decisions and /api/v1/entitlements; never put it in a page. If it was "
            "in a page, make a new one (paywall rotate-key).",
        )
    if token.startswith(SITE_KEY_PREFIX):
        return ApiError(
            401,
            "invalid_token",
            "This is the site key (pw_pk_...), not a reader token (pw_rt_...): the site key "
            "goes in the script tag and the path; a reader token comes from the sign-in popup.",
        )
    return invalid_token()


def reader_for_token(token: str, site_id: int) -> TokenReader:
    """The reader a live token of this site speaks for; else ``invalid_token``.

    A checked token is kept per worker until any reader or token changes
    (:mod:`paywall.invalidation`), or until the expiry it was checked with passes.
    Sliding expiry: a token used in the second half of its lifetime gets a new one.
    """
    if not token.startswith(READER_TOKEN_PREFIX) or len(token) > 100:
        raise not_a_reader_token(token)
    key = digest(token)
    now = utcnow()
    tokens: FreshCache[str, TokenReader] = cache(TOKEN_CACHE, (READERS, READER_TOKENS), 10_000)
    checked = tokens.fetch(key, lambda: _check(key, site_id, now))
    if checked is not None and checked.expires_at <= now:
        checked = _check(key, site_id, now)  # slid forward by another worker, perhaps
    if checked is None or checked.site_id != site_id:
        raise invalid_token()
    return checked


def _check(key: str, site_id: int, now: datetime) -> TokenReader | None:
    row = reads().execute(_TOKEN_WITH_READER, {"digest": key}).first()
    if row is None:
        return None
    token_id, token_site, stamp, created_at, expires_at, revoked_at, *reader_columns = row
    reader = SessionReader(*reader_columns)
    if (
        revoked_at is not None
        or token_site != site_id
        or stamp != reader.security_stamp
        or expires_at <= now
    ):
        return None
    idle, longest = _lifetimes()
    if expires_at - now < idle / 2:
        expires_at = min(now + idle, created_at + longest)
        db.session.execute(
            update(ReaderToken).where(ReaderToken.id == token_id).values(expires_at=expires_at)
        )
        db.session.commit()
    return TokenReader(token_id, token_site, reader, expires_at)


def revoke_token(token: str, site_id: int) -> bool:
    """End a token of this site (sign-out); True if it was live."""
    key = digest(token)
    result = db.session.execute(
        update(ReaderToken)
        .where(
            ReaderToken.digest == key,
            ReaderToken.site_id == site_id,
            ReaderToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]

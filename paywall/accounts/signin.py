"""Signing in: by password, or by an emailed link or code; and signing out everywhere.
Each function owns its transaction; views only call them."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import and_, update

from billing import utcnow
from paywall.accounts import codes
from paywall.accounts.emailed_links import email_link, spend_link
from paywall.accounts.lookup import find_by_email, normalise_email
from paywall.accounts.models import Reader
from paywall.accounts.passwords import hash_password, needs_rehash, verify_password
from paywall.accounts.sessions import end_sessions
from paywall.accounts.tokens import Purpose, TokenError, read_token
from paywall.extensions import db


def authenticate(email: str, password: str) -> Reader | None:
    """The reader whose credentials these are, or None (the same for every failure)."""
    reader = find_by_email(email)
    if reader is None or not reader.password_hash:
        verify_password(_dummy_hash(), password)  # the same work every time: no timing hint
        return None
    if not verify_password(reader.password_hash, password) or reader.awaiting_confirmation:
        return None
    if needs_rehash(reader.password_hash):
        reader.password_hash = hash_password(password)  # saved by record_sign_in
    return reader


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def record_sign_in(reader: Reader) -> None:
    """Note the sign-in time (this also spends any emailed sign-in link)."""
    reader.last_signed_in_at = utcnow()
    db.session.commit()


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def send_sign_in_link(email: str, next_url: str | None, *, replacing: str | None = None) -> str:
    """Email a one-time sign-in link and code, if an account exists (the caller says the
    same either way); returns the token the asking browser keeps to type the code in.

    ``replacing`` is that browser's earlier token, if any: its code stops working.
    """
    reader = find_by_email(email)
    last = reader.last_signed_in_at if reader else None
    issued = codes.issue_code(normalise_email(email), reader, replacing=replacing)
    if reader is not None:
        email_link(
            reader, Purpose.SIGN_IN, {"last": _stamp(last)}, next=next_url,
            email_context={"code": issued.code},
        )  # fmt: skip
    return issued.request


def reader_for_sign_in_link(token: str) -> Reader:
    """The reader a sign-in link is for, if it is still unused."""
    payload = read_token(Purpose.SIGN_IN, token)
    reader = db.session.get(Reader, payload.get("id"))
    if reader is None or payload.get("last") != _stamp(reader.last_signed_in_at):
        raise TokenError(expired=False)
    return reader


def use_sign_in_link(token: str) -> Reader:
    """Spend a sign-in link: it proves the mailbox, so the email counts as verified.

    Spent in one conditional UPDATE (the sign-in time it was issued for must still be
    the stored one), so of several uses at the same moment exactly one signs in.
    """
    reader = reader_for_sign_in_link(token)
    _spend_sign_in(reader, reader.last_signed_in_at)
    return reader


def use_sign_in_code(request: str | None, typed: str) -> Reader:
    """Sign in with the code from a sign-in email, in the browser that asked for it
    (``request``, the token its session kept); else :class:`codes.CodeRefused`.

    Like the link, it proves the mailbox, and it is spent as the link is: of the code
    and the link (or the code sent twice) used at the same moment, exactly one signs in,
    and using either ends the other.
    """
    right = codes.check_code(request, typed)
    reader = db.session.get(Reader, right.reader_id)
    if reader is None or not codes.discard(right):
        db.session.rollback()
        raise codes.CodeRefused(codes.GONE)
    try:
        _spend_sign_in(reader, right.issued_for)
    except TokenError:
        raise codes.CodeRefused(codes.GONE) from None
    return reader


def _spend_sign_in(reader: Reader, issued_for: datetime | None) -> None:
    """Sign ``reader`` in by emailed link or code, issued when their last sign-in was
    ``issued_for``: once, and only if nobody has signed in since."""
    now = utcnow()
    changes: dict[str, object] = {"last_signed_in_at": now}
    if reader.email_verified_at is None:
        changes["email_verified_at"] = now
    unused = Reader.last_signed_in_at.is_not_distinct_from(issued_for)
    # A link or code sent before the account was deleted signs nobody in.
    spend_link(reader, and_(unused, Reader.deleted_at.is_(None)), changes)


def sign_out_everywhere(reader_id: int) -> None:
    """End every session of the reader, and spend the emailed links and embed reader
    tokens issued to them so far (the security stamp moves on)."""
    db.session.execute(
        update(Reader)
        .where(Reader.id == reader_id)
        .values(security_stamp=Reader.security_stamp + 1)
        .execution_options(synchronize_session=False)
    )
    end_sessions(reader_id)
    db.session.commit()

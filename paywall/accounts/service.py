"""Account use cases. Each function owns its transaction; views only call them."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import IntegrityError

from billing import utcnow
from paywall.accounts import codes
from paywall.accounts.models import Reader, Role, SessionReader
from paywall.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_weakness,
    verify_password,
)
from paywall.accounts.sessions import end_sessions
from paywall.accounts.tokens import Purpose, TokenError, make_token, read_token
from paywall.audit.log import record
from paywall.extensions import db
from paywall.mailer import MailNotSent, absolute_url, send_email
from paywall.validation import FieldError

log = logging.getLogger(__name__)
# Purpose -> (subject, email template, endpoint the link opens)
LINK_EMAILS = {
    Purpose.SIGN_UP: ("Confirm your email to finish signing up", "confirm_sign_up",
                      "accounts.confirm_sign_up"),
    Purpose.VERIFY_EMAIL: ("Confirm your email address", "verify_email", "accounts.verify_email"),
    Purpose.SIGN_IN: ("Your sign-in link and code", "signin_link", "accounts.sign_in_with_link"),
    Purpose.RESET_PASSWORD: ("Reset your password", "reset_password", "accounts.reset_password"),
}  # fmt: skip


class AccountError(FieldError):
    """An account request that cannot be carried out."""


def normalise_email(address: str) -> str:
    """One spelling per mailbox: trimmed and lower-cased (local part too, as most
    providers treat it case-insensitively and readers type it inconsistently)."""
    return address.strip().lower()


def is_valid_email(address: str) -> bool:
    """True when ``address`` is shaped like an email address (no DNS lookup)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def find_by_email(address: str) -> Reader | None:
    """The account for ``address`` in any spelling, or None."""
    return db.session.scalar(
        select(Reader).where(Reader.email == normalise_email(address), Reader.deleted_at.is_(None))
    )


# --- sign-up ----------------------------------------------------------------------------


def sign_up(email: str, password: str, name: str = "", next_url: str | None = None) -> None:
    """Start an account for ``email``; the caller answers the same whether or not it has one.

    A new address gets an account awaiting confirmation and an email whose link confirms
    the address and signs in, once (then on to ``next_url``). An address that has an
    account gets an email saying someone tried, with links to sign in or to choose a new
    password. Both ways check and hash the password and send one email, so neither the
    answer nor its time tells them apart; a mail outage is logged, never shown.
    """
    email, name = normalise_email(email), name.strip()
    _check_new_password(password, email, name)
    password_hash = hash_password(password)  # both ways: the same work
    reader = find_by_email(email)
    if reader is None:
        reader = _create_awaiting_confirmation(email, name, password_hash)
        if reader is not None:
            _email_link(reader, Purpose.SIGN_UP, {"email": email}, next=next_url)
            return
        reader = find_by_email(email)  # the same address signed up a moment ago
    if reader is not None:
        _email_account_exists(reader, next_url)


def _create_awaiting_confirmation(email: str, name: str, password_hash: str) -> Reader | None:
    """A new account for ``email``, or None if another request has just made one."""
    reader = Reader(email=email, name=name, password_hash=password_hash, security_stamp=0)
    db.session.add(reader)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return reader


def _email_account_exists(reader: Reader, next_url: str | None) -> bool:
    """Tell the owner of an address that someone tried to sign up with it: sign in, or
    choose a new password (with a reset link, as "forgot your password" would send)."""
    reset = make_token(Purpose.RESET_PASSWORD, {"id": reader.id, "stamp": reader.security_stamp})
    return _send(
        reader,
        "Someone tried to sign up with your email address",
        "account_exists",
        sign_in_url=absolute_url("accounts.sign_in", next=next_url),
        link=absolute_url("accounts.reset_password", token=reset),
    )


def reader_for_sign_up_link(token: str) -> Reader:
    """The new account a sign-up link confirms, while it still awaits confirmation."""
    payload = read_token(Purpose.SIGN_UP, token)
    reader = db.session.get(Reader, payload.get("id"))
    if reader is None or reader.email != payload.get("email") or not reader.awaiting_confirmation:
        raise TokenError(expired=False)
    return reader


def use_sign_up_link(token: str) -> Reader:
    """Spend a sign-up link: the address is confirmed and the reader signed in.

    Spent in one conditional UPDATE (the account must still await confirmation), so of
    several uses at the same moment exactly one signs in.
    """
    reader = reader_for_sign_up_link(token)
    now = utcnow()
    _spend_link(
        reader,
        Reader.awaiting_confirmation,
        {"email_verified_at": now, "last_signed_in_at": now},
    )
    return reader


def start_account_at_checkout(email: str, name: str = "") -> Reader | None:
    """A new account for a reader subscribing before they have one (the caller signs it
    in on this browser); None when ``email`` already has an account, whose owner must
    sign in first.

    The account has no password. The email sent asks to confirm the address and offers
    to choose a password; until then the reader signs in with emailed links. A mail
    outage is logged, never shown: the purchase goes on.
    """
    email, name = normalise_email(email), name.strip()
    if find_by_email(email) is not None:
        return None
    reader = Reader(email=email, name=name, security_stamp=0, last_signed_in_at=utcnow())
    db.session.add(reader)
    try:
        db.session.commit()
    except IntegrityError:  # the same address was taken a moment ago
        db.session.rollback()
        return None
    confirm = make_token(Purpose.VERIFY_EMAIL, {"id": reader.id, "email": email})
    password = make_token(Purpose.RESET_PASSWORD, {"id": reader.id, "stamp": reader.security_stamp})
    _send(
        reader,
        "Confirm your email address",
        "confirm_checkout",
        link=absolute_url("accounts.verify_email", token=confirm),
        password_link=absolute_url("accounts.reset_password", token=password),
        sign_in_link_url=absolute_url("accounts.request_sign_in_link"),
    )
    return reader


# --- sign-in ------------------------------------------------------------------------------


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


# --- email verification -----------------------------------------------------------------


def send_verification_email(reader: Reader | SessionReader) -> bool:
    """Email the link that confirms ``reader``'s address; False if the mail server failed."""
    return _email_link(reader, Purpose.VERIFY_EMAIL, {"email": reader.email})


def verify_email(token: str) -> Reader:
    """Mark the address in ``token`` as verified (a second use is harmless)."""
    payload = read_token(Purpose.VERIFY_EMAIL, token)
    reader = db.session.get(Reader, payload.get("id"))
    if reader is None or reader.email != payload.get("email"):
        raise TokenError(expired=False)
    if reader.email_verified_at is None:
        reader.email_verified_at = utcnow()
        db.session.commit()
    return reader


# --- emailed sign-in link -----------------------------------------------------------------


def _email_link(
    reader: Reader | SessionReader,
    purpose: Purpose,
    payload: dict[str, object],
    *,
    email_context: dict[str, object] | None = None,
    **url_args: object,
) -> bool:
    """Email ``reader`` a signed link for ``purpose``; False (logged) if sending failed.

    Callers that must not reveal whether an account exists answer the same either way.
    """
    subject, template, endpoint = LINK_EMAILS[purpose]
    token = make_token(purpose, {"id": reader.id, **payload})
    link = absolute_url(endpoint, token=token, **url_args)
    return _send(reader, subject, template, link=link, **(email_context or {}))


def _send(
    reader: Reader | SessionReader,
    subject: str,
    template: str,
    *,
    to: str | None = None,
    **context: object,
) -> bool:
    """Email ``reader`` (at ``to``, when given); False, with the error logged, when the
    mail server or outbox failed."""
    try:
        send_email(to or reader.email, subject, template, reader=reader, **context)
    except MailNotSent:
        log.exception("could not send the email %r to reader %s", subject, reader.id)
        return False
    return True


def send_sign_in_link(email: str, next_url: str | None, *, replacing: str | None = None) -> str:
    """Email a one-time sign-in link and code, if an account exists (the caller says the
    same either way); returns the token the asking browser keeps to type the code in.

    ``replacing`` is that browser's earlier token, if any: its code stops working.
    """
    reader = find_by_email(email)
    last = reader.last_signed_in_at if reader else None
    issued = codes.issue_code(normalise_email(email), reader, replacing=replacing)
    if reader is not None:
        _email_link(
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
    _spend_link(reader, and_(unused, Reader.deleted_at.is_(None)), changes)


def _spend_link(
    reader: Reader,
    still_unused: ColumnElement[bool],
    changes: dict,
    *,
    sign_out_everywhere: bool = False,
    keep_session: int | None = None,
) -> None:
    """Apply ``changes`` to ``reader`` only while the link is unused; else TokenError.

    The check and the change are one UPDATE, so the database lets one request through;
    with ``sign_out_everywhere`` the reader's sessions (but ``keep_session``) end in the
    same transaction.
    """
    spent = db.session.execute(
        update(Reader)
        .where(Reader.id == reader.id, still_unused)
        .values(changes)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise TokenError(expired=False)
    if sign_out_everywhere:
        end_sessions(reader.id, keep=keep_session)
    db.session.commit()  # expires ``reader``: its next use reads the new row


# --- password reset -------------------------------------------------------------------------


def send_password_reset(email: str) -> None:
    """Email a reset link, if an account exists (the caller says the same either way)."""
    reader = find_by_email(email)
    if reader is not None:
        _email_link(reader, Purpose.RESET_PASSWORD, {"stamp": reader.security_stamp})


def reader_for_reset(token: str) -> Reader:
    """The reader a reset link is for, if no password change has happened since."""
    payload = read_token(Purpose.RESET_PASSWORD, token)
    reader = db.session.get(Reader, payload.get("id"))
    if reader is None or payload.get("stamp") != reader.security_stamp:
        raise TokenError(expired=False)
    return reader


def reset_password(token: str, new_password: str) -> Reader:
    """Set a new password from a reset link; every session of the reader ends.

    The link is spent with the security stamp it was issued for, in one conditional
    UPDATE: of several uses at the same moment exactly one changes the password.
    """
    reader = reader_for_reset(token)
    _check_new_password(new_password, reader.email, reader.name)
    changes: dict[str, object] = {
        "password_hash": hash_password(new_password),
        "security_stamp": Reader.security_stamp + 1,
    }
    if reader.email_verified_at is None:
        changes["email_verified_at"] = utcnow()
    still_unused = Reader.security_stamp == reader.security_stamp
    _spend_link(reader, still_unused, changes, sign_out_everywhere=True)
    return reader


def change_password(
    reader_id: int, current: str, new_password: str, *, keep_session: int | None = None
) -> Reader:
    """Change the password of a signed-in reader who knows the current one; every session
    but ``keep_session`` (the browser they changed it in) ends."""
    reader = db.session.get_one(Reader, reader_id)
    if not verify_password(reader.password_hash, current):
        raise AccountError("current_password", "That isn't your current password.")
    _set_password(reader, new_password, keep_session=keep_session)
    db.session.commit()
    return reader


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


def _check_new_password(new_password: str, email: str, name: str) -> None:
    """Refuse a password that is short or easy to guess (see ``password_weakness``)."""
    weakness = password_weakness(new_password, (email, name, current_app.config["SITE_NAME"]))
    if weakness:
        raise AccountError("password", weakness)


def _set_password(reader: Reader, new_password: str, *, keep_session: int | None = None) -> None:
    _check_new_password(new_password, reader.email, reader.name)
    reader.password_hash = hash_password(new_password)
    reader.security_stamp += 1  # spends reset links and embed reader tokens
    if reader.id is not None:
        end_sessions(reader.id, keep=keep_session)


# --- staff ------------------------------------------------------------------------------------


def create_or_promote_staff(email: str, password: str | None, role: Role) -> tuple[Reader, bool]:
    """Make ``email`` an editor or admin, creating the account if needed."""
    if not is_valid_email(email):
        raise AccountError("email", f"{email!r} is not a valid email address.")
    reader = find_by_email(email)
    created = reader is None
    if password:  # before anything is added to the session
        _check_new_password(password, normalise_email(email), reader.name if reader else "")
    if reader is None:
        if not password:
            raise AccountError("password", "A new account needs a password.")
        reader = Reader(email=normalise_email(email), email_verified_at=utcnow(), security_stamp=0)
        db.session.add(reader)
    if password:
        _set_password(reader, password)
    if reader.role != role:
        before = {"role": None if created else reader.role}
        reader.role = role
        record("role.change", f"reader {reader.email}", before, {"role": role.value})
    db.session.commit()
    return reader, created


def change_role(reader: Reader, role: Role, *, by: int | None) -> bool:
    """Make ``reader`` a reader, editor or admin (by the admin ``by``); False if it was so.

    Nobody changes their own role, so the last admin cannot leave the site without one.
    """
    if by is not None and by == reader.id:
        raise AccountError("role", "You cannot change your own role: ask another admin.")
    if reader.role == role:
        return False
    before = {"role": reader.role}
    reader.role = role
    record("role.change", f"reader {reader.email}", before, {"role": role.value})
    db.session.commit()
    return True

"""Signing up: a new account awaiting confirmation (or one made at checkout), and
confirming an email address. Each function owns its transaction; views only call them."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from billing import utcnow
from paywall.accounts.emailed_links import email_link, email_reader, spend_link
from paywall.accounts.lookup import find_by_email, normalise_email
from paywall.accounts.models import Reader, SessionReader
from paywall.accounts.password_changes import check_new_password
from paywall.accounts.passwords import hash_password
from paywall.accounts.tokens import Purpose, TokenError, make_token, read_token
from paywall.extensions import db
from paywall.mailer import absolute_url


def sign_up(email: str, password: str, name: str = "", next_url: str | None = None) -> None:
    """Start an account for ``email``; the caller answers the same whether or not it has one.

    A new address gets an account awaiting confirmation and an email whose link confirms
    the address and signs in, once (then on to ``next_url``). An address that has an
    account gets an email saying someone tried, with links to sign in or to choose a new
    password. Both ways check and hash the password and send one email, so neither the
    answer nor its time tells them apart; a mail outage is logged, never shown.
    """
    email, name = normalise_email(email), name.strip()
    check_new_password(password, email, name)
    password_hash = hash_password(password)  # both ways: the same work
    reader = find_by_email(email)
    if reader is None:
        reader = _create_awaiting_confirmation(email, name, password_hash)
        if reader is not None:
            email_link(reader, Purpose.SIGN_UP, {"email": email}, next=next_url)
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
    return email_reader(
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
    spend_link(
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
    email_reader(
        reader,
        "Confirm your email address",
        "confirm_checkout",
        link=absolute_url("accounts.verify_email", token=confirm),
        password_link=absolute_url("accounts.reset_password", token=password),
        sign_in_link_url=absolute_url("accounts.request_sign_in_link"),
    )
    return reader


def send_verification_email(reader: Reader | SessionReader) -> bool:
    """Email the link that confirms ``reader``'s address; False if the mail server failed."""
    return email_link(reader, Purpose.VERIFY_EMAIL, {"email": reader.email})


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

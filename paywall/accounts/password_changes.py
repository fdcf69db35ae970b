"""New passwords: checked against the rules, set from an emailed reset link or changed by
a signed-in reader. Each function owns its transaction; views only call them."""

from __future__ import annotations

from flask import current_app

from billing import utcnow
from paywall.accounts.emailed_links import email_link, spend_link
from paywall.accounts.lookup import AccountError, find_by_email
from paywall.accounts.models import Reader
from paywall.accounts.passwords import hash_password, password_weakness, verify_password
from paywall.accounts.sessions import end_sessions
from paywall.accounts.tokens import Purpose, TokenError, read_token
from paywall.extensions import db


def send_password_reset(email: str) -> None:
    """Email a reset link, if an account exists (the caller says the same either way)."""
    reader = find_by_email(email)
    if reader is not None:
        email_link(reader, Purpose.RESET_PASSWORD, {"stamp": reader.security_stamp})


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
    check_new_password(new_password, reader.email, reader.name)
    changes: dict[str, object] = {
        "password_hash": hash_password(new_password),
        "security_stamp": Reader.security_stamp + 1,
    }
    if reader.email_verified_at is None:
        changes["email_verified_at"] = utcnow()
    still_unused = Reader.security_stamp == reader.security_stamp
    spend_link(reader, still_unused, changes, sign_out_everywhere=True)
    return reader


def change_password(
    reader_id: int, current: str, new_password: str, *, keep_session: int | None = None
) -> Reader:
    """Change the password of a signed-in reader who knows the current one; every session
    but ``keep_session`` (the browser they changed it in) ends."""
    reader = db.session.get_one(Reader, reader_id)
    if not verify_password(reader.password_hash, current):
        raise AccountError("current_password", "That isn't your current password.")
    set_password(reader, new_password, keep_session=keep_session)
    db.session.commit()
    return reader


def check_new_password(new_password: str, email: str, name: str) -> None:
    """Refuse a password that is short or easy to guess (see ``password_weakness``)."""
    weakness = password_weakness(new_password, (email, name, current_app.config["SITE_NAME"]))
    if weakness:
        raise AccountError("password", weakness)


def set_password(reader: Reader, new_password: str, *, keep_session: int | None = None) -> None:
    """Give ``reader`` a new password (once checked); their sessions but ``keep_session``
    end, and their emailed links and embed reader tokens are spent."""
    check_new_password(new_password, reader.email, reader.name)
    reader.password_hash = hash_password(new_password)
    reader.security_stamp += 1  # spends reset links and embed reader tokens
    if reader.id is not None:
        end_sessions(reader.id, keep=keep_session)

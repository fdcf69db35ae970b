"""The emails account use cases send, and the signed links in them: a mail outage is
logged, never shown; a link is spent once, in one conditional UPDATE."""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, update

from paywall.accounts.models import Reader, SessionReader
from paywall.accounts.sessions import end_sessions
from paywall.accounts.tokens import Purpose, TokenError, make_token
from paywall.extensions import db
from paywall.mailer import MailNotSent, absolute_url, send_email

log = logging.getLogger(__name__)
# Purpose -> (subject, email template, endpoint the link opens)
LINK_EMAILS = {
    Purpose.SIGN_UP: ("Confirm your email to finish signing up", "confirm_sign_up",
                      "accounts.confirm_sign_up"),
    Purpose.VERIFY_EMAIL: ("Confirm your email address", "verify_email", "accounts.verify_email"),
    Purpose.SIGN_IN: ("Your sign-in link and code", "signin_link", "accounts.sign_in_with_link"),
    Purpose.RESET_PASSWORD: ("Reset your password", "reset_password", "accounts.reset_password"),
}  # fmt: skip


def email_link(
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
    return email_reader(reader, subject, template, link=link, **(email_context or {}))


def email_reader(
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


def spend_link(
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

"""A reader's rights over their data: change the email, download a copy, delete the account.

Each use case owns its transaction, as in the other account use cases. Billing's part
(Stripe's copy of the email, subscriptions, cards, invoices) goes through ``billing``'s
public functions; the invoices outlive the account, detached from the person, because
accounting law asks for them.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from billing import billing_records, forget_customer, forget_gift_parties, gift_records, utcnow
from paywall.accounts.emailed_links import email_reader, spend_link
from paywall.accounts.lookup import AccountError, find_by_email, is_valid_email, normalise_email
from paywall.accounts.models import LoginSession, Reader, Role
from paywall.accounts.passwords import verify_password
from paywall.accounts.sessions import end_sessions
from paywall.accounts.tokens import Purpose, TokenError, make_token, read_token
from paywall.articles.models import Article, MeterView
from paywall.billing.support import gateway
from paywall.embed.models import ReaderToken, Site
from paywall.extensions import db
from paywall.jobs import JobNotQueued, enqueue
from paywall.mailer import absolute_url

log = logging.getLogger(__name__)
# A reader without a password proves it is them by having signed in this recently.
RECENT_SIGN_IN = timedelta(minutes=10)
DELETED_DOMAIN = "deleted.invalid"  # reserved (RFC 2606): no mailbox can ever have it
EXPORT_FORMAT = 1


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _check_it_is_them(reader: Reader, password: str, session_id: int | None) -> None:
    """The current password, or (for an account that has none) a sign-in moments ago."""
    if reader.password_hash:
        if not verify_password(reader.password_hash, password):
            raise AccountError("current_password", "That isn't your current password.")
        return
    signed_in_at = db.session.scalar(
        select(LoginSession.created_at).where(
            LoginSession.id == session_id, LoginSession.reader_id == reader.id
        )
    )
    if signed_in_at is None or utcnow() - signed_in_at > RECENT_SIGN_IN:
        raise AccountError(
            "current_password",
            "Your account has no password: sign out, sign in again with an emailed link, "
            "and change your email within ten minutes.",
        )


# --- change of email ----------------------------------------------------------------------


def request_email_change(
    reader_id: int, new_email: str, password: str, *, session_id: int | None
) -> str:
    """Email a confirmation link to ``new_email`` and a notice to the current address;
    nothing changes until the link is used. The normalised new address.

    An address that already has an account is told so in the email to it, never here:
    the answer on the page is the same for every address.
    """
    reader = db.session.get_one(Reader, reader_id)
    _check_it_is_them(reader, password, session_id)
    new = normalise_email(new_email)
    if not is_valid_email(new):
        raise AccountError("new_email", "Enter a valid email address.")
    if new == reader.email:
        raise AccountError("new_email", "That is already your email address.")
    if find_by_email(new) is not None:
        email_reader(reader, "Your email address was not changed", "change_email_taken", to=new)
    else:
        payload = {"id": reader.id, "from": reader.email, "to": new, "stamp": reader.security_stamp}
        link = absolute_url(
            "accounts.confirm_email_change", token=make_token(Purpose.CHANGE_EMAIL, payload)
        )
        email_reader(reader, "Confirm your new email address", "change_email", to=new, link=link)
    email_reader(
        reader,
        "A change of your email address was asked for",
        "change_email_notice",
        new_email=new,
        account_url=absolute_url("accounts.account"),
    )
    return new


def email_change_for(token: str) -> tuple[Reader, str]:
    """The reader and new address of an unused change-of-email link."""
    payload = read_token(Purpose.CHANGE_EMAIL, token)
    reader = db.session.get(Reader, payload.get("id"))
    new = payload.get("to")
    if (
        reader is None
        or reader.deleted_at is not None
        or not isinstance(new, str)
        or reader.email != payload.get("from")
        or reader.security_stamp != payload.get("stamp")
    ):
        raise TokenError(expired=False)
    return reader, new


def change_email(token: str, *, keep_session: int | None = None) -> Reader:
    """Spend a change-of-email link: the new address is the account's, and confirmed.

    Every session but ``keep_session`` ends and the security stamp moves on (emailed
    links and embed reader tokens issued before stop working); Stripe's copy of the
    address follows in a job (retried while Stripe is unreachable).
    """
    reader, new = email_change_for(token)
    if find_by_email(new) is not None:
        raise AccountError("email", f"{new} now belongs to another account here.")
    still_unused = (Reader.email == reader.email) & (Reader.security_stamp == reader.security_stamp)
    changes = {
        "email": new,
        "email_verified_at": utcnow(),
        "security_stamp": Reader.security_stamp + 1,
    }
    try:
        spend_link(
            reader, still_unused, changes, sign_out_everywhere=True, keep_session=keep_session
        )
    except IntegrityError as error:  # the address was taken a moment ago
        db.session.rollback()
        raise AccountError("email", f"{new} now belongs to another account here.") from error
    try:
        enqueue("sync_customer_email", reader.id)
    except JobNotQueued:
        log.exception("could not queue the Stripe email update of reader %s", reader.id)
    return reader


# --- a copy of my data -------------------------------------------------------------------------


def export(reader_id: int, *, session_id: int | None = None) -> dict[str, Any]:
    """Everything kept about the reader, as JSON-ready values; never a token or its digest."""
    reader = db.session.get_one(Reader, reader_id)
    sessions = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.reader_id == reader_id, LoginSession.expires_at > utcnow())
        .order_by(LoginSession.created_at, LoginSession.id)
    )
    views = db.session.execute(
        select(Article.slug, Article.title, MeterView.period, MeterView.viewed_at)
        .join(Article, Article.id == MeterView.article_id)
        .where(MeterView.reader_id == reader_id)
        .order_by(MeterView.viewed_at, MeterView.id)
    )
    site_sign_ins = db.session.execute(
        select(Site.name, ReaderToken.created_at, ReaderToken.expires_at, ReaderToken.revoked_at)
        .join(Site, Site.id == ReaderToken.site_id)
        .where(ReaderToken.reader_id == reader_id)
        .order_by(ReaderToken.created_at, ReaderToken.id)
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(utcnow()),
        "account": {
            "id": reader.id,
            "email": reader.email,
            "name": reader.name,
            "role": reader.role,
            "created_at": _when(reader.created_at),
            "last_signed_in_at": _when(reader.last_signed_in_at),
            "has_password": bool(reader.password_hash),
        },
        "consent": {
            "account_created_at": _when(reader.created_at),
            "email_verified_at": _when(reader.email_verified_at),
        },
        "complimentary_access": {
            "granted": reader.is_comped,
            "until": _when(reader.comped_until),
        },
        **billing_records(db.session, reader_id),
        **gift_records(db.session, reader_id, utcnow()),
        "sessions": [
            {
                "device": row.device,
                "created_at": _when(row.created_at),
                "last_seen_at": _when(row.last_seen_at),
                "expires_at": _when(row.expires_at),
                "kept_signed_in": row.remember,
                "this_device": row.id == session_id,
            }
            for row in sessions
        ],
        "metered_articles": [
            {"slug": slug, "title": title, "month": period, "viewed_at": _when(viewed_at)}
            for slug, title, period, viewed_at in views
        ],
        "publisher_site_sign_ins": [
            {
                "site": site,
                "created_at": _when(created),
                "expires_at": _when(expires),
                "revoked_at": _when(revoked),
            }
            for site, created, expires, revoked in site_sign_ins
        ],
    }


# --- deleting the account ------------------------------------------------------------------------


def check_deletion(reader_id: int, confirmation: str) -> Reader:
    """The reader, if ``confirmation`` is their email address or their password."""
    reader = db.session.get_one(Reader, reader_id)
    typed = confirmation.strip()
    if normalise_email(typed) == reader.email:
        return reader
    if reader.password_hash and verify_password(reader.password_hash, confirmation):
        return reader
    raise AccountError("confirmation", "Type your email address or your password exactly.")


def delete_account(reader_id: int, confirmation: str) -> int:
    """Delete the reader's account; how many subscriptions were canceled at Stripe.

    Subscriptions are canceled at Stripe first (nothing here changes if Stripe cannot be
    reached: billing errors pass through), cards and emails go there and here. Then, in
    one transaction, the account is emptied of the person: a placeholder email (so the
    address is free for a new account), no name, no password, no role or comp; every
    session, embed reader token and metered view is deleted; gifts lose the person's
    email and their message (a gift waiting for them stops working). The row stays, so
    the invoices accounting law keeps (amounts, dates, Stripe ids) have an owner that is
    nobody.
    """
    reader = check_deletion(reader_id, confirmation)
    canceled = forget_customer(db.session, gateway(), reader.id)
    placeholder = f"deleted-{reader.id}-{secrets.token_hex(6)}@{DELETED_DOMAIN}"
    forget_gift_parties(db.session, reader.id, reader.email)
    db.session.execute(
        update(Reader)
        .where(Reader.id == reader.id)
        .values(
            email=placeholder,
            name="",
            password_hash=None,
            role=Role.READER,
            is_comped=False,
            comped_until=None,
            security_stamp=Reader.security_stamp + 1,
            deleted_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    end_sessions(reader.id)
    db.session.execute(delete(ReaderToken).where(ReaderToken.reader_id == reader.id))
    db.session.execute(delete(MeterView).where(MeterView.reader_id == reader.id))
    db.session.commit()
    log.info("reader %s deleted their account (%s subscriptions canceled)", reader.id, canceled)
    return canceled

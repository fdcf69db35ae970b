"""One-time sign-in codes: six digits in the sign-in email, typed where it was asked for.

For in-app browsers, where the emailed link opens in another browser. Each request for a
sign-in email makes a :class:`SignInCode`, named by a random token that the asking
browser's session keeps, so the code signs in that browser and no other. A code lives
as long as the link beside it, gives way to a newer request for the same address, and
dies after ``MAX_ATTEMPTS`` wrong tries; using it (or the link) spends both, see
``signin.use_sign_in_code``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from billing import utcnow
from paywall.accounts.models import Reader, SignInCode
from paywall.accounts.sessions import token_digest
from paywall.extensions import db
from paywall.validation import FieldError

DIGITS = 6
MAX_ATTEMPTS = 5
REQUEST_TOKEN_BYTES = 32
# Typed or pasted between the digits: spaces of any kind, hyphens and dashes.
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
CODE = re.compile(rf"[0-9]{{{DIGITS}}}")

NOT_ASKED = (
    "Ask for a sign-in email in this browser first: a code works only in the browser "
    "that asked for it."
)
GONE = "This code can't be used any more. Use the newest sign-in email, or ask for a new one."
EXPIRED = "This code has expired. Ask for a new sign-in email."
TOO_MANY = "This code was tried too many times and no longer works. Ask for a new sign-in email."
WRONG = "That isn't the code we sent. Check the newest sign-in email ({left} left)."
WRONG_LAST = (
    "That isn't the code we sent, and that was the last try: this code no longer works. "
    "Ask for a new sign-in email."
)


class CodeRefused(FieldError):
    """A sign-in code that does not sign in; the message says what the reader can do."""

    def __init__(self, message: str) -> None:
        super().__init__("code", message)


@dataclass(frozen=True)
class IssuedCode:
    request: str  # for the asking browser's session only: never stored
    code: str  # for the email only: never stored


@dataclass(frozen=True)
class RightCode:
    """A pending code that was typed correctly, not yet spent."""

    id: int
    reader_id: int
    issued_for: datetime | None


def normalise_code(typed: str) -> str | None:
    """The six digits of what the reader typed (spaces and dashes allowed), or None."""
    digits = SEPARATORS.sub("", typed)
    return digits if CODE.fullmatch(digits) else None


def _keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 under the secret key: a copy of the table alone cannot try the
    million codes (or a list of addresses) against it."""
    key = f"{current_app.config['SECRET_KEY']}:paywall.{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _code_digest(request_digest: str, code: str) -> str:
    return _keyed_digest("sign-in-code", f"{request_digest}:{code}")


def issue_code(email: str, reader: Reader | None, *, replacing: str | None) -> IssuedCode:
    """A new code for a sign-in email to ``email`` (normalised), whose account is ``reader``.

    It supersedes every earlier code for the address, and ``replacing`` (the asking
    browser's earlier request); expired codes go too. An address without an account
    gets a row all the same, with a code nobody is sent.
    """
    now = utcnow()
    request = secrets.token_urlsafe(REQUEST_TOKEN_BYTES)
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    email_digest = _keyed_digest("sign-in-email", email)
    superseded = [SignInCode.expires_at <= now, SignInCode.email_digest == email_digest]
    if replacing:
        superseded.append(SignInCode.request_digest == token_digest(replacing))
    db.session.execute(delete(SignInCode).where(or_(*superseded)))
    request_digest = token_digest(request)
    db.session.add(
        SignInCode(
            request_digest=request_digest,
            email_digest=email_digest,
            reader_id=reader.id if reader else None,
            code_digest=_code_digest(request_digest, code),
            issued_for=reader.last_signed_in_at if reader else None,
            attempts=0,
            expires_at=now + timedelta(seconds=current_app.config["SIGNIN_LINK_MAX_AGE"]),
        )
    )
    db.session.commit()
    return IssuedCode(request, code)


def check_code(request: str | None, typed: str) -> RightCode:
    """The browser's pending code, when ``typed`` is it; else :class:`CodeRefused`.

    Every check first takes one of the code's tries, committed, so guesses sent at once
    are counted as surely as guesses sent one by one.
    """
    if not request:
        raise CodeRefused(NOT_ASKED)
    request_digest = token_digest(request)
    pending = db.session.execute(
        select(
            SignInCode.id,
            SignInCode.reader_id,
            SignInCode.code_digest,
            SignInCode.issued_for,
            SignInCode.expires_at,
        ).where(SignInCode.request_digest == request_digest)
    ).first()
    if pending is None:
        raise CodeRefused(GONE)
    now = utcnow()
    if pending.expires_at <= now:
        raise CodeRefused(EXPIRED)
    attempts = db.session.scalar(
        update(SignInCode)
        .where(
            SignInCode.id == pending.id,
            SignInCode.attempts < MAX_ATTEMPTS,
            SignInCode.expires_at > now,
        )
        .values(attempts=SignInCode.attempts + 1)
        .returning(SignInCode.attempts)
    )
    db.session.commit()
    if attempts is None:  # out of tries, or spent or superseded a moment ago
        still_there = db.session.scalar(select(SignInCode.id).where(SignInCode.id == pending.id))
        raise CodeRefused(TOO_MANY if still_there else GONE)
    code = normalise_code(typed) or ""
    right = hmac.compare_digest(pending.code_digest, _code_digest(request_digest, code))
    if not right or pending.reader_id is None:
        left = MAX_ATTEMPTS - attempts
        raise CodeRefused(WRONG.format(left=_tries(left)) if left else WRONG_LAST)
    return RightCode(pending.id, pending.reader_id, pending.issued_for)


def _tries(left: int) -> str:
    return f"{left} {'try' if left == 1 else 'tries'}"


def discard(code: RightCode) -> bool:
    """Delete ``code`` in the caller's transaction; False if it was already gone."""
    gone = db.session.execute(delete(SignInCode).where(SignInCode.id == code.id))
    return bool(gone.rowcount)  # type: ignore[attr-defined]

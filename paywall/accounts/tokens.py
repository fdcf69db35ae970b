"""Signed, expiring, single-use tokens for the links we email.

Each purpose has its own salt, so a token made for one can never be used for another.
Single use comes from binding the token to state that using it changes: the security
stamp (password reset), the last sign-in time (sign-in link), the account still awaiting
its confirmation (sign-up), the email (verification) or both the email and the security
stamp (a change of email).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    SIGN_UP = "sign-up"  # confirms a new account's email and signs in
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105  (a salt name, not a secret)
    SIGN_IN = "sign-in-link"
    CHANGE_EMAIL = "change-email"  # confirms a new address, sent to that address


MAX_AGE_SETTING = {
    Purpose.SIGN_UP: "VERIFY_EMAIL_MAX_AGE",
    Purpose.VERIFY_EMAIL: "VERIFY_EMAIL_MAX_AGE",
    Purpose.RESET_PASSWORD: "RESET_PASSWORD_MAX_AGE",
    Purpose.SIGN_IN: "SIGNIN_LINK_MAX_AGE",
    Purpose.CHANGE_EMAIL: "VERIFY_EMAIL_MAX_AGE",
}


class TokenError(Exception):
    """A link that cannot be used; ``expired`` tells the two cases apart for the reader."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"paywall.{purpose}")


def make_token(purpose: Purpose, payload: dict[str, Any]) -> str:
    """Sign ``payload`` for ``purpose``."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: Purpose, token: str) -> dict[str, Any]:
    """The payload of a valid, unexpired token for ``purpose``; else :class:`TokenError`."""
    max_age = current_app.config[MAX_AGE_SETTING[purpose]]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError(expired=False) from exc
    if not isinstance(payload, dict):
        raise TokenError(expired=False)
    return payload

"""Accounts by email address (one spelling per mailbox), and the error every account
use case raises."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from paywall.accounts.models import Reader
from paywall.extensions import db
from paywall.validation import FieldError


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

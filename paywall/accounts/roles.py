"""Staff roles: making editors and admins, and changing a reader's role. Each function owns
its transaction; views only call them."""

from __future__ import annotations

from billing import utcnow
from paywall.accounts.lookup import AccountError, find_by_email, is_valid_email, normalise_email
from paywall.accounts.models import Reader, Role
from paywall.accounts.password_changes import check_new_password, set_password
from paywall.audit.log import record
from paywall.extensions import db


def create_or_promote_staff(email: str, password: str | None, role: Role) -> tuple[Reader, bool]:
    """Make ``email`` an editor or admin, creating the account if needed."""
    if not is_valid_email(email):
        raise AccountError("email", f"{email!r} is not a valid email address.")
    reader = find_by_email(email)
    created = reader is None
    if password:  # before anything is added to the session
        check_new_password(password, normalise_email(email), reader.name if reader else "")
    if reader is None:
        if not password:
            raise AccountError("password", "A new account needs a password.")
        reader = Reader(email=normalise_email(email), email_verified_at=utcnow(), security_stamp=0)
        db.session.add(reader)
    if password:
        set_password(reader, password)
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

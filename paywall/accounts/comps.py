"""Complimentary access to every tier, granted by an editor (maybe until a date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from paywall.accounts.lookup import AccountError, find_by_email
from paywall.accounts.models import Reader
from paywall.audit.log import record
from paywall.extensions import db


def _comp_of(reader: Reader) -> dict[str, object]:
    return {"comped": reader.is_comped, "until": reader.comped_until}


def grant_comp(email: str, until: date | None) -> Reader:
    """Give the reader with ``email`` full access (through the end of ``until``, if given)."""
    reader = find_by_email(email)
    if reader is None:
        raise AccountError("email", "No reader has that email address. Ask them to sign up first.")
    if until is not None and until < datetime.now(UTC).date():
        raise AccountError("until", "Choose a date in the future.")
    before = _comp_of(reader)
    reader.is_comped = True
    reader.comped_until = (
        datetime.combine(until, time.max, tzinfo=UTC) if until is not None else None
    )
    record("comp.grant", f"reader {reader.email}", before, _comp_of(reader))
    db.session.commit()
    return reader


def revoke_comp(reader_id: int) -> None:
    """End a reader's complimentary access now."""
    reader = db.session.get(Reader, reader_id)
    if reader is not None and reader.is_comped:
        before = _comp_of(reader)
        reader.is_comped = False
        reader.comped_until = None
        record("comp.revoke", f"reader {reader.email}", before, _comp_of(reader))
        db.session.commit()


def comped_readers(limit: int) -> tuple[list[Reader], int]:
    """The first ``limit`` readers with complimentary access by email, and how many have it
    (the readers list shows them all, a page at a time)."""
    first = db.session.scalars(
        select(Reader).where(Reader.is_comped).order_by(Reader.email).limit(limit)
    )
    return list(first), db.session.scalar(select(func.count()).where(Reader.is_comped)) or 0

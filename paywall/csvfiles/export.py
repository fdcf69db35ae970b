"""Readers and subscribers as CSV rows, read a page at a time (never the whole list).

Each cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'``; the importer takes it off.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from billing import (
    SUBSCRIBER_ORDER,
    Customer,
    SubscriberRow,
    subscriber_row,
    subscribers_query,
)
from paywall.accounts.directory import READER_ORDER, readers_query
from paywall.accounts.models import Reader
from paywall.pagination import every_page

COLUMNS = (
    "email",
    "name",
    "verified",
    "created",
    "status",
    "plan",
    "current_period_end",
    "stripe_customer_id",
)
# Rows read per query: large enough that the round trips do not dominate, small enough
# that a page is a few hundred kilobytes.
EXPORT_PAGE_SIZE = 1_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_PERSON = (
    Reader.id,
    Reader.email,
    Reader.name,
    Reader.email_verified_at,
    Reader.created_at,
    Customer.stripe_customer_id,
)


def guard(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text, never runs it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def unguard(cell: str) -> str:
    """The text :func:`guard` protected (a cell it did not change stays as it is)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One person in an export: the account and, for a subscriber, the subscription."""

    email: str
    name: str
    verified_at: datetime | None
    created_at: datetime
    stripe_customer_id: str | None
    subscription: SubscriberRow | None

    def cells(self) -> list[str]:
        subscription = self.subscription
        status = plan = period_end = ""
        if subscription is not None:
            status = subscription.status_words
            if subscription.cancel_at_period_end:
                status += " (canceling)"
            plan = subscription.plan_name
            if subscription.current_period_end is not None:
                period_end = subscription.current_period_end.date().isoformat()
        cells = [
            self.email,
            self.name,
            "yes" if self.verified_at is not None else "no",
            self.created_at.isoformat(timespec="seconds"),
            status,
            plan,
            period_end,
            self.stripe_customer_id or "",
        ]
        return [guard(cell) for cell in cells]


def reader_rows(
    session: Session, *, search: str = "", state: str | None = None, size: int = EXPORT_PAGE_SIZE
) -> Iterator[list[ExportRow]]:
    """Every reader the readers page would list for ``search`` and ``state``, newest
    first, a page of rows at a time."""
    query = (
        readers_query(search=search, state=state)
        .with_only_columns(*_PERSON)
        .outerjoin(Customer, Customer.reader_id == Reader.id)
    )
    for page in every_page(
        session, query, READER_ORDER, shape=(int,), item=tuple, key=lambda row: (row[0],),
        size=size,
    ):  # fmt: skip
        ids = select(Reader.id).where(Reader.id.in_([row[0] for row in page.items]))
        subscriptions = {
            found.reader_id: found
            for found in map(subscriber_row, session.execute(subscribers_query(reader_ids=ids)))
        }
        yield [_export_row(row, subscriptions.get(row[0])) for row in page.items]


def subscriber_rows(
    session: Session,
    *,
    status: str | None = None,
    plan: str | None = None,
    reader_ids: Select[tuple[int]] | None = None,
    size: int = EXPORT_PAGE_SIZE,
) -> Iterator[list[ExportRow]]:
    """Every subscriber the subscribers page would list, newest first, a page at a time."""
    for page in every_page(
        session,
        subscribers_query(status=status, plan=plan, reader_ids=reader_ids),
        SUBSCRIBER_ORDER,
        shape=(int,),
        item=subscriber_row,
        key=lambda row: (row.customer_id,),
        size=size,
    ):
        people = {
            row[0]: row
            for row in session.execute(
                select(*_PERSON)
                .join(Customer, Customer.reader_id == Reader.id)
                .where(Reader.id.in_([found.reader_id for found in page.items]))
            )
        }
        yield [_export_row(people[found.reader_id], found) for found in page.items]


def _export_row(
    person: Sequence[object] | Row[tuple[object, ...]], subscription: SubscriberRow | None
) -> ExportRow:
    _, email, name, verified_at, created_at, stripe_customer_id = person
    return ExportRow(
        email=str(email),
        name=str(name or ""),
        verified_at=verified_at,  # type: ignore[arg-type]
        created_at=created_at,  # type: ignore[arg-type]
        stripe_customer_id=stripe_customer_id,  # type: ignore[arg-type]
        subscription=subscription,
    )


def csv_chunks(pages: Iterable[list[ExportRow]]) -> Iterator[str]:
    """The header line, then one chunk of CSV text per page of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(row.cells() for row in rows)
        yield buffer.getvalue()

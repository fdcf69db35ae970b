"""Import readers, and existing Stripe customers, from a CSV file (``paywall import-readers``
and the staff's upload page).

The first line names the columns: ``email`` (required), ``name`` and
``stripe_customer_id``; others (an export's status, plan, ...) are ignored, so an export
imports as it is. Per row: the email is validated, the reader is created (or their name
updated; an empty name changes nothing), and a Stripe customer id, when given, is
linked to the reader and their subscriptions, cards and invoices are copied from Stripe
by the same re-read as ``paywall reconcile``.

Each row is its own transaction: a bad row is reported (line, column, message) and the
good rows are still imported. A row that changes nothing writes nothing, so running a
file again reports every row unchanged; a dry run does each row's work and rolls it back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from billing import (
    BillingError,
    BillingRequestError,
    BillingUnavailable,
    StripeGateway,
    link_customer,
)
from paywall.accounts.lookup import find_by_email, is_valid_email, normalise_email
from paywall.accounts.models import Reader
from paywall.csvfiles.export import unguard
from paywall.extensions import db

COLUMNS = ("email", "name", "stripe_customer_id")
CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,200}")
MAX_EMAIL, MAX_NAME = 254, 120


@dataclass(frozen=True, slots=True)
class RowError:
    """A row (or the file, at line 1) that was not imported, and why."""

    line: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class RowDone:
    """A row imported (or, in a dry run, what importing it would do)."""

    line: int
    email: str
    action: str  # created, updated or unchanged
    changes: tuple[str, ...] = ()
    # Money problems found at Stripe (two live subscriptions, a period paid twice).
    problems: tuple[str, ...] = ()


@dataclass
class ImportTally:
    """Counts of rows by what happened to them."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, result: RowDone | RowError) -> None:
        if isinstance(result, RowError):
            self.errors += 1
            return
        setattr(self, result.action, getattr(self, result.action) + 1)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.errors


def column_name(heading: str) -> str:
    """``Stripe customer ID`` and ``stripe-customer-id`` both name ``stripe_customer_id``."""
    return re.sub(r"[\s-]+", "_", heading.strip().lstrip("\ufeff").lower())


def text_lines(binary: Iterable[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 file (a byte-order mark dropped), each decoded by itself, so
    bytes that are not UTF-8 are reported at their own line."""
    for number, line in enumerate(binary):
        yield line.decode("utf-8-sig" if number == 0 else "utf-8")


def import_readers(
    lines: Iterable[str], *, dry_run: bool, gateway: Callable[[], StripeGateway]
) -> Iterator[RowDone | RowError]:
    """Import each row of the CSV text ``lines``, yielding what happened to it in order.

    ``gateway`` gives the Stripe gateway, asked for only when a row names a customer.
    """
    rows = csv.reader(lines)
    try:
        header = next(rows)
    except StopIteration:
        yield RowError(1, "", "The file is empty.")
        return
    except (csv.Error, UnicodeDecodeError) as error:
        yield RowError(1, "", _unreadable(error))
        return
    columns = [column_name(heading) for heading in header]
    if "email" not in columns:
        yield RowError(1, "email", "The first line names the columns, and none is called email.")
        return
    seen: dict[str, int] = {}
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            yield RowError(rows.line_num + 1, "", _unreadable(error))
            return
        except csv.Error as error:
            yield RowError(rows.line_num, "", _unreadable(error))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            name: unguard(cell.strip())
            for name, cell in zip(columns, cells, strict=False)
            if name in COLUMNS
        }
        yield from _import_row(rows.line_num, values, seen, dry_run=dry_run, gateway=gateway)


def _unreadable(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "The file is not UTF-8 text from here on; save it as CSV UTF-8 and try again."
    return f"This line is not CSV the importer can read ({error})."


def row_problems(line: int, values: dict[str, str]) -> list[RowError]:
    """What is wrong with a row's values, each against its column."""
    problems = []
    email, name = values.get("email", ""), values.get("name", "")
    customer_id = values.get("stripe_customer_id", "")
    if not email:
        problems.append(RowError(line, "email", "The email is missing."))
    elif len(email) > MAX_EMAIL or not is_valid_email(email):
        problems.append(RowError(line, "email", f"{email[:60]!r} is not a valid email address."))
    if len(name) > MAX_NAME:
        problems.append(RowError(line, "name", f"The name is longer than {MAX_NAME} characters."))
    elif any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        problems.append(RowError(line, "name", "The name has control characters."))
    if customer_id and not CUSTOMER_ID.fullmatch(customer_id):
        problems.append(
            RowError(line, "stripe_customer_id",
                     f"{customer_id[:60]!r} is not a Stripe customer id (cus_...).")
        )  # fmt: skip
    return problems


def _import_row(
    line: int,
    values: dict[str, str],
    seen: dict[str, int],
    *,
    dry_run: bool,
    gateway: Callable[[], StripeGateway],
) -> Iterator[RowDone | RowError]:
    problems = row_problems(line, values)
    if problems:
        yield from problems
        return
    email = normalise_email(values["email"])
    if email in seen:
        yield RowError(line, "email", f"{email} is on line {seen[email]} already.")
        return
    seen[email] = line
    try:
        done = _apply_row(line, email, values.get("name", ""),
                          values.get("stripe_customer_id", ""), gateway)  # fmt: skip
    except BillingError as error:
        db.session.rollback()
        yield RowError(line, "stripe_customer_id", _stripe_message(error, values))
        return
    except IntegrityError:
        db.session.rollback()
        yield RowError(line, "email", "Changed by someone else meanwhile: run the import again.")
        return
    if dry_run or done.action == "unchanged":
        db.session.rollback()
    else:
        db.session.commit()
    yield done


def _apply_row(
    line: int, email: str, name: str, customer_id: str, gateway: Callable[[], StripeGateway]
) -> RowDone:
    """Do one row's work in the session, uncommitted."""
    reader = find_by_email(email)
    changes: list[str] = []
    created = reader is None
    if reader is None:
        reader = Reader(email=email, name=name, security_stamp=0)
        db.session.add(reader)
        db.session.flush()
    elif name and reader.name != name:
        changes.append(f"name: {reader.name or '(none)'} -> {name}")
        reader.name = name
    problems: list[str] = []
    if customer_id:
        linked = link_customer(db.session, gateway(), reader.id, customer_id)
        changes += linked.changes
        problems = linked.problems
    action = "created" if created else "updated" if changes else "unchanged"
    return RowDone(line, email, action, tuple(changes), tuple(problems))


def _stripe_message(error: BillingError, values: dict[str, str]) -> str:
    customer_id = values.get("stripe_customer_id", "")
    if isinstance(error, BillingUnavailable):
        return f"Stripe is not answering ({error.message}): run the import again."
    if isinstance(error, BillingRequestError):  # e.g. "No such customer: 'cus_...'"
        return f"Stripe refused the customer {customer_id}: {error.message}"
    return error.message

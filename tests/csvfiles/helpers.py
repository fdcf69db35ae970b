"""What the CSV tests share: reading a CSV answer, and every row of the tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from paywall.extensions import db


def parse(text: str) -> list[dict[str, str]]:
    """The rows of CSV ``text`` by column name."""
    return list(csv.DictReader(io.StringIO(text)))


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, to tell whether anything at all changed."""
    db.session.rollback()
    found = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return found


def write_csv(path, rows: list[list[str]]) -> str:  # type: ignore[no-untyped-def]
    """``rows`` written as a CSV file at ``path``; its path as text."""
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    return str(path)

"""Keyset ("seek") pagination for every list that grows with the business.

A page is found by the sort key of the row before it, never by an offset, so page 5,000
costs what page 1 costs and a row added meanwhile neither repeats nor skips one. Lists
are sorted newest first: descending on every key column (the last one unique, e.g. id).

The key travels in the query string as an opaque cursor (``?older=...`` or
``?newer=...``); a cursor that does not decode to a key of the expected shape is a
:class:`BadCursor`, which a view answers with 400, never 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from flask import abort, request
from sqlalchemy import ColumnElement, Row, Select, literal, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

from paywall.extensions import db

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
Key = tuple[Any, ...]
# The columns a list is sorted by, descending; the last one unique.
SortColumns = Sequence[ColumnElement[Any] | QueryableAttribute[Any]]

PAGE_SIZE = 20
_MAX_CURSOR_CHARS = 200
# Row ids are 32-bit integers: PostgreSQL refuses to compare them with anything larger.
_LARGEST_ID = 2**31 - 1


class BadCursor(ValueError):
    """A cursor from the query string that is not one this app made."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, with the cursors of its neighbours (None: no such page)."""

    items: list[T]
    older: str | None
    newer: str | None


def encode_cursor(key: Key) -> str:
    """The key of a row as an opaque, URL-safe cursor."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, shape: Sequence[type]) -> Key:
    """The key in ``cursor``, each value of the type in ``shape``; else :class:`BadCursor`."""
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise BadCursor("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor is not ours") from exc
    if not isinstance(values, list) or len(values) != len(shape):
        raise BadCursor("cursor has the wrong shape")
    return tuple(_value_of(value, kind) for value, kind in zip(values, shape, strict=True))


def _value_of(value: object, kind: type) -> Any:
    if kind is int and type(value) is int and 0 <= value <= _LARGEST_ID:
        return value
    if kind is datetime and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise BadCursor("cursor has a bad timestamp") from exc
    raise BadCursor("cursor has a value of the wrong type")


def seek_page(
    session: Session,
    query: Select[*Ts],
    order: SortColumns,
    *,
    older: str | None,
    newer: str | None,
    shape: Sequence[type],
    item: Callable[[Row[*Ts]], T],
    key: Callable[[T], Key],
    size: int = PAGE_SIZE,
) -> Page[T]:
    """A page of ``query``, sorted by ``order`` descending, after ``older`` or before ``newer``.

    ``query`` has no ORDER BY or LIMIT of its own; ``item`` turns a row into what the page
    shows and ``key`` gives back its sort key (the values of ``order``).
    """
    if older and newer:
        raise BadCursor("a page is either older or newer than another, not both")
    columns = tuple_(*order)
    if newer:
        start = decode_cursor(newer, shape)
        rows = session.execute(
            query.where(columns > _bound(order, start))
            .order_by(*(c.asc() for c in order))
            .limit(size + 1)
        ).all()
        if len(rows) > size:
            items = [item(row) for row in rows[:size]][::-1]
            return Page(
                items, older=encode_cursor(key(items[-1])), newer=encode_cursor(key(items[0]))
            )
        # Reached the top: show the first page, full, as a reader arriving would see it.
    elif older:
        query = query.where(columns < _bound(order, decode_cursor(older, shape)))
    rows = session.execute(query.order_by(*(c.desc() for c in order)).limit(size + 1)).all()
    items = [item(row) for row in rows[:size]]
    return Page(
        items,
        older=encode_cursor(key(items[-1])) if len(rows) > size else None,
        newer=(encode_cursor(key(items[0])) if items else older) if older else None,
    )


def every_page(
    session: Session,
    query: Select[*Ts],
    order: SortColumns,
    *,
    shape: Sequence[type],
    item: Callable[[Row[*Ts]], T],
    key: Callable[[T], Key],
    size: int = PAGE_SIZE,
) -> Iterator[Page[T]]:
    """Every page of ``query``, newest first, each one :func:`seek_page` query.

    For exports that read a whole list: one page is in memory at a time, however long
    the list, and a row added meanwhile is neither repeated nor skipped.
    """
    older: str | None = None
    while True:
        page = seek_page(
            session, query, order, older=older, newer=None, shape=shape, item=item, key=key,
            size=size,
        )  # fmt: skip
        if page.items:
            yield page
        if page.older is None:
            return
        older = page.older


def requested_page(
    query: Select[*Ts],
    order: SortColumns,
    *,
    noun: str,
    shape: Sequence[type],
    item: Callable[[Row[*Ts]], T],
    key: Callable[[T], Key],
    size: int = PAGE_SIZE,
) -> Page[T]:
    """:func:`seek_page` at this request's ``older`` / ``newer`` cursor, on the app's session.

    A cursor this app did not make answers 400 ("This page of ``noun`` does not exist").
    """
    try:
        return seek_page(
            db.session(),
            query,
            order,
            older=request.args.get("older"),
            newer=request.args.get("newer"),
            shape=shape,
            item=item,
            key=key,
            size=size,
        )
    except BadCursor:
        abort(400, f"This page of {noun} does not exist; start again from the first.")


def _bound(order: SortColumns, key: Key) -> ColumnElement[Any]:
    return tuple_(*(literal(value, column.type) for column, value in zip(order, key, strict=True)))

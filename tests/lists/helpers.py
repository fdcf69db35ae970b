"""Walking a keyset-paginated page the way a person does: follow "Older" to the end."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from paywall.extensions import db


def link(page, rel: str) -> str | None:  # type: ignore[no-untyped-def]
    """The pager's link with ``rel`` ("next": older, "prev": newer), or None."""
    found = re.search(rf'rel="{rel}" id="\w+" href="([^"]+)"', page.text)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, url: str, shown: Callable[[object], list[str]]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """What each page shows, from ``url`` through every "Older" link."""
    page = client.get(url)
    pages = [shown(page)]
    while (older := link(page, "next")) is not None:
        page = client.get(older)
        pages.append(shown(page))
    return pages


@contextmanager
def loaded(model: type) -> Iterator[list[object]]:
    """Every ``model`` instance the ORM builds from query rows meanwhile."""
    instances: list[object] = []

    def count(target: object, context: object) -> None:
        instances.append(target)

    event.listen(model, "load", count)
    try:
        yield instances
    finally:
        event.remove(model, "load", count)


@contextmanager
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every SQL statement the app sends meanwhile."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)

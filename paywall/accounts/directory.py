"""The staff's list of readers: searched by email, filtered by account state, newest first.

Builds the queries only; the views page them with :func:`paywall.pagination.requested_page`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, select

from paywall.accounts.lookup import normalise_email
from paywall.accounts.models import Reader, Role

# Readers are listed newest account first, sought by id.
READER_ORDER = (Reader.id,)

# The states the list filters by, as the page words them.
READER_STATES: dict[str, str] = {
    "unconfirmed": "Awaiting confirmation",
    "confirmed": "Confirmed",
    "comped": "Complimentary access",
    "staff": "Editors and admins",
}

_STATE_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "unconfirmed": lambda: Reader.awaiting_confirmation,
    "confirmed": lambda: ~Reader.awaiting_confirmation,
    "comped": lambda: Reader.is_comped.expression,  # as the partial index is written
    "staff": lambda: Reader.role.in_((Role.EDITOR, Role.ADMIN)),
}


def readers_query(*, search: str = "", state: str | None = None) -> Select[Reader]:
    """Readers whose email contains ``search``, in ``state`` (a key of
    :data:`READER_STATES`); unordered, for a pager by :data:`READER_ORDER`. Deleted
    accounts (rows kept only for their invoices) are not readers any more."""
    query = select(Reader).where(Reader.deleted_at.is_(None))
    if search:
        query = query.where(Reader.email.contains(normalise_email(search), autoescape=True))
    if state is not None:
        query = query.where(_STATE_FILTERS[state]())
    return query

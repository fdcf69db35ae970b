"""Staff pages: readers and subscribers as CSV downloads."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, abort, request, stream_with_context

from billing import STATUS_WORDS, utcnow
from paywall.accounts.decorators import staff_required
from paywall.accounts.directory import READER_STATES, readers_query
from paywall.accounts.models import Reader
from paywall.csvfiles import bp
from paywall.csvfiles.export import ExportRow, csv_chunks, reader_rows, subscriber_rows
from paywall.extensions import db


def _search() -> str:
    return request.args.get("email", "").strip()[:254]


@bp.get("/admin/readers.csv")
@staff_required
def readers_csv() -> Response:
    """The readers the readers page lists (same search and state), as a CSV download."""
    state = request.args.get("state") or None
    if state is not None and state not in READER_STATES:
        abort(400, "There is no such reader state.")
    return _download(reader_rows(db.session, search=_search(), state=state), "readers")


@bp.get("/admin/subscribers.csv")
@staff_required
def subscribers_csv() -> Response:
    """The subscribers the subscribers page lists (same search and status), as CSV."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_WORDS:
        abort(400, "There is no such subscription status.")
    search = _search()
    reader_ids = readers_query(search=search).with_only_columns(Reader.id) if search else None
    rows = subscriber_rows(db.session, status=status, reader_ids=reader_ids)
    return _download(rows, "subscribers")


def _download(pages: Iterable[list[ExportRow]], noun: str) -> Response:
    """Stream the rows as they are read, a page at a time, as an attachment kept nowhere."""
    name = f"{noun}-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(csv_chunks(pages)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )

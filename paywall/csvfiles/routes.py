"""Staff pages: readers and subscribers as CSV downloads, and the readers import."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from flask import Response, abort, render_template, request, stream_with_context

from billing import STATUS_WORDS, utcnow
from paywall.accounts.decorators import staff_required
from paywall.accounts.directory import READER_STATES, readers_query
from paywall.accounts.models import Reader
from paywall.billing.support import gateway
from paywall.csvfiles import bp
from paywall.csvfiles.export import ExportRow, csv_chunks, reader_rows, subscriber_rows
from paywall.csvfiles.forms import ImportForm
from paywall.csvfiles.importer import COLUMNS, ImportTally, RowError, column_name, import_readers
from paywall.extensions import db

# An upload is imported within the request: bigger files go through `paywall import-readers`.
WEB_IMPORT_ROWS = 1_000
WEB_IMPORT_CUSTOMERS = 100  # each one is a few calls to Stripe


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
    """The subscribers the subscribers page lists (same search, status and plan), as CSV."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_WORDS:
        abort(400, "There is no such subscription status.")
    search = _search()
    reader_ids = readers_query(search=search).with_only_columns(Reader.id) if search else None
    plan = request.args.get("plan") or None
    rows = subscriber_rows(db.session, status=status, plan=plan, reader_ids=reader_ids)
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


@bp.route("/admin/readers/import", methods=["GET", "POST"])
@staff_required
def import_page() -> tuple[str, int]:
    """Upload a CSV of readers (and their Stripe customers): a dry run first, then for real."""
    form = ImportForm()
    results: list[object] | None = None
    tally = ImportTally()
    if form.validate_on_submit():
        text = _uploaded_text(form)
        if text is not None:
            results = []
            lines = text.splitlines(keepends=True)
            for result in import_readers(lines, dry_run=form.dry_run.data, gateway=gateway):
                tally.add(result)
                results.append(result)
    errors = [r for r in results or [] if isinstance(r, RowError)]
    return render_template(
        "csvfiles/import.html",
        form=form,
        results=results,
        errors=errors,
        tally=tally,
        dry_run=form.dry_run.data,
        columns=COLUMNS,
        limit=WEB_IMPORT_ROWS,
        customer_limit=WEB_IMPORT_CUSTOMERS,
    ), 422 if form.errors else 200


def _uploaded_text(form: ImportForm) -> str | None:
    """The upload as text, or None with the reason shown on the form."""
    try:
        text: str = form.file.data.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors = ["This is not UTF-8 text: save it as CSV UTF-8 and upload it again."]
        return None
    rows, customers = _size(text)
    if rows > WEB_IMPORT_ROWS or customers > WEB_IMPORT_CUSTOMERS:
        form.file.errors = [
            f"This file has {rows:,} rows, {customers:,} with a Stripe customer: the page takes "
            f"up to {WEB_IMPORT_ROWS:,} rows and {WEB_IMPORT_CUSTOMERS:,} Stripe customers. "
            "Import it with `paywall import-readers`."
        ]
        return None
    return text


def _size(text: str) -> tuple[int, int]:
    """Rows, and rows with a Stripe customer id, of CSV ``text`` (as far as it reads)."""
    rows = customers = 0
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        columns = [column_name(heading) for heading in next(reader, [])]
        at = columns.index("stripe_customer_id") if "stripe_customer_id" in columns else None
        for cells in reader:
            rows += 1
            customers += at is not None and at < len(cells) and bool(cells[at].strip())
    except csv.Error:
        pass  # the import reports the line
    return rows, customers

"""``paywall export-readers``, ``export-subscribers`` and ``import-readers``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from billing import STATUS_WORDS
from paywall.accounts.directory import READER_STATES, readers_query
from paywall.accounts.models import Reader
from paywall.billing.support import gateway
from paywall.csvfiles import bp
from paywall.csvfiles.export import ExportRow, csv_chunks, reader_rows, subscriber_rows
from paywall.csvfiles.importer import ImportTally, RowError, import_readers, text_lines
from paywall.extensions import db

PROGRESS_EVERY = 10_000


@bp.cli.command("export-readers")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--email", "search", default="", help="Only emails containing this.")
@click.option("--state", type=click.Choice(list(READER_STATES)), help="Only readers in this state.")
def export_readers_command(output: Path, search: str, state: str | None) -> None:
    """Write every reader (or those matching) to a CSV file, newest first."""
    _write_export(output, reader_rows(db.session, search=search, state=state), "readers")


@bp.cli.command("export-subscribers")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--email", "search", default="", help="Only emails containing this.")
@click.option("--status", type=click.Choice(list(STATUS_WORDS)), help="Only this status.")
def export_subscribers_command(output: Path, search: str, status: str | None) -> None:
    """Write every subscriber (or those matching) to a CSV file, newest first."""
    reader_ids = readers_query(search=search).with_only_columns(Reader.id) if search else None
    _write_export(
        output, subscriber_rows(db.session, status=status, reader_ids=reader_ids), "subscribers"
    )


def _write_export(output: Path, pages: Iterable[list[ExportRow]], noun: str) -> None:
    """Write to a file beside ``output`` and move it into place when complete: an
    interrupted export leaves no half file, and running it again starts afresh."""
    partial = output.with_name(output.name + ".partial")
    written = [0]
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            for chunk in csv_chunks(_counted(pages, written, noun)):
                file.write(chunk)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        if written[0]:
            click.echo(f"Stopped after {written[0]:,} {noun}: {output} was not written.", err=True)
        raise
    click.echo(f"{written[0]:,} {noun} written to {output}.")


def _counted(
    pages: Iterable[list[ExportRow]], written: list[int], noun: str
) -> Iterator[list[ExportRow]]:
    for rows in pages:
        yield rows
        before = written[0]
        written[0] += len(rows)
        if written[0] // PROGRESS_EVERY > before // PROGRESS_EVERY:
            click.echo(f"{written[0]:,} {noun}...", err=True)


@bp.cli.command("import-readers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only say what would change; change nothing.")
def import_readers_command(file: Path, dry_run: bool) -> None:
    """Create or update readers from a CSV file (email, name, stripe_customer_id), linking
    and reconciling each Stripe customer. Safe to run again: unchanged rows write nothing."""
    tally = ImportTally()
    with file.open("rb") as binary:
        for result in import_readers(text_lines(binary), dry_run=dry_run, gateway=gateway):
            tally.add(result)
            if isinstance(result, RowError):
                where = f", column {result.column}" if result.column else ""
                click.secho(f"line {result.line}{where}: {result.message}", fg="red", err=True)
                continue
            if result.action != "unchanged":
                details = "; ".join(result.changes)
                click.echo(f"line {result.line} {result.email}: {result.action}"
                           + (f" ({details})" if details else ""))  # fmt: skip
            for problem in result.problems:
                click.secho(f"line {result.line} {result.email}: CHECK {problem}", fg="yellow")
            if tally.rows % PROGRESS_EVERY == 0:
                click.echo(f"{tally.rows:,} rows...", err=True)
    summary = (
        f"{tally.created} created, {tally.updated} updated, {tally.unchanged} unchanged, "
        f"{tally.errors} with errors."
    )
    click.echo(f"Dry run, nothing was changed. Would be: {summary}" if dry_run else summary)
    if tally.errors:
        raise SystemExit(1)

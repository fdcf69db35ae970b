"""Importing readers from CSV: created or updated once, bad rows reported by line and
column, a dry run and a second run that change nothing (Stripe customers: see
tests/billing/test_import_subscribers.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from webtest import Upload

from paywall.accounts.models import Reader
from paywall.extensions import db
from tests.csvfiles.helpers import every_row, write_csv
from tests.factories import EditorFactory, ReaderFactory
from tests.helpers import sign_in, sign_in_client

HEADER = ["email", "name", "stripe_customer_id"]


def names() -> dict[str, str]:
    db.session.rollback()
    return dict(db.session.execute(select(Reader.email, Reader.name)).all())


def run(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["import-readers", *args])


def test_readers_are_created_once_and_a_second_run_changes_nothing(app, app_ctx, tmp_path):
    ReaderFactory(email="kept@example.com", name="Kept")
    file = write_csv(tmp_path / "in.csv", [
        HEADER, ["Ada@Example.com ", "Ada Lovelace", ""], ["kept@example.com", "Kept Renamed", ""],
    ])  # fmt: skip

    first = run(app, file)

    assert first.exit_code == 0, first.output
    assert "line 2 ada@example.com: created" in first.output
    assert "line 3 kept@example.com: updated (name: Kept -> Kept Renamed)" in first.output
    assert first.output.strip().endswith("1 created, 1 updated, 0 unchanged, 0 with errors.")
    assert names() == {"ada@example.com": "Ada Lovelace", "kept@example.com": "Kept Renamed"}
    ada = db.session.scalar(select(Reader).where(Reader.email == "ada@example.com"))
    assert ada.password_hash is None and ada.email_verified_at is None and ada.role == "reader"
    before = every_row()

    second = run(app, file)

    assert second.exit_code == 0, second.output
    assert second.output.strip() == "0 created, 0 updated, 2 unchanged, 0 with errors."
    assert every_row() == before


def test_bad_rows_are_reported_by_line_and_column_and_the_good_ones_imported(
    app, app_ctx, tmp_path
):
    ReaderFactory(email="bystander@example.com", name="Bystander")
    file = write_csv(tmp_path / "in.csv", [
        ["Email", "Name", "Stripe customer ID", "plan"],
        ["good@example.com", "Good", "", "ignored"],
        ["not-an-email", "X", "", ""],
        ["", "No Email", "", ""],
        ["bad-id@example.com", "Bad Id", "cus_bad id!", ""],
        ["good@example.com", "Again", "", ""],
        ["ctrl@example.com", "Bell\x07", "", ""],
        ["third@example.com", "Third, with a comma", "", ""],
    ])  # fmt: skip
    bystander = every_row()["readers"]

    result = run(app, file)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 3, column email: 'not-an-email' is not a valid email address.",
        "line 4, column email: The email is missing.",
        "line 5, column stripe_customer_id: 'cus_bad id!' is not a Stripe customer id (cus_...).",
        "line 6, column email: good@example.com is on line 2 already.",
        "line 7, column name: The name has control characters.",
    ]
    assert "2 created, 0 updated, 0 unchanged, 5 with errors." in result.stdout
    assert names() == {
        "bystander@example.com": "Bystander",
        "good@example.com": "Good",
        "third@example.com": "Third, with a comma",
    }
    assert [r for r in every_row()["readers"] if "bystander" in repr(r)] == bystander


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(app, app_ctx, tmp_path):
    ReaderFactory(email="kept@example.com", name="Kept")
    file = write_csv(tmp_path / "in.csv", [
        HEADER, ["new@example.com", "New", ""], ["kept@example.com", "Renamed", ""],
        ["broken", "", ""],
    ])  # fmt: skip
    before = every_row()

    result = run(app, file, "--dry-run")

    assert result.exit_code == 1
    assert "line 2 new@example.com: created" in result.stdout
    assert "line 3 kept@example.com: updated (name: Kept -> Renamed)" in result.stdout
    assert "line 4, column email" in result.stderr
    assert (
        "Dry run, nothing was changed. Would be: 1 created, 1 updated, 0 unchanged, "
        "1 with errors." in result.stdout
    )
    assert every_row() == before


def test_an_export_imports_back_with_nothing_changed(app, app_ctx, tmp_path):
    EditorFactory(email="editor@example.com", name="Editor")
    ReaderFactory(email="-dash@example.com", name='=HYPERLINK("http://evil.test")')
    ReaderFactory(email="plain@example.com", name="Plain, Reader")
    ReaderFactory(email="quiet@example.com", name="")
    exported = tmp_path / "readers.csv"
    assert app.test_cli_runner().invoke(args=["export-readers", "--output", str(exported)])
    before = every_row()

    result = run(app, str(exported))

    assert result.output.strip() == "0 created, 0 updated, 4 unchanged, 0 with errors."
    assert every_row() == before


@pytest.mark.parametrize(
    ("content", "line", "column", "message"),
    [
        (b"", 1, "", "The file is empty."),
        (b"name,stripe_customer_id\nAda,\n", 1, "email", "none is called email"),
        (b"email\nok@example.com\n\xff\xfe@example.com\n", 3, "", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_reported(app, app_ctx, tmp_path, content, line, column,
                                                message):  # fmt: skip
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    result = run(app, str(path))
    where = f", column {column}" if column else ""
    assert result.exit_code == 1
    assert result.stderr.startswith(f"line {line}{where}: ") and message in result.stderr


@pytest.fixture
def editor_web(web, app_ctx):  # type: ignore[no-untyped-def]
    EditorFactory(email="editor@example.com", name="Editor")
    sign_in(web, "editor@example.com")
    return web


CSV_UPLOAD = b"email,name\r\nfirst@example.com,First\r\nwrong,Wrong\r\n"


def test_staff_preview_an_upload_then_import_it(editor_web, app_ctx):
    page = editor_web.get("/admin/readers").click("Import readers from CSV")
    form = page.forms["import-form"]
    assert form["dry_run"].checked
    form["file"] = Upload("readers.csv", CSV_UPLOAD, "text/csv")
    before = every_row()

    preview = form.submit()

    assert preview.status_code == 200
    assert "Dry run: nothing was changed" in preview.text
    assert "1 created, 0 updated, 0 unchanged, 1 with problems" in preview.text
    errors = preview.html.select("#import-errors tbody td")
    assert [cell.text for cell in errors] == ["3", "email", "'wrong' is not a valid email address."]
    assert [td.text for td in preview.html.select("#import-rows tbody td")][:3] == [
        "2", "first@example.com", "created"
    ]  # fmt: skip
    assert every_row() == before

    form = preview.forms["import-form"]
    form["dry_run"] = False
    form["file"] = Upload("readers.csv", CSV_UPLOAD, "text/csv")
    done = form.submit()
    assert "Imported" in done.text and "1 created" in done.text
    assert names()["first@example.com"] == "First"

    form = done.forms["import-form"]
    form["dry_run"] = False
    form["file"] = Upload("readers.csv", CSV_UPLOAD, "text/csv")
    again = form.submit()
    assert "0 created, 0 updated, 1 unchanged, 1 with problems" in again.text


def test_an_upload_that_is_not_utf8_is_refused_on_the_form(editor_web, app_ctx):
    form = editor_web.get("/admin/readers/import").forms["import-form"]
    form["file"] = Upload("readers.csv", b"email\n\xff@example.com\n", "text/csv")
    answer = form.submit(status=422)
    assert "This is not UTF-8 text" in answer.text
    form = answer.forms["import-form"]
    answer = form.submit(status=422)
    assert "Choose a CSV file." in answer.text


def test_the_upload_needs_its_csrf_token(editor_web, app_ctx):
    before = every_row()
    answer = editor_web.post(
        "/admin/readers/import",
        {"dry_run": "", "file": Upload("readers.csv", CSV_UPLOAD, "text/csv")},
        status=400,
    )
    assert "first@example.com" not in answer.text
    assert every_row() == before


def test_only_staff_may_import(client, app_ctx):
    assert client.get("/admin/readers/import").status_code == 302
    sign_in_client(client, ReaderFactory(email="reader@example.com"))
    assert client.get("/admin/readers/import").status_code == 403
    answer = client.post("/admin/readers/import", data={"file": (CSV_UPLOAD, "r.csv")})
    assert answer.status_code in (400, 403)
    assert "first@example.com" not in names()

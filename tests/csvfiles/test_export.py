"""Readers and subscribers as CSV: what a publisher gets, read a page at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from billing.models import Customer, PaymentMethod, Subscription
from paywall.accounts.models import Reader, Role
from paywall.csvfiles.export import COLUMNS, EXPORT_PAGE_SIZE
from paywall.extensions import db
from tests.csvfiles.helpers import parse
from tests.factories import EditorFactory, ReaderFactory
from tests.helpers import sign_in, sign_in_client

PERIOD_END = datetime(2026, 8, 1, 12, tzinfo=UTC)


def subscribe(reader: Reader, status: str, *, canceling: bool = False) -> None:
    customer = Customer(reader_id=reader.id, stripe_customer_id=f"cus_T{reader.id}",
                        default_payment_method_id=f"pm_T{reader.id}")  # fmt: skip
    db.session.add(customer)
    db.session.flush()
    db.session.add_all([
        Subscription(stripe_subscription_id=f"sub_T{reader.id}", customer_id=customer.id,
                     plan_code="monthly", status=status, was_active=True,
                     cancel_at_period_end=canceling, current_period_end=PERIOD_END),
        PaymentMethod(stripe_payment_method_id=f"pm_T{reader.id}", customer_id=customer.id,
                      brand="visa", last4="4242", exp_month=12, exp_year=2030),
    ])  # fmt: skip
    db.session.commit()


@pytest.fixture
def editor_web(web, app_ctx):  # type: ignore[no-untyped-def]
    EditorFactory(email="editor@example.com", name="The Editor")
    sign_in(web, "editor@example.com")
    return web


def test_staff_download_every_reader_with_their_subscription(editor_web, app_ctx):
    ada = ReaderFactory(email="ada@example.com", name="Ada Lovelace")
    subscribe(ada, "active", canceling=True)
    bob = ReaderFactory(email="bob@example.com", name="Bob", email_verified_at=None)
    subscribe(bob, "past_due")
    ReaderFactory(email="cy@example.com", name="Cy")

    page = editor_web.get("/admin/readers")
    answer = page.click(description=re.compile("Download all readers"))

    assert answer.headers["Content-Disposition"].startswith('attachment; filename="readers-')
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.content_type == "text/csv"
    rows = parse(answer.text)
    assert list(rows[0]) == list(COLUMNS)
    by_email = {row["email"]: row for row in rows}
    assert [row["email"] for row in rows] == [
        "cy@example.com", "bob@example.com", "ada@example.com", "editor@example.com"
    ]  # fmt: skip
    assert by_email["ada@example.com"] == {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "verified": "yes",
        "created": by_email["ada@example.com"]["created"],
        "status": "Active (canceling)",
        "plan": "monthly",
        "current_period_end": "2026-08-01",
        "stripe_customer_id": f"cus_T{ada.id}",
    }
    assert datetime.fromisoformat(by_email["ada@example.com"]["created"]).tzinfo is not None
    assert by_email["bob@example.com"]["verified"] == "no"
    assert by_email["bob@example.com"]["status"] == "Payment failed, retrying"
    assert by_email["cy@example.com"]["status"] == by_email["cy@example.com"]["plan"] == ""
    assert by_email["cy@example.com"]["stripe_customer_id"] == ""


def test_subscribers_download_keeps_the_page_filter(editor_web, app_ctx):
    for number, status in enumerate(("active", "past_due", "active", "canceled")):
        subscribe(ReaderFactory(email=f"s{number}@example.com"), status)
    ReaderFactory(email="never-paid@example.com")

    page = editor_web.get("/admin/subscribers?status=active")
    answer = page.click(description=re.compile("Download these subscribers"))

    assert [row["email"] for row in parse(answer.text)] == ["s2@example.com", "s0@example.com"]
    everyone = parse(editor_web.get("/admin/subscribers.csv").text)
    assert {row["email"] for row in everyone} == {f"s{n}@example.com" for n in range(4)}
    assert editor_web.get("/admin/subscribers.csv?status=nonsense", status=400)
    assert editor_web.get("/admin/readers.csv?state=nonsense", status=400)


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.test")', "+1+2", "-2+3", "@SUM(A1)", "\tTabbed"]
)
def test_a_cell_a_spreadsheet_would_run_is_exported_as_text(editor_web, app_ctx, name):
    ReaderFactory(email="formula@example.com", name=name)
    rows = parse(editor_web.get("/admin/readers.csv").text)
    assert rows[0]["name"] == "'" + name
    assert rows[1]["name"] == "The Editor"  # ordinary text as it is


def test_an_email_starting_with_a_formula_sign_is_guarded_too(editor_web, app_ctx):
    ReaderFactory(email="-minus@example.com", name="Minus")
    assert parse(editor_web.get("/admin/readers.csv").text)[0]["email"] == "'-minus@example.com"


def test_the_download_is_streamed_one_bounded_page_at_a_time(client, app, app_ctx):
    readers = 2 * EXPORT_PAGE_SIZE + 5
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.execute(insert(Reader), [
        {"email": f"bulk{n:05d}@example.com", "name": f"Bulk {n}", "role": Role.READER,
         "created_at": start + timedelta(seconds=n)}
        for n in range(readers)
    ])  # fmt: skip
    db.session.commit()
    sign_in_client(client, EditorFactory(email="editor@example.com"))
    pages: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "JOIN billing_customers ON billing_customers.reader_id = readers.id" in statement:
            pages.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/admin/readers.csv")
        assert response.is_streamed
        chunks = iter(response.response)
        header, first = next(chunks), next(chunks)
        assert len(pages) == 1  # the rest is not read yet
        text = (header + first + b"".join(chunks)).decode()
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(parse(text)) == readers + 1
    assert first.decode().count("\r\n") == EXPORT_PAGE_SIZE
    assert len(pages) == 3
    for statement, parameters in pages:
        assert "LIMIT" in statement
        values = parameters.values() if isinstance(parameters, dict) else parameters
        assert EXPORT_PAGE_SIZE + 1 in list(values)  # type: ignore[call-overload]


def test_only_staff_get_the_files(client, app_ctx):
    for url in ("/admin/readers.csv", "/admin/subscribers.csv"):
        assert client.get(url).status_code == 302  # to sign in
    sign_in_client(client, ReaderFactory(email="reader@example.com"))
    for url in ("/admin/readers.csv", "/admin/subscribers.csv"):
        answer = client.get(url)
        assert answer.status_code == 403 and b"reader@example.com," not in answer.data


def test_the_command_writes_the_same_file_and_leaves_no_partial_one(
    editor_web, app, app_ctx, tmp_path
):
    for number in range(3):
        subscribe(ReaderFactory(email=f"c{number}@example.com", name=f"C {number}"), "active")
    output = tmp_path / "readers.csv"

    result = app.test_cli_runner().invoke(args=["export-readers", "--output", str(output)])

    assert result.exit_code == 0, result.output
    assert "4 readers written to" in result.output
    assert output.read_bytes().decode() == editor_web.get("/admin/readers.csv").text
    assert [p.name for p in tmp_path.iterdir()] == ["readers.csv"]
    subscribers = tmp_path / "subscribers.csv"
    result = app.test_cli_runner().invoke(
        args=["export-subscribers", "--output", str(subscribers), "--status", "active"]
    )
    assert result.exit_code == 0, result.output
    assert [row["email"] for row in parse(subscribers.read_text())] == [
        "c2@example.com", "c1@example.com", "c0@example.com"
    ]  # fmt: skip

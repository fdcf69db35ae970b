"""Importing subscribers who already pay through Stripe: each CSV row's customer is linked
to its reader and their subscription and card copied from Stripe (the emulator); a second
run changes nothing, a bad row is reported, and no one else is touched."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from webtest import TestApp

from billing.models import Customer, Plan, Subscription
from paywall.accounts.models import Reader
from paywall.extensions import db
from tests.billing.emulated import VISA
from tests.csvfiles.helpers import every_row, parse, write_csv
from tests.factories import SECRET, ReaderFactory
from tests.helpers import path_of


def paying_customer(billing_app, email: str, *, plan: str | None = "monthly") -> str:  # type: ignore[no-untyped-def]
    """A customer made in Stripe outside the paywall, with a card and (``plan``) an
    active subscription; its id."""
    side = _side(billing_app)
    customer = side.post("/v1/customers", {"email": email})
    side.add_default_card(customer["id"], VISA)
    if plan is not None:
        price = billing_app.query(
            lambda session: session.scalar(select(Plan.stripe_plan_id).where(Plan.code == plan))
        )
        subscription = side.post(
            "/v1/subscriptions", {"customer": customer["id"], "items": [{"price": price}]}
        )
        assert subscription["status"] == "active"
    return str(customer["id"])


def _side(billing_app):  # type: ignore[no-untyped-def]
    from tests.billing.emulated import StripeSide

    return StripeSide(billing_app.emulator.api_base)


def bystander(billing_app) -> None:  # type: ignore[no-untyped-def]
    """A subscriber already here, not in the file."""
    with billing_app.twin.app_context():
        reader = ReaderFactory(email="bystander@example.com", name="Bystander")
        customer = Customer(reader_id=reader.id, stripe_customer_id="cus_Bystander")
        db.session.add(customer)
        db.session.flush()
        db.session.add(Subscription(
            stripe_subscription_id="sub_Bystander", customer_id=customer.id, plan_code="monthly",
            status="active", was_active=True, current_period_end=datetime(2030, 1, 1, tzinfo=UTC),
        ))  # fmt: skip
        db.session.commit()


def import_file(billing_app, path: str, *extra: str):  # type: ignore[no-untyped-def]
    return billing_app.app.test_cli_runner().invoke(args=["import-readers", path, *extra])


def table_rows(billing_app):  # type: ignore[no-untyped-def]
    with billing_app.twin.app_context():
        return every_row()


def test_existing_stripe_subscribers_are_imported_once_and_no_one_else_touched(
    billing_app, tmp_path
):
    bystander(billing_app)
    ada = paying_customer(billing_app, "ada@example.com")
    bob = paying_customer(billing_app, "bob@example.com", plan=None)
    billing_app.emulator.let_deliveries_pass()
    file = write_csv(tmp_path / "subscribers.csv", [
        ["email", "name", "stripe_customer_id"],
        ["ada@example.com", "Ada", ada],
        ["bob@example.com", "Bob", bob],
        ["carl@example.com", "Carl", "cus_NoSuchCustomer"],
        ["dora@example.com", "Dora", ada],
    ])  # fmt: skip
    before = table_rows(billing_app)

    first = import_file(billing_app, file)

    assert first.exit_code == 1
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"line 2 ada@example.com: created (linked to Stripe customer {ada}")
    assert "subscription sub_" in lines[0] and "absent -> active" in lines[0]
    assert lines[1].startswith(f"line 3 bob@example.com: created (linked to Stripe customer {bob}")
    errors = first.stderr.splitlines()
    assert errors[0].startswith(
        "line 4, column stripe_customer_id: Stripe refused the customer cus_NoSuchCustomer: "
    )
    assert errors[1:] == [
        f"line 5, column stripe_customer_id: Stripe customer {ada} belongs to another reader here."
    ]
    assert lines[-1] == "2 created, 0 updated, 0 unchanged, 2 with errors."

    # The publisher sees Ada as a paying subscriber, with her plan and card.
    exported = tmp_path / "export.csv"
    result = billing_app.app.test_cli_runner().invoke(
        args=["export-subscribers", "--output", str(exported)]
    )
    assert result.exit_code == 0, result.output
    rows = {row["email"]: row for row in parse(exported.read_bytes().decode())}
    assert set(rows) == {"ada@example.com", "bystander@example.com"}
    assert (rows["ada@example.com"]["status"], rows["ada@example.com"]["plan"]) == (
        "Active", "Monthly"
    )  # fmt: skip
    assert rows["ada@example.com"]["stripe_customer_id"] == ada
    cards = billing_app.query(lambda session: session.execute(
        select(Reader.email, Customer.default_payment_method_id)
        .join(Customer, Customer.reader_id == Reader.id).order_by(Reader.email)
    ).all())  # fmt: skip
    assert [email for email, card in cards if card] == ["ada@example.com", "bob@example.com"]

    # No one else: only Ada's and Bob's rows are new; Carl and Dora were not created.
    after = table_rows(billing_app)
    assert {table for table in after if after[table] != before[table]} == {
        "readers", "billing_customers", "billing_subscriptions", "billing_payment_methods",
        "billing_invoices",
    }  # fmt: skip
    for table, rows_before in before.items():
        assert all(row in after[table] for row in rows_before), table
    emails = {row[1] for row in after["readers"]}
    assert emails == {"bystander@example.com", "ada@example.com", "bob@example.com"}

    second = import_file(billing_app, file)

    assert second.stdout.splitlines() == ["0 created, 0 updated, 2 unchanged, 2 with errors."]
    assert second.stderr == first.stderr
    assert table_rows(billing_app) == after


def test_a_dry_run_shows_the_subscription_it_would_copy_and_changes_nothing(billing_app, tmp_path):
    erin = paying_customer(billing_app, "erin@example.com", plan="yearly")
    billing_app.emulator.let_deliveries_pass()
    file = write_csv(tmp_path / "one.csv", [["email", "stripe_customer_id"],
                                            ["erin@example.com", erin]])  # fmt: skip
    before = table_rows(billing_app)

    result = import_file(billing_app, file, "--dry-run")

    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"line 2 erin@example.com: created (linked to Stripe customer {erin}")
    assert "absent -> active" in line and "card pm_" in line
    assert result.stdout.splitlines()[-1] == (
        "Dry run, nothing was changed. Would be: 1 created, 0 updated, 0 unchanged, 0 with errors."
    )
    assert table_rows(billing_app) == before


def test_an_imported_subscriber_signs_in_by_emailed_link_and_reads_in_full(
    billing_app, tmp_path, mailbox
):
    fay = paying_customer(billing_app, "fay@example.com")
    billing_app.emulator.let_deliveries_pass()
    slug = billing_app.article()
    file = write_csv(tmp_path / "one.csv", [["email", "name", "stripe_customer_id"],
                                            ["fay@example.com", "Fay", fay]])  # fmt: skip
    assert import_file(billing_app, file).exit_code == 0

    web = TestApp(billing_app.app)
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = "fay@example.com"
    form.submit()
    confirm = web.get(path_of(mailbox.link_to("fay@example.com", "/signin/link/")))
    confirm.forms["confirm-link-form"].submit()

    assert SECRET in web.get(f"/articles/{slug}").text

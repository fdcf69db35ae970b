"""The publisher's pages: plans synced to Stripe, subscribers and revenue, comped readers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from billing.models import Customer, Plan
from paywall.billing.support import gateway
from tests.factories import SECRET, AdminFactory
from tests.helpers import sign_in, text


def admin_browser(billing_app):
    from webtest import TestApp

    with billing_app.twin.app_context():
        admin = AdminFactory()
        email = admin.email
    web = TestApp(billing_app.app)
    sign_in(web, email)
    return web


def test_an_admin_adds_a_plan_and_it_is_on_sale_through_stripe(billing_app, stripe_side):
    web = admin_browser(billing_app)
    page = web.get("/admin/plans")
    form = page.forms["plan-form"]
    form["code"] = "student"
    form["name"] = "Student"
    form["tier"] = "standard"
    form["amount"] = "4.50"
    form["interval"] = "month"
    done = form.submit().follow()

    assert "in sync with Stripe" in text(done)
    with billing_app.twin.app_context():  # this installation's prefix, from its address
        plan_id = f"{gateway().id_prefix}_student_450usd_month"
    assert plan_id in done.text
    plan = stripe_side.get(f"/v1/plans/{plan_id}")
    assert plan["amount"] == 450 and plan["metadata"]["paywall_plan"] == "student"
    reader = billing_app.subscriber()
    assert "$4.50 / month" in text(reader.web.get("/subscribe"))


def test_a_bad_plan_shows_field_errors_and_changes_nothing(billing_app):
    web = admin_browser(billing_app)
    plans_before = billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Plan)))
    form = web.get("/admin/plans").forms["plan-form"]
    form["code"] = "Not A Code!"
    form["name"] = ""
    form["amount"] = "-3"
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert response.html.select(".field--error")
    assert billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Plan))) == (
        plans_before
    )


def test_subscribers_page_shows_each_subscriber_and_the_recurring_revenue(billing_app):
    monthly, yearly = billing_app.subscriber(), billing_app.subscriber()
    monthly.subscribe("monthly")
    yearly.subscribe("yearly")
    page = admin_browser(billing_app).get("/admin/subscribers")
    shown = text(page)
    assert monthly.email in shown and yearly.email in shown
    assert "visa 4242" in shown
    # $9.00 a month plus $90.00 a year (= $7.50 a month)
    assert page.html.select_one("#mrr").text.strip() == "16.50 USD"
    assert page.html.select_one("#collected").text.strip() == "99.00 USD"


def test_readers_cannot_see_the_publisher_pages(billing_app):
    reader = billing_app.subscriber()
    for path in ("/admin/subscribers", "/admin/plans"):
        assert reader.web.get(path, expect_errors=True).status_int == 403


def test_a_comped_reader_reads_paid_articles_without_stripe_until_the_comp_ends(billing_app):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    web = admin_browser(billing_app)
    form = web.get("/admin/subscribers").forms["comp-form"]
    form["email"] = reader.email
    form["until"] = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    done = form.submit().follow()
    assert f"{reader.email} now reads everything for free" in text(done)

    article = reader.read(slug)
    assert SECRET in article.text
    assert billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Customer))) == 0

    ending = web.get("/admin/subscribers")
    next(f for key, f in ending.forms.items() if str(key).startswith("revoke-")).submit()
    assert SECRET not in reader.read(slug).text


def test_a_comp_for_an_unknown_email_is_refused(billing_app):
    web = admin_browser(billing_app)
    form = web.get("/admin/subscribers").forms["comp-form"]
    form["email"] = "nobody@example.com"
    assert "No reader has that email" in text(form.submit().follow())


def _add_plan(web, amount: str, **fields: str):  # type: ignore[no-untyped-def]
    form = web.get("/admin/plans").forms["plan-form"]
    form["code"], form["name"], form["tier"], form["amount"] = (
        "student",
        "Student",
        "standard",
        amount,
    )
    for name, value in fields.items():
        form[name] = value
    return form.submit(expect_errors=True)


def test_a_price_with_a_fraction_of_a_cent_is_refused_not_rounded(billing_app):
    web = admin_browser(billing_app)
    for amount in ("9.999", "4.505", "sNaN", "Infinity"):
        response = _add_plan(web, amount)
        assert response.status_int == 422, amount
        errors = response.html.select_one("#amount-errors").text
        assert "decimal places" in errors or "Enter a price" in errors, amount
    assert billing_app.query(lambda s: s.scalar(select(Plan).where(Plan.code == "student"))) is None
    assert _add_plan(web, "9.990").status_int == 302  # trailing zeros are exact
    plan = billing_app.query(lambda s: s.scalar(select(Plan).where(Plan.code == "student")))
    assert plan.amount == 999


def test_adding_changing_and_syncing_a_plan_are_each_logged_once(billing_app):
    from paywall.audit.models import AuditEvent

    web = admin_browser(billing_app)
    _add_plan(web, "4.50").follow()
    _add_plan(web, "5.00").follow()
    _add_plan(web, "5.00").follow()  # no change: nothing to log
    logged = billing_app.query(
        lambda s: [
            (e.action, e.subject, e.before, e.after, e.actor_email)
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    )
    with billing_app.twin.app_context():
        prefix = gateway().id_prefix
    first, second = f"{prefix}_student_450usd_month", f"{prefix}_student_500usd_month"
    actions = [(action, subject) for action, subject, *_ in logged]
    assert actions == [
        ("plan.create", "plan student"),
        ("plan.sync", "plan student"),
        ("plan.update", "plan student"),
        ("plan.sync", "plan student"),
    ]
    created, synced, changed, resynced = logged
    assert created[2] is None and created[3]["amount"] == 450 and created[3]["tier"] == "standard"
    assert (synced[2], synced[3]) == ({"stripe_plan_id": None}, {"stripe_plan_id": first})
    assert (changed[2]["amount"], changed[3]["amount"]) == (450, 500)
    assert (resynced[2], resynced[3]) == ({"stripe_plan_id": first}, {"stripe_plan_id": second})
    assert all(email.endswith("@example.com") for *_, email in logged)


def test_revenue_figures_kept_between_views_move_when_a_subscription_is_paid(billing_app):
    web = admin_browser(billing_app)
    billing_app.subscriber().subscribe("monthly")
    assert web.get("/admin/subscribers").html.select_one("#collected").text.strip() == "9.00 USD"
    assert web.get("/admin").html.select_one("#active-subscribers").text == "1"

    billing_app.subscriber().subscribe("monthly")  # the figures above are kept until now

    page = web.get("/admin/subscribers")
    assert page.html.select_one("#collected").text.strip() == "18.00 USD"
    assert page.html.select_one("#mrr").text.strip() == "18.00 USD"
    assert web.get("/admin").html.select_one("#active-subscribers").text == "2"

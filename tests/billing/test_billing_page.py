"""The billing page in every state: the words a reader reads, what comes first, and the
cancel and resubscribe steps, against the Stripe emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from billing.catalog import PlanInput, save_plan, sync_catalog
from billing.models import Subscription
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.emulated import wait_for
from tests.billing.test_renewal_and_card import age_the_failure, lapse
from tests.billing.test_stuck_payers import settled, subscribed
from tests.billing.test_subscribe import snapshot_of
from tests.helpers import text


def status_words(page) -> str:  # type: ignore[no-untyped-def]
    return page.html.select_one("#subscription-status").text.strip()


def state_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.html.select_one("#subscription")["data-state"]


def main_actions(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The labels of the subscription panel's buttons, in order."""
    found = page.html.select("#subscription .button")
    return [" ".join(button.text.split()) for button in found]


def test_an_active_subscriber_reads_active_with_the_next_renewal_and_cancel_aside(billing_app):
    reader, _, _ = subscribed(billing_app)
    page = reader.billing_page()
    assert (state_of(page), status_words(page)) == ("active", "Active")
    assert page.html.select_one("#next-renewal") is not None
    assert main_actions(page) == []  # nothing to fix; cancel is its own quiet section
    assert page.html.select_one("#cancel-link")["class"] == [
        "button", "button--secondary", "button--danger"
    ]  # fmt: skip


def test_a_trial_reads_free_trial_with_its_end(billing_app):
    with billing_app.twin.app_context():
        save_plan(
            db.session,
            PlanInput(code="tryout", name="Try-out", tier="standard", amount=500, trial_days=14),
        )
        sync_catalog(db.session, gateway())
    reader, _, _ = subscribed(billing_app, plan="tryout")
    page = reader.billing_page()
    assert (state_of(page), status_words(page)) == ("trialing", "Free trial")
    ends = datetime.now(UTC) + timedelta(days=14)
    assert page.html.select_one("#trial-ends").text in {
        f"{ends:%-d %B %Y}",
        f"{ends - timedelta(days=1):%-d %B %Y}",
    }


def test_past_due_in_grace_shows_the_amount_and_pay_now_first(billing_app, stripe_side):
    reader = billing_app.subscriber()
    lapse(billing_app, stripe_side, reader)
    age_the_failure(billing_app, days=-7)  # back inside the grace period (failed a day ago)
    page = reader.billing_page()
    assert state_of(page) == "overdue"
    assert status_words(page).startswith("Payment overdue: you can read until ")
    assert page.html.select_one("#overdue-amount").text == "$9.00"
    assert main_actions(page)[0] == "Pay $9.00 with a new card"
    assert page.html.select_one("#next-renewal") is None


def test_lapsed_shows_what_is_owed_first_and_never_cancel_as_the_main_action(
    billing_app, stripe_side
):
    reader = billing_app.subscriber()
    lapse(billing_app, stripe_side, reader)
    page = reader.billing_page()
    assert (state_of(page), status_words(page)) == ("lapsed", "Payment overdue: reading is paused")
    assert "past_due" not in text(page).replace('data-status="past_due"', "")
    assert main_actions(page) == ["Pay $9.00 with a new card"]
    assert page.html.select_one("#next-renewal") is None
    # The overdue block comes before the plan details and the quiet cancel section.
    body = page.text
    assert body.index("overdue-amount") < body.index("plan-name") < body.index("cancel-link")


def test_cancel_asks_first_with_the_day_access_ends_and_keeps_the_reason(billing_app):
    reader, _, _ = subscribed(billing_app)
    period_end = snapshot_of(billing_app, reader.email)[0].current_period_end
    confirm = reader.web.get(reader.billing_page().html.select_one("#cancel-link")["href"])
    ends = " ".join(confirm.html.select_one("#access-ends").text.split())
    assert ends.startswith(f"You keep reading until {period_end:%-d %B %Y}.")
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False  # GET

    # Without the form's token nothing changes.
    refused = reader.web.post("/account/billing/cancel", {"reason": "unused"}, expect_errors=True)
    assert refused.status_int == 400
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False

    # A reason that is not on the list is a field error, and changes nothing.
    form = confirm.forms["cancel-form"]
    form["reason"].force_value("cheaper-elsewhere")
    bad = form.submit(expect_errors=True)
    assert bad.status_int == 422
    assert bad.html.select_one("#error-summary[role=alert]") is not None
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False

    done = reader.cancel(reason="too_expensive", comment="Back when the budget allows.\nThanks")
    assert done.status_int == 302
    page = done.follow()
    assert f"Your subscription will end on {period_end:%-d %B %Y}" in text(page)
    assert (state_of(page), status_words(page)) == (
        "canceling", f"Canceled: you can read until {period_end:%-d %B %Y}"
    )  # fmt: skip
    assert main_actions(page) == ["Resume subscription"]
    assert page.html.select_one("#cancel-link") is None

    def kept(session):  # type: ignore[no-untyped-def]
        row = session.scalars(select(Subscription)).one()
        return row.cancel_reason, row.cancel_comment

    assert billing_app.query(kept) == ("too_expensive", "Back when the budget allows.\nThanks")


def test_an_ended_subscription_resubscribes_with_the_card_on_file_in_one_click(
    billing_app, stripe_side
):
    reader, customer_id, subscription_id = subscribed(billing_app)
    with billing_app.twin.app_context():
        gateway().cancel_subscription_now(subscription_id)
    settled(billing_app, reader.email, status="canceled")

    page = reader.billing_page()
    assert state_of(page) == "ended" and status_words(page).startswith("Ended")
    assert main_actions(page) == ["Resubscribe to Monthly for $9.00 / month"]
    assert "Visa ending 4242" in text(page.html.select_one("#resubscribe-card"))
    form = page.forms["resubscribe-form"]
    form.submit()
    again = form.submit()  # a double click: the same form posted twice
    told = text(again.follow())
    assert "Welcome back" in told and "already have a subscription" in told

    def live(session):  # type: ignore[no-untyped-def]
        return session.scalars(select(Subscription.status)).all()

    wait_for(lambda: sorted(billing_app.query(live)) == ["active", "canceled"])
    at_stripe = stripe_side.get(f"/v1/subscriptions?customer={customer_id}&status=all")["data"]
    assert sorted(s["status"] for s in at_stripe) == ["active", "canceled"]
    assert (state_of(reader.billing_page()), status_words(reader.billing_page())) == (
        "active", "Active"
    )  # fmt: skip


def test_a_comped_reader_reads_complimentary_access_until_its_end(billing_app):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    reader = billing_app.subscriber(is_comped=True, comped_until=until)
    page = reader.billing_page()
    comped = " ".join(page.html.select_one("#comped").text.split())
    assert f"complimentary access until {until:%-d %B %Y}" in comped
    assert "You don't have a subscription" not in text(page)
    assert state_of(page) == "none"

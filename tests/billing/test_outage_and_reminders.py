"""Stripe down: reading goes on from local state, billing pages say "try again".
Also: the reading path never calls Stripe, and expiring-card reminders go out once a month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from billing.models import PaymentMethod
from paywall.billing.support import gateway
from tests.billing.conftest import LiveBilling, put_plans_on_sale, start_stand_in, stripe_settings
from tests.billing.emulated import let_stripe_catch_up
from tests.conftest import free_port
from tests.factories import SECRET
from tests.helpers import text
from tests.live import serving


@pytest.fixture
def doomed_billing(make_app, mailbox, tmp_path):
    """A billing app on an emulator of its own, which the test may stop."""
    emulator = start_stand_in(tmp_path / "doomed-localstripe.log")
    settings = stripe_settings(emulator, "whsec_doomed")
    app, twin = make_app(**settings), make_app(**settings)
    with serving(app, "127.0.0.1", free_port()) as url:
        put_plans_on_sale(app)
        try:
            yield LiveBilling(app, twin, url, "whsec_doomed", emulator)
        finally:
            emulator.stop()


def test_with_stripe_down_articles_still_open_and_billing_pages_ask_to_try_again(doomed_billing):
    slug = doomed_billing.article()
    reader = doomed_billing.subscriber()
    reader.subscribe("monthly")
    before = reader.billing_page().text

    doomed_billing.emulator.stop()

    assert SECRET in reader.read(slug).text  # decided from local state
    for path in ("/account/billing/card", "/subscribe/monthly"):
        page = reader.web.get(path, expect_errors=True)
        assert page.status_int == 503
        assert "We can't reach our payment service" in text(page)
        assert "Try again" in text(page)
    canceled = reader.web.post(
        "/account/billing/cancel",
        {"csrf_token": reader.billing_page().html.select_one('input[name="csrf_token"]')["value"]},
        expect_errors=True,
    )
    assert canceled.status_int == 503
    # Nothing lost or changed: the account page still shows the same subscription.
    after = reader.billing_page()
    assert after.html.select_one("#subscription-status")["data-status"] == "active"
    assert "Cancel subscription" in after.text and "Cancel subscription" in before
    assert SECRET in reader.read(slug).text


def test_the_reading_path_makes_no_stripe_calls(billing_app):
    slug = billing_app.article()
    free = billing_app.article(access_level="free")
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    let_stripe_catch_up()  # the subscription's webhooks (re-read from Stripe) come first
    with billing_app.app.app_context():
        stripe = gateway()
    calls = stripe.calls
    for _ in range(5):
        assert SECRET in reader.read(slug).text
        reader.read(free)
        reader.web.get("/")
    assert stripe.calls == calls


def test_card_expiry_reminders_go_out_once_a_month(billing_app, mailbox):
    reader = billing_app.subscriber()
    this_month = datetime.now(UTC)
    reader.subscribe("monthly", exp=(this_month.month, this_month.year))
    runner = billing_app.app.test_cli_runner()

    first = runner.invoke(args=["send-card-reminders"])
    assert first.exit_code == 0, first.output
    assert "1 reminders sent" in first.output
    message = mailbox.last_to(reader.email)
    assert "ending 4242" in message["Subject"]
    assert "/account/billing/card" in mailbox.text_of(message)

    again = runner.invoke(args=["send-card-reminders"])
    assert "0 reminders sent" in again.output
    assert len(mailbox.to(reader.email)) == 1
    month = billing_app.query(lambda s: s.scalar(select(PaymentMethod.expiry_reminder_sent_for)))
    assert month == this_month.strftime("%Y-%m")

    page = reader.billing_page()
    assert page.html.select_one("#card-expires-soon") is not None


def test_a_card_valid_past_the_renewal_gets_no_reminder(billing_app, mailbox):
    reader = billing_app.subscriber()
    reader.subscribe("monthly")  # expires 12/2030
    result = billing_app.app.test_cli_runner().invoke(args=["send-card-reminders"])
    assert "0 reminders sent" in result.output
    assert mailbox.to(reader.email) == []


def test_workers_keep_billing_snapshots_but_a_subscription_shows_on_every_worker_at_once(
    make_app, emulator, mailbox
):
    """Two workers keep snapshots; subscribing on one opens the article on the other on
    the next request, for every session of the reader."""
    from webtest import TestApp

    from tests.billing.actors import Subscriber
    from tests.billing.emulated import StripeSide
    from tests.helpers import sign_in

    settings = stripe_settings(emulator, "whsec_workers")
    worker_a, worker_b = make_app(**settings), make_app(**settings)
    put_plans_on_sale(worker_a)
    with worker_a.app_context():
        from tests.factories import ArticleFactory, ReaderFactory

        slug = ArticleFactory().slug
        email = ReaderFactory().email
    reader = Subscriber(TestApp(worker_a), StripeSide(emulator.api_base), email)
    reader.sign_in()
    other_session = TestApp(worker_b)
    sign_in(other_session, email)

    on_b = TestApp(worker_b, cookiejar=reader.web.cookiejar)
    assert SECRET not in on_b.get(f"/articles/{slug}").text  # B keeps "no subscription"
    assert SECRET not in other_session.get(f"/articles/{slug}").text

    assert reader.subscribe("monthly").status_int == 302  # on worker A
    assert SECRET in other_session.get(f"/articles/{slug}").text  # B: the next request
    assert SECRET in on_b.get(f"/articles/{slug}").text

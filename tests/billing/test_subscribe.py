"""Subscribing through the real pages, against the Stripe emulator."""

from __future__ import annotations

from sqlalchemy import select

from billing.models import Customer, Subscription, WebhookEvent
from billing.state import snapshots_for_reader
from paywall.accounts.models import Reader
from tests.billing.emulated import ALWAYS_AUTHENTICATE, DECLINED_ON_CHARGE, wait_for
from tests.factories import SECRET
from tests.helpers import text


def reader_id(session, email):
    return session.scalar(select(Reader.id).where(Reader.email == email))


def snapshot_of(live, email):
    return live.query(lambda s: snapshots_for_reader(s, reader_id(s, email)))


def gate_reason(page) -> str | None:
    return (
        page.html.select_one("#paywall-gate")["data-reason"]
        if page.html.select_one("#paywall-gate")
        else None
    )


def test_subscriber_reads_the_article_at_once_without_waiting_for_a_webhook(billing_app):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    gated = reader.read(slug)
    assert gate_reason(gated) == "no_subscription"
    assert SECRET not in gated.text
    subscribe_link = gated.html.select_one('[data-action="subscribe"]')["href"]
    assert subscribe_link.startswith("/subscribe?next=")

    plans = reader.web.get(subscribe_link)
    assert "Monthly" in plans.text and "$9.00 / month" in text(plans)
    done = reader.subscribe("monthly", next=f"/articles/{slug}")

    assert done.status_int == 302
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    article = done.follow()
    assert SECRET in article.text  # decided from the state written from the API response
    assert gate_reason(article) is None
    # ... and the webhooks that follow agree with it.
    wait_for(lambda: billing_app.query(lambda s: s.scalar(
        select(WebhookEvent.id).where(WebhookEvent.type == "invoice.payment_succeeded")
    )))  # fmt: skip
    assert snapshot_of(billing_app, reader.email)[0].status == "active"
    assert SECRET in reader.read(slug).text


def test_account_page_shows_plan_card_renewal_and_invoice(billing_app):
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    page = reader.billing_page()
    shown = text(page)
    assert page.html.select_one("#plan-name").text.startswith("Monthly")
    assert page.html.select_one("#subscription-status")["data-status"] == "active"
    assert "Visa ending 4242, expires 12/30" in " ".join(
        page.html.select_one("#card-summary").text.split()
    )
    assert page.html.select_one("#next-renewal") is not None
    invoices = page.html.select("#invoices tbody tr")
    assert [row["data-status"] for row in invoices] == ["paid"]
    assert "$9.00" in shown


def test_declined_card_shows_the_reason_and_leaves_no_subscription(billing_app, stripe_side):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    response = reader.subscribe("monthly", card=DECLINED_ON_CHARGE)

    assert response.status_int == 422
    assert "declined" in text(response).lower()
    assert "No payment was taken" in text(response)
    # Nothing half-made: no live subscription in Stripe, none locally, no card kept.
    subscription, card = snapshot_of(billing_app, reader.email)
    assert subscription is None and card is None
    rows = billing_app.query(lambda s: s.scalars(select(Subscription)).all())
    assert all(row.status in ("canceled", "incomplete_expired") for row in rows)
    customer_id = billing_app.query(lambda s: s.scalar(select(Customer.stripe_customer_id)))
    assert stripe_side.get(f"/v1/subscriptions?customer={customer_id}")["data"] == []
    # The reader is told to subscribe, not that a subscription ended.
    assert gate_reason(reader.read(slug)) == "no_subscription"
    # ... and can subscribe with a good card straight away.
    assert reader.subscribe("monthly").status_int == 302
    assert SECRET in reader.read(slug).text


def test_card_needing_3d_secure_waits_for_confirmation_then_opens(billing_app, stripe_side):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    response = reader.subscribe("monthly", card=ALWAYS_AUTHENTICATE, next=f"/articles/{slug}")

    assert response.status_int == 302
    assert "/account/billing/confirm" in response.headers["Location"]
    gated = reader.read(slug)
    assert gate_reason(gated) == "payment_incomplete"
    assert SECRET not in gated.text
    assert gated.html.select_one('[data-action="confirm_payment"]') is not None

    confirm = response.follow()
    client_secret = confirm.html.select_one("#confirm-form")["data-client-secret"]
    stripe_side.authenticate_payment(client_secret, success=True)  # the reader passes 3-D Secure
    done = confirm.forms["confirm-form"].submit()
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    assert SECRET in done.follow().text


def test_a_reader_with_a_live_subscription_cannot_buy_a_second(billing_app):
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    assert reader.web.get("/subscribe").headers["Location"].endswith("/account/billing")
    again = reader.subscribe("yearly")
    assert again.status_int == 302 and again.headers["Location"].endswith("/account/billing")
    assert "already have a subscription" in text(again.follow())
    rows = billing_app.query(lambda s: s.scalars(select(Subscription)).all())
    assert len(rows) == 1


def test_without_an_account_the_checkout_asks_for_an_email_with_the_card(billing_app):
    from webtest import TestApp

    anonymous = TestApp(billing_app.app)
    page = anonymous.get("/subscribe/monthly")
    assert page.status_int == 200
    assert "email" in page.forms["card-form"].fields

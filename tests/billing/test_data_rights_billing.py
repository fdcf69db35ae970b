"""A subscriber's data rights against the Stripe emulator: deleting the account cancels
the subscription at Stripe and keeps the invoices; a new email reaches Stripe; the data
download holds their own billing only."""

from __future__ import annotations

import json

from sqlalchemy import select

from billing.models import Customer, Invoice, PaymentMethod, Subscription, WebhookEvent
from paywall.accounts.models import Reader
from tests.billing.emulated import wait_for
from tests.helpers import path_of, sign_in, text


def customer_of(session, email):  # type: ignore[no-untyped-def]
    reader_id = session.scalar(select(Reader.id).where(Reader.email == email))
    return session.scalar(select(Customer).where(Customer.reader_id == reader_id))


def test_deleting_a_subscribers_account_cancels_at_stripe_and_keeps_the_invoices(billing_app):
    reader = billing_app.subscriber("sub@example.com")
    assert reader.subscribe("monthly").status_int == 302
    customer_id, reader_id = billing_app.query(
        lambda s: (
            customer_of(s, reader.email).stripe_customer_id,
            customer_of(s, reader.email).reader_id,
        )
    )
    subscription_id = billing_app.query(
        lambda s: s.scalar(select(Subscription.stripe_subscription_id))
    )
    invoices_before = billing_app.query(
        lambda s: s.scalars(select(Invoice.stripe_invoice_id)).all()
    )
    assert invoices_before

    page = reader.web.get("/account/delete")
    assert "ends at once" in text(page)
    form = page.forms["delete-account-form"]
    form["confirmation"] = reader.email
    done = form.submit()
    assert "Your subscription has ended" in text(done.follow())

    at_stripe = reader.stripe.get(f"/v1/subscriptions/{subscription_id}")
    assert at_stripe["status"] == "canceled"
    assert reader.stripe.get(f"/v1/customers/{customer_id}")["email"] in ("", None)
    cards = reader.stripe.get(f"/v1/payment_methods?customer={customer_id}&type=card")
    assert cards["data"] == []

    def kept(session):  # type: ignore[no-untyped-def]
        row = session.get(Reader, reader_id)
        customer = session.scalar(select(Customer).where(Customer.reader_id == reader_id))
        return {
            "reader_email": row.email,
            "customer_email": customer.email,
            "invoices": session.scalars(select(Invoice.stripe_invoice_id)).all(),
            "cards": session.scalars(select(PaymentMethod.id)).all(),
            "status": session.scalar(select(Subscription.status)),
        }

    after = billing_app.query(kept)
    assert after["reader_email"].endswith("@deleted.invalid")
    assert after["customer_email"] == "" and after["cards"] == []
    assert sorted(after["invoices"]) == sorted(invoices_before)  # accounting keeps them
    assert after["status"] == "canceled"
    # Stripe's own event about the cancellation is applied to the kept, anonymous rows.
    wait_for(lambda: billing_app.query(lambda s: s.scalar(
        select(WebhookEvent.applied_at).where(WebhookEvent.type == "customer.subscription.deleted")
    )))  # fmt: skip
    assert sign_in(reader.web, "sub@example.com").status_int == 200  # cannot sign in


def test_a_confirmed_new_email_reaches_the_stripe_customer(billing_app, mailbox):
    reader = billing_app.subscriber("old@example.com")
    reader.subscribe("monthly")
    customer_id = billing_app.query(lambda s: customer_of(s, reader.email).stripe_customer_id)
    form = reader.web.get("/account").forms["change-email-form"]
    form["change-email-new_email"] = "moved@example.com"
    form["change-email-current_password"] = "correct horse battery"
    form.submit()
    assert reader.stripe.get(f"/v1/customers/{customer_id}")["email"] == "old@example.com"

    link = path_of(mailbox.link_to("moved@example.com", "/account/email/confirm/"))
    reader.web.get(link).forms["confirm-email-change-form"].submit()
    wait_for(
        lambda: reader.stripe.get(f"/v1/customers/{customer_id}")["email"] == "moved@example.com"
    )
    assert (
        billing_app.query(lambda s: customer_of(s, "moved@example.com").email)
        == "moved@example.com"
    )


def test_my_data_holds_my_billing_and_no_one_elses(billing_app):
    ann = billing_app.subscriber("ann@example.com", name="Ann Example")
    bob = billing_app.subscriber("bob@example.com", name="Bob Other")
    ann.subscribe("monthly", exp=(11, 2031))
    bob.subscribe("yearly")
    bobs = billing_app.query(
        lambda s: (
            customer_of(s, bob.email).stripe_customer_id,
            s.scalars(
                select(Invoice.stripe_invoice_id).where(
                    Invoice.customer_id == customer_of(s, bob.email).id
                )
            ).all(),
        )
    )

    download = ann.web.get("/account/data")
    data = json.loads(download.text)
    assert data["customer"]["email"] == "ann@example.com"
    assert [s["plan"] for s in data["subscriptions"]] == ["monthly"]
    assert data["invoices"] and all(i["amount_paid"] == 900 for i in data["invoices"])
    assert data["cards"] == [{"brand": "visa", "last4": "4242", "exp_month": 11, "exp_year": 2031}]
    bob_customer, bob_invoices = bobs
    for secret in [bob_customer, *bob_invoices, "bob@example.com", "Bob Other"]:
        assert secret not in download.text
    assert "pm_" not in download.text  # a card is its summary, not its Stripe id

"""A failed renewal, the grace period, the lapsed gate and the card update that ends it.

Everything Stripe says arrives as real signed webhooks from the emulator process.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from billing.models import Invoice, Subscription
from tests.billing.emulated import let_stripe_catch_up, wait_for
from tests.billing.test_subscribe import gate_reason, snapshot_of
from tests.factories import SECRET
from tests.helpers import text


def stripe_ids(live, email):
    from billing.models import Customer
    from paywall.accounts.models import Reader

    def find(session):
        return session.execute(
            select(Customer.stripe_customer_id, Subscription.stripe_subscription_id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .join(Reader, Reader.id == Customer.reader_id)
            .where(Reader.email == email)
        ).one()

    return live.query(find)


def status_of(live, email) -> str:
    subscription = snapshot_of(live, email)[0]
    return subscription.status if subscription else "none"


def age_the_failure(live, days: int) -> None:
    """Time passes: the failed renewal happened ``days`` days earlier than recorded."""

    def move(session):
        for row in session.scalars(
            select(Subscription).where(Subscription.payment_failed_at.is_not(None))
        ):
            row.payment_failed_at -= timedelta(days=days)
        session.commit()

    live.query(move)


def lapse(live, stripe_side, reader) -> None:
    """Subscribe ``reader``, fail the renewal, and let the grace period run out."""
    reader.subscribe("monthly")
    customer_id, subscription_id = stripe_ids(live, reader.email)
    let_stripe_catch_up()
    stripe_side.fail_renewal(customer_id, subscription_id)
    wait_for(lambda: status_of(live, reader.email) == "past_due")
    live.app.test_cli_runner().invoke(args=["reconcile", "--reader", reader.email])
    age_the_failure(live, days=8)


def test_failed_renewal_grace_lapse_and_card_update_in_that_order(
    billing_app, stripe_side, mailbox
):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    assert SECRET in reader.read(slug).text
    customer_id, subscription_id = stripe_ids(billing_app, reader.email)
    let_stripe_catch_up()

    # 1. The renewal fails: Stripe says so by webhook, and the reader is past due.
    stripe_side.fail_renewal(customer_id, subscription_id)
    wait_for(lambda: status_of(billing_app, reader.email) == "past_due")
    # The card was swapped in the Stripe dashboard, which the emulator announces with no
    # payment_method.* event: an operator's reconcile picks it up, as it would any gap.
    result = billing_app.app.test_cli_runner().invoke(args=["reconcile", "--reader", reader.email])
    assert result.exit_code == 0, result.output
    assert "card pm_" in result.output and "visa 3184 12/2030" in result.output

    # 2. Inside the grace period: still reading, told to update the card by a date.
    in_grace = reader.read(slug)
    assert SECRET in in_grace.text
    assert "Your last payment failed. Update your card by" in text(in_grace)
    assert in_grace.html.select_one('.notice a[href*="/account/billing/card"]') is not None
    # ... and emailed once, with the amount and a link straight to the card form.
    message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
    body = mailbox.text_of(message)
    assert "$9.00" in body and "/account/billing/card" in body

    # 3. Grace is over: the gate asks for a new card, and nothing after the teaser is sent.
    age_the_failure(billing_app, days=8)
    lapsed = reader.read(slug)
    assert gate_reason(lapsed) == "payment_failed"
    assert SECRET not in lapsed.text
    update_link = lapsed.html.select_one('[data-action="update_card"]')["href"]
    assert update_link.startswith("/account/billing/card?next=")

    # 4. A new card: the open invoice is paid at once and the article opens, no webhook awaited.
    form_page = reader.web.get(update_link)
    assert "$9.00 is unpaid" in text(form_page)
    done = reader.update_card(next=f"/articles/{slug}")
    assert done.status_int == 302, text(done)
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    article = done.follow()
    assert SECRET in article.text
    assert "Your card is updated and your subscription is paid up." in text(article)
    assert status_of(billing_app, reader.email) == "active"

    # The later webhooks agree; the invoice reads as paid on the account page.
    wait_for(lambda: billing_app.query(lambda s: s.scalar(
        select(Invoice.id).where(Invoice.status == "paid").order_by(Invoice.id.desc())
    )))  # fmt: skip
    page = reader.billing_page()
    assert "Visa ending 4242, expires 12/31" in " ".join(
        page.html.select_one("#card-summary").text.split()
    )
    statuses = [row["data-status"] for row in page.html.select("#invoices tbody tr")]
    assert statuses.count("paid") == 2 and "open" not in statuses
    assert len(mailbox.to(reader.email)) == 1  # the failed-payment email went out once


def test_a_declined_new_card_keeps_the_gate_and_says_why(billing_app, stripe_side):
    from tests.billing.emulated import DECLINED_ON_CHARGE

    slug = billing_app.article()
    reader = billing_app.subscriber()
    lapse(billing_app, stripe_side, reader)

    response = reader.update_card(card=DECLINED_ON_CHARGE)
    assert response.status_int == 422
    assert "the payment failed" in text(response)
    assert gate_reason(reader.read(slug)) == "payment_failed"


def test_cancel_keeps_access_until_the_period_ends_and_resume_undoes_it(billing_app):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    reader.subscribe("monthly")

    canceled = reader.cancel().follow()
    assert "Your subscription will end on" in text(canceled)
    article = reader.read(slug)
    assert SECRET in article.text
    assert "Your access ends on" in text(article)
    resume_link = article.html.select_one('.notice a[href*="/account/billing/resume"]')
    assert resume_link is not None

    confirm = reader.web.get(resume_link["href"])
    back = confirm.forms["resume-form"].submit()
    assert back.headers["Location"].endswith(f"/articles/{slug}")
    assert "Your access ends on" not in text(back.follow())
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False


def choose_plan(reader, code: str):
    """Pick ``code`` on the account page: the page saying what it costs and when."""
    form = reader.billing_page().forms["change-plan-form"]
    form["plan"] = code
    return form.submit()


def test_an_upgrade_shows_the_price_difference_is_invoiced_at_once_and_applies(billing_app):
    premium_slug = billing_app.article(access_level="tiers", tiers="premium")
    reader = billing_app.subscriber()
    reader.subscribe("monthly")
    assert gate_reason(reader.read(premium_slug)) == "plan_excludes_article"

    preview = choose_plan(reader, "premium")
    due = preview.html.select_one("#due-now").get_text()
    assert due.startswith("$") and due != "$0.00", text(preview)
    assert snapshot_of(billing_app, reader.email)[0].tier == "standard"  # nothing yet
    done = preview.forms["confirm-plan-form"].submit().follow()

    assert "Your new plan starts now" in text(done)
    assert snapshot_of(billing_app, reader.email)[0].tier == "premium"
    assert SECRET in reader.read(premium_slug).text

    def invoices(session):
        return session.scalars(select(Invoice.amount_paid).order_by(Invoice.created)).all()

    assert len(billing_app.query(invoices)) == 2  # the first month, then the upgrade at once


def scheduled_change(page) -> str | None:
    """What the account page says of a plan change to come, if anything."""
    found = page.html.select_one("#scheduled-change")
    return " ".join(found.get_text().split()) if found else None


def test_a_downgrade_waits_for_the_period_end(billing_app, stripe_side):
    reader = billing_app.subscriber()
    reader.subscribe("premium")
    period_end = snapshot_of(billing_app, reader.email)[0].current_period_end

    preview = choose_plan(reader, "monthly")
    assert "Nothing is charged now" in text(preview)
    done = preview.forms["confirm-plan-form"].submit().follow()

    assert f"Your plan changes on {period_end:%-d %B %Y}" in text(done)
    assert snapshot_of(billing_app, reader.email)[0].tier == "premium"
    page = reader.billing_page()
    assert scheduled_change(page) == f"Changes to Monthly on {period_end:%-d %B %Y}."

    # The period ends: Stripe renews on the new plan, and the change is no longer to come.
    customer_id, subscription_id = stripe_ids(billing_app, reader.email)
    let_stripe_catch_up()
    renewal = stripe_side.bill_renewal(customer_id, subscription_id)
    assert (renewal["status"], renewal["amount_paid"]) == ("paid", 900)
    wait_for(lambda: snapshot_of(billing_app, reader.email)[0].tier == "standard")
    page = reader.billing_page()
    assert scheduled_change(page) is None and "Changes to" not in text(page)
    assert snapshot_of(billing_app, reader.email)[0].plan_name == "Monthly"


def test_no_reader_sees_or_changes_another_readers_billing(billing_app, stripe_side):
    alice = billing_app.subscriber()
    alice.subscribe("monthly")
    bob = billing_app.subscriber()

    bob_page = bob.billing_page()
    assert "4242" not in bob_page.text and "$9.00" not in bob_page.text
    assert "You don't have a subscription" in text(bob_page)
    # Bob cannot cancel anything: there is no id to point at, and he has nothing.
    response = bob.web.post("/account/billing/cancel", {"csrf_token": _csrf(bob_page)})
    assert "no subscription" in text(response.follow()).lower()
    assert snapshot_of(billing_app, alice.email)[0].cancel_at_period_end is False
    # Bob cannot pay with, or take over, a card Alice confirmed.
    alice_checkout = alice.web.get("/account/billing/card")
    from tests.billing.actors import client_secret_of

    alice_intent = stripe_side.confirm_card_setup(client_secret_of(alice_checkout))
    bob_checkout = bob.web.get("/subscribe/monthly")
    form = bob_checkout.forms["card-form"]
    form["setup_intent_id"].force_value(alice_intent)
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422
    assert "not yours" in text(refused)
    assert snapshot_of(billing_app, bob.email)[0] is None


def _csrf(page) -> str:
    return page.html.select_one('input[name="csrf_token"]')["value"]


def test_a_lapsed_reader_is_offered_to_pay_first_on_the_account_page(billing_app, stripe_side):
    reader = billing_app.subscriber()
    lapse(billing_app, stripe_side, reader)

    page = reader.billing_page()
    pay = page.html.select_one("#pay-now-button")
    assert pay is not None and pay["href"].startswith("/account/billing/card")
    assert "$9.00" in pay.text  # the overdue amount, before anything else
    assert "next-renewal" not in page.text

"""Every way a payer can get stuck (issue 9, items 3 and 4), end to end.

A reader acts through the real pages (WebTest); Stripe acts through the emulator: its
clock and back office are the adapter's controls (``devstripe.states``, reached through
:class:`devstripe.emulator.EmulatorClient`), and everything Stripe says reaches the app as
real signed webhooks, which the app applies by re-reading Stripe. No mocks, no sleeps:
each wait polls for the state it needs.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from webtest import TestApp

from billing.catalog import PlanInput, save_plan, sync_catalog
from billing.models import Invoice, Subscription, WebhookEvent
from paywall.accounts.models import Role
from paywall.billing.support import gateway
from paywall.extensions import db
from tests.billing.actors import client_secret_of
from tests.billing.conftest import WEBHOOK_NAME, stripe_settings
from tests.billing.emulated import ALWAYS_AUTHENTICATE, DECLINED_ON_CHARGE, VISA, wait_for
from tests.billing.test_renewal_and_card import age_the_failure, status_of, stripe_ids
from tests.billing.test_subscribe import gate_reason, snapshot_of
from tests.conftest import free_port
from tests.factories import SECRET
from tests.helpers import text
from tests.live import serving

NOTHING_WAS_CHARGED = ("nothing was charged", "no payment was taken")


# -- helpers --------------------------------------------------------------------------------
def subscribed(live: Any, plan: str = "monthly", **fields: Any) -> tuple[Any, str, str]:
    """A reader subscribed through the checkout page, with the webhooks of that done;
    (the reader, their Stripe customer, their subscription)."""
    reader = live.subscriber(**fields)
    response = reader.subscribe(plan)
    assert response.status_int == 302, text(response)
    live.emulator.let_deliveries_pass()
    customer_id, subscription_id = stripe_ids(live, reader.email)
    return reader, customer_id, subscription_id


def settled(live: Any, email: str, **wanted: Any) -> Any:
    """The reader's subscription snapshot once it has every ``wanted`` value."""
    return wait_for(
        lambda: (
            (snapshot := snapshot_of(live, email)[0]) is not None
            and all(getattr(snapshot, name) == value for name, value in wanted.items())
            and snapshot
        )
    )


def card_known(live: Any, email: str, number: str) -> None:
    """Wait until the reader's default card, changed at Stripe, is the one the app knows
    (``customer.updated`` and ``payment_method.attached`` may be applied in any order)."""
    wait_for(lambda: (card := snapshot_of(live, email)[1]) and card.last4 == number[-4:])


def actions_of(page: Any) -> list[str]:
    return [link["data-action"] for link in page.html.select("#paywall-gate [data-action]")]


def notice_links(page: Any) -> list[str]:
    return [link["href"] for link in page.html.select(".article .notice a")]


def applied_event(live: Any, event_type: str, object_id: str) -> WebhookEvent:
    """A stored event of ``event_type`` about ``object_id``, once applied."""

    def find(session: Any) -> WebhookEvent | None:
        return session.scalar(
            select(WebhookEvent).where(
                WebhookEvent.type == event_type,
                WebhookEvent.object_id == object_id,
                WebhookEvent.applied_at.is_not(None),
            )
        )

    return wait_for(lambda: live.query(find))


def says_nothing_was_charged(page: Any) -> bool:
    shown = text(page).lower()
    return any(words in shown for words in NOTHING_WAS_CHARGED)


def stripe_subscriptions(stripe_side: Any, customer_id: str) -> list[dict[str, Any]]:
    found = stripe_side.get(f"/v1/subscriptions?customer={customer_id}&status=all")
    return found["data"]


# -- item 3: renewals that need the reader --------------------------------------------------
def test_a_renewal_needing_3d_secure_is_confirmed_by_the_reader_and_the_article_opens(
    billing_app, stripe_side, mailbox
):
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)

    invoice = stripe_side.renew_needing_authentication(customer_id, subscription_id)
    settled(billing_app, reader.email, status="past_due", latest_payment_needs_action=True)
    card_known(billing_app, reader.email, ALWAYS_AUTHENTICATE)

    # In the grace period: reading on, asked to confirm the payment (not for a new card).
    in_grace = reader.read(slug)
    assert SECRET in in_grace.text
    assert "Your bank wants you to confirm your renewal payment. Confirm it by" in text(in_grace)
    assert notice_links(in_grace)[0].startswith("/account/billing/confirm?next=")
    page = reader.billing_page()
    assert page.html.select_one("#confirm-renewal-notice") is not None
    # ... and one email says so, with a link to confirm it.
    message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
    assert message["Subject"] == "Please confirm your subscription payment"
    body = mailbox.text_of(message)
    assert "confirm the payment of $9.00" in body and "/account/billing/confirm" in body

    # Grace over: the gate leads with "Confirm your payment".
    age_the_failure(billing_app, days=8)
    gated = reader.read(slug)
    assert gate_reason(gated) == "payment_failed"
    assert SECRET not in gated.text
    assert actions_of(gated) == ["confirm_payment", "update_card"]
    assert "Confirm your renewal payment" in text(gated)

    # Submitting the confirm page before the bank has the answer is not a confirmation.
    confirm = reader.web.get(gated.html.select_one('[data-action="confirm_payment"]')["href"])
    premature = confirm.forms["confirm-form"].submit().follow()
    assert "still not confirmed" in text(premature)
    assert "Payment confirmed" not in text(premature)

    # The reader passes 3-D Secure (stripe.confirmCardPayment), and reads on.
    client_secret = premature.html.select_one("#confirm-form")["data-client-secret"]
    intent = stripe_side.payment_intent_of(invoice["id"])
    assert client_secret == intent["client_secret"]
    stripe_side.authenticate_payment(client_secret, success=True)
    done = premature.forms["confirm-form"].submit()
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    article = done.follow()
    assert SECRET in article.text and gate_reason(article) is None
    assert status_of(billing_app, reader.email) == "active"
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    # The webhooks that follow (invoice.paid, customer.subscription.updated) agree.
    applied_event(billing_app, "invoice.paid", invoice["id"])
    billing_app.emulator.let_deliveries_pass()
    assert status_of(billing_app, reader.email) == "active"
    assert len(mailbox.to(reader.email)) == 1


def test_a_new_card_whose_bank_asks_for_3d_secure_leads_to_confirming_the_payment(
    billing_app, stripe_side
):
    """The card page pays what is owed with the reader present: a bank that wants 3-D
    Secure (Stripe answers 402 invoice_payment_intent_requires_action) is a step to take,
    not a decline."""
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)
    invoice = stripe_side.decline_renewal(customer_id, subscription_id)
    settled(billing_app, reader.email, status="past_due")
    card_known(billing_app, reader.email, DECLINED_ON_CHARGE)
    age_the_failure(billing_app, days=8)

    response = reader.update_card(card=ALWAYS_AUTHENTICATE, next=f"/articles/{slug}")
    assert response.status_int == 302, text(response)
    assert "/account/billing/confirm" in response.headers["Location"]
    confirm = response.follow()
    assert "payment failed" not in text(confirm).lower()
    client_secret = confirm.html.select_one("#confirm-form")["data-client-secret"]
    assert client_secret == stripe_side.payment_intent_of(invoice["id"])["client_secret"]

    stripe_side.authenticate_payment(client_secret, success=True)
    done = confirm.forms["confirm-form"].submit()
    assert done.headers["Location"].endswith(f"/articles/{slug}")
    assert SECRET in done.follow().text
    assert stripe_side.get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    assert status_of(billing_app, reader.email) == "active"


def test_a_declined_renewal_tells_the_reader_the_banks_reason(billing_app, stripe_side, mailbox):
    reader, customer_id, subscription_id = subscribed(billing_app)
    stripe_side.decline_renewal(
        customer_id, subscription_id, message="Your card has insufficient funds."
    )
    settled(billing_app, reader.email, status="past_due")

    message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
    assert message["Subject"] == "Your payment didn't go through"
    assert "Reason: Your card has insufficient funds." in mailbox.text_of(message)
    page = reader.billing_page()
    notice = " ".join(page.html.select_one("#payment-failed-notice").text.split())
    assert "Your last payment failed (Your card has insufficient funds.)" in notice
    billing_app.emulator.let_deliveries_pass()
    assert len(mailbox.to(reader.email)) == 1


def test_a_fresh_worker_whose_first_page_is_an_email_sends_it(
    billing_app, stripe_side, mailbox, make_app
):
    """A worker that has served no page yet (a new process) renders a failed renewal's
    email as its first template, with no request to build the masthead's links from."""
    reader, customer_id, subscription_id = subscribed(billing_app)
    settings = stripe_settings(billing_app.emulator, billing_app.webhook_secret)
    fresh = make_app(**settings, BASE_URL=billing_app.url)
    with serving(fresh, "127.0.0.1", free_port()) as url:
        billing_app.emulator.register_webhook(
            WEBHOOK_NAME, f"{url}/stripe/webhook", billing_app.webhook_secret
        )
        stripe_side.decline_renewal(customer_id, subscription_id)
        message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
        billing_app.emulator.let_deliveries_pass()
    assert f"{billing_app.url}/account/billing/card" in mailbox.text_of(message)

    # ... and so does a command in a process of its own (cron's send-card-reminders).
    this_month = datetime.now(UTC)
    expiring = billing_app.subscriber()
    expiring.subscribe("monthly", exp=(this_month.month, this_month.year))
    command = make_app(**settings, BASE_URL=billing_app.url).test_cli_runner()
    result = command.invoke(args=["send-card-reminders"])
    assert "1 reminders sent" in result.output, result.output
    assert "ending 4242" in mailbox.last_to(expiring.email)["Subject"]


@pytest.fixture
def mail_server_down() -> Iterator[Any]:
    """An SMTP port that hangs up on every connection; ``.attempts`` counts them."""

    class HangUp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            server.attempts += 1  # type: ignore[attr-defined]

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HangUp)
    server.attempts = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_failed_payment_email_that_could_not_be_sent_stays_owed(
    billing_app, stripe_side, mailbox, make_app, mail_server_down
):
    """The email is claimed before it is sent (so two events send it once); when the mail
    server is down, the claim is released and the next event about the invoice sends it."""
    reader, customer_id, subscription_id = subscribed(billing_app)
    settings = stripe_settings(billing_app.emulator, billing_app.webhook_secret)
    port = mail_server_down.server_address[1]
    mail_down = make_app(**settings, BASE_URL=billing_app.url, MAIL_PORT=port)

    def invoice_row(stripe_id: str) -> Invoice | None:
        return billing_app.query(
            lambda s: s.scalar(select(Invoice).where(Invoice.stripe_invoice_id == stripe_id))
        )

    with serving(mail_down, "127.0.0.1", free_port()) as url:
        billing_app.emulator.register_webhook(
            WEBHOOK_NAME, f"{url}/stripe/webhook", billing_app.webhook_secret
        )
        invoice = stripe_side.decline_renewal(customer_id, subscription_id)
        billing_app.emulator.let_deliveries_pass()
        wait_for(  # tried to send, failed, and released the claim
            lambda: (
                mail_server_down.attempts
                and (row := invoice_row(invoice["id"])) is not None
                and row.attempt_count
                and row.dunning_email_sent_at is None
            )
        )
    billing_app.emulator.register_webhook(
        WEBHOOK_NAME, f"{billing_app.url}/stripe/webhook", billing_app.webhook_secret
    )
    assert mailbox.to(reader.email) == []

    stripe_side.send_event("invoice.payment_failed", invoice["id"])  # Stripe's next retry
    message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
    assert "Your card has insufficient funds." in mailbox.text_of(message)
    assert invoice_row(invoice["id"]).dunning_email_sent_at is not None
    billing_app.emulator.let_deliveries_pass()
    assert len(mailbox.to(reader.email)) == 1


def test_a_pause_after_a_failed_payment_ends_with_a_card_update_that_resumes_it(
    billing_app, stripe_side
):
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)
    invoice = stripe_side.decline_renewal(customer_id, subscription_id)
    stripe_side.exhaust_retries(subscription_id, then="paused", invoice="open")
    settled(billing_app, reader.email, status="paused", pause_reason="final_payment_failure")
    card_known(billing_app, reader.email, DECLINED_ON_CHARGE)

    gated = reader.read(slug)
    assert gate_reason(gated) == "payment_failed"
    assert actions_of(gated) == ["update_card"]
    assert SECRET not in gated.text
    account = reader.billing_page()
    assert "paused because a payment failed" in text(account)

    done = reader.update_card(next=f"/articles/{slug}")
    assert done.status_int == 302, text(done)
    article = done.follow()
    assert SECRET in article.text
    assert "Your card is updated and your subscription is paid up." in text(article)
    at_stripe = stripe_side.get(f"/v1/subscriptions/{subscription_id}")
    assert at_stripe["status"] == "active" and at_stripe["status_details"] is None
    assert stripe_side.get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert status_of(billing_app, reader.email) == "active"
    applied_event(billing_app, "customer.subscription.resumed", subscription_id)
    assert status_of(billing_app, reader.email) == "active"


def test_a_requested_pause_reads_as_paused_with_resume_and_never_traps_the_reader(
    billing_app, stripe_side
):
    slug = billing_app.article()
    reader, _, subscription_id = subscribed(billing_app)
    stripe_side.pause(subscription_id)  # the publisher, in the dashboard
    settled(billing_app, reader.email, status="paused", pause_reason="pause_requested")

    gated = reader.read(slug)
    assert gate_reason(gated) == "paused"
    assert actions_of(gated) == ["resume"]
    assert SECRET not in gated.text
    assert "confirm" not in text(gated.html.select_one("#paywall-gate")).lower()
    assert "first payment" not in text(gated).lower()

    # Subscribing again leads to the account page, which offers the way back: Resume.
    account = reader.web.get("/subscribe").follow()
    assert account.request.path == "/account/billing"
    assert account.html.select_one("#paused-notice") is not None
    assert account.html.select_one("#resume-form") is not None
    assert "Confirm your payment" not in text(account)

    resume = reader.web.get(gated.html.select_one('[data-action="resume"]')["href"])
    assert "Your subscription is paused" in text(resume)
    back = resume.forms["resume-form"].submit()
    assert back.headers["Location"].endswith(f"/articles/{slug}")
    assert SECRET in back.follow().text
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    assert status_of(billing_app, reader.email) == "active"


def test_unpaid_with_the_invoice_marked_uncollectible_reopens_with_a_card_update(
    billing_app, stripe_side
):
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)
    invoice = stripe_side.decline_renewal(customer_id, subscription_id)
    stripe_side.exhaust_retries(subscription_id, then="unpaid", invoice="uncollectible")
    settled(billing_app, reader.email, status="unpaid", latest_invoice_status="uncollectible")
    card_known(billing_app, reader.email, DECLINED_ON_CHARGE)

    gated = reader.read(slug)
    assert gate_reason(gated) == "payment_failed"
    assert actions_of(gated) == ["update_card"]

    done = reader.update_card(next=f"/articles/{slug}")
    assert done.status_int == 302, text(done)
    assert SECRET in done.follow().text
    assert stripe_side.get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    assert status_of(billing_app, reader.email) == "active"


def test_paying_an_older_invoice_does_not_reopen_a_subscription_whose_latest_is_unpaid(
    billing_app, stripe_side
):
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)
    older = stripe_side.decline_renewal(customer_id, subscription_id)
    newer = stripe_side.decline_renewal(customer_id, subscription_id)
    settled(billing_app, reader.email, status="past_due")
    card_known(billing_app, reader.email, DECLINED_ON_CHARGE)
    age_the_failure(billing_app, days=8)
    assert gate_reason(reader.read(slug)) == "payment_failed"

    # Stripe collects the older invoice (a retry, or the reader on its hosted page).
    stripe_side.put_card_on_file(customer_id, VISA)
    card_known(billing_app, reader.email, VISA)
    assert stripe_side.post(f"/v1/invoices/{older['id']}/pay")["status"] == "paid"
    applied_event(billing_app, "invoice.paid", older["id"])

    assert billing_app.query(
        lambda s: s.scalar(select(Invoice.status).where(Invoice.stripe_invoice_id == older["id"]))
    ) == "paid"  # fmt: skip
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "past_due"
    assert status_of(billing_app, reader.email) == "past_due"
    still = reader.read(slug)
    assert gate_reason(still) == "payment_failed" and SECRET not in still.text

    # The latest one paid, the reader reads again.
    assert stripe_side.post(f"/v1/invoices/{newer['id']}/pay")["status"] == "paid"
    settled(billing_app, reader.email, status="active")
    assert SECRET in reader.read(slug).text


# -- disputes and refunds -------------------------------------------------------------------
def test_a_dispute_cancels_the_subscription_tells_every_staff_member_and_the_reader(
    billing_app, stripe_side, mailbox
):
    slug = billing_app.article()
    editor = billing_app.subscriber(role=Role.EDITOR)
    admin = billing_app.subscriber(role=Role.ADMIN)
    reader, _, subscription_id = subscribed(billing_app)
    first_invoice = stripe_side.get(f"/v1/subscriptions/{subscription_id}")["latest_invoice"]

    dispute = stripe_side.dispute(stripe_side.charge_of(first_invoice), reason="fraudulent")
    applied_event(billing_app, "charge.dispute.created", dispute["id"])

    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "canceled"
    snapshot = settled(billing_app, reader.email, status="canceled")
    assert snapshot.disputed
    for staff in (editor, admin):
        message = wait_for(lambda staff=staff: mailbox.to(staff.email))[-1]
        assert message["Subject"] == f"A payment was disputed by {reader.email}"
        assert subscription_id in mailbox.text_of(message)
    assert mailbox.to(reader.email) == []  # staff are told; the reader sees it on the site

    subscribers = admin.web.get("/admin/subscribers")
    [row] = [r for r in subscribers.html.select("#subscribers tbody tr") if reader.email in r.text]
    assert row.select_one("[data-disputed]") is not None

    gated = reader.read(slug)
    assert gate_reason(gated) == "subscription_ended"
    assert SECRET not in gated.text
    assert "a payment was disputed with your bank" in text(gated)
    assert reader.billing_page().html.select_one("#disputed-notice") is not None


def test_a_refund_alone_does_not_end_access(billing_app, stripe_side):
    slug = billing_app.article()
    reader, _, subscription_id = subscribed(billing_app)
    first_invoice = stripe_side.get(f"/v1/subscriptions/{subscription_id}")["latest_invoice"]
    charge = stripe_side.charge_of(first_invoice)

    stripe_side.refund(charge)  # the publisher refunds from the dashboard
    applied_event(billing_app, "charge.refunded", charge)

    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"
    assert status_of(billing_app, reader.email) == "active"
    article = reader.read(slug)
    assert SECRET in article.text and gate_reason(article) is None


# -- set to end -----------------------------------------------------------------------------
def test_cancel_at_reads_as_ends_on_with_resume_and_resuming_clears_it(billing_app, stripe_side):
    slug = billing_app.article()
    reader, _, subscription_id = subscribed(billing_app)
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    # Staff set the end in the dashboard; Stripe says so with customer.subscription.updated.
    stripe_side.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at": int(ends.timestamp())})
    stripe_side.send_event("customer.subscription.updated", subscription_id)
    settled(billing_app, reader.email, cancel_at=ends)

    article = reader.read(slug)
    assert SECRET in article.text
    assert f"Your access ends on {ends:%-d %B %Y}." in text(article)
    [resume_link] = [href for href in notice_links(article) if "/account/billing/resume" in href]
    account = reader.billing_page()
    assert f"{ends:%-d %B %Y}" in account.html.select_one("#ends-on").text
    assert account.html.select_one("#next-renewal") is None  # not renewing
    assert account.html.select_one("#resume-form") is not None

    back = reader.web.get(resume_link).forms["resume-form"].submit()
    assert back.headers["Location"].endswith(f"/articles/{slug}")
    assert "Your access ends on" not in text(back.follow())
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["cancel_at"] is None
    assert snapshot_of(billing_app, reader.email)[0].cancel_at is None


def test_paused_collection_reads_until_the_period_end_then_ends(billing_app, stripe_side):
    slug = billing_app.article()
    reader, _, subscription_id = subscribed(billing_app)
    period_end = snapshot_of(billing_app, reader.email)[0].current_period_end
    # Staff pause collection in the dashboard (void the invoices meanwhile): the API call
    # the dashboard makes, and Stripe's customer.subscription.updated that follows.
    stripe_side.post(
        f"/v1/subscriptions/{subscription_id}", {"pause_collection": {"behavior": "void"}}
    )
    settled(billing_app, reader.email, collection_paused=True)

    article = reader.read(slug)
    assert SECRET in article.text
    assert f"Your access ends on {period_end:%-d %B %Y}." in text(article)
    assert not [href for href in notice_links(article) if "resume" in href]
    notice = reader.billing_page().html.select_one("#collection-paused-notice")
    assert f"your access ends on {period_end:%-d %B %Y}" in notice.text

    # The period ends with nothing collected: the article closes.
    def period_over(session: Any) -> None:
        row = session.scalar(select(Subscription))
        row.current_period_end = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()

    billing_app.query(period_over)
    gated = reader.read(slug)
    assert gate_reason(gated) == "subscription_ended" and SECRET not in gated.text


# -- trials ---------------------------------------------------------------------------------
def test_a_trial_ending_soon_is_emailed_with_the_date_and_the_amount(
    billing_app, stripe_side, mailbox
):
    with billing_app.app.app_context():
        trial = PlanInput(
            code="trial", name="With a trial", tier="standard", amount=900, trial_days=14
        )
        save_plan(db.session, trial)
        sync_catalog(db.session, gateway())
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app, plan="trial")
    snapshot = settled(billing_app, reader.email, status="trialing")
    assert stripe_side.get(f"/v1/invoices?customer={customer_id}")["data"] == []  # no charge
    article = reader.read(slug)
    assert SECRET in article.text
    assert f"Your free trial ends on {snapshot.trial_end:%-d %B %Y}." in text(article)

    stripe_side.send_event("customer.subscription.trial_will_end", subscription_id)
    message = wait_for(lambda: mailbox.to(reader.email) and mailbox.last_to(reader.email))
    assert message["Subject"] == "Your free trial ends soon"
    body = " ".join(mailbox.text_of(message).split())
    assert f"ends on {snapshot.trial_end:%-d %B %Y}" in body
    assert "your card is charged $9.00" in body


# -- item 4: money is never taken twice, and the reader is never told something false ------
def test_two_tabs_subscribing_at_once_make_one_subscription(billing_app, stripe_side):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    tabs = [reader.web, TestApp(billing_app.app, cookiejar=reader.web.cookiejar)]
    forms = []
    for tab in tabs:  # two checkout pages, two SetupIntents, each confirmed by Stripe.js
        page = tab.get(f"/subscribe/monthly?next=/articles/{slug}")
        form = page.forms["card-form"]
        form["setup_intent_id"].force_value(stripe_side.confirm_card_setup(client_secret_of(page)))
        forms.append(form)

    together = threading.Barrier(len(forms))
    responses: list[Any] = [None] * len(forms)

    def submit(index: int) -> None:
        together.wait()
        responses[index] = forms[index].submit(expect_errors=True)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_int for r in responses] == [302, 302], [text(r) for r in responses]
    places = sorted(r.headers["Location"].split("?")[0] for r in responses)
    assert places == ["/account/billing", f"/articles/{slug}"]
    [refused] = [r for r in responses if r.headers["Location"].endswith("/account/billing")]
    # The tabs share one session cookie, so which tab's flashed message survives is a race
    # (as in a real browser); the refused tab lands on the one live subscription.
    landed = refused.follow()
    assert landed.html.select_one("#subscription-status")["data-status"] == "active"
    customer_id, _ = stripe_ids(billing_app, reader.email)
    live = [s for s in stripe_subscriptions(stripe_side, customer_id) if s["status"] == "active"]
    assert len(live) == 1
    rows = billing_app.query(lambda s: s.scalars(select(Subscription.stripe_subscription_id)).all())
    assert rows == [live[0]["id"]]


def test_a_subscribe_call_lost_after_stripe_acted_is_read_back_never_denied(
    billing_app, stripe_side
):
    slug = billing_app.article()
    reader = billing_app.subscriber()
    page = reader.web.get(f"/subscribe/monthly?next=/articles/{slug}")
    form = page.forms["card-form"]
    form["setup_intent_id"].force_value(stripe_side.confirm_card_setup(client_secret_of(page)))

    stripe_side.lose_answers("POST", "/v1/subscriptions", how="cut")  # Stripe acts; we never hear
    response = form.submit(expect_errors=True)

    assert not says_nothing_was_charged(response)
    assert response.status_int == 302
    landed = response.follow()
    assert not says_nothing_was_charged(landed)
    # Read back at once: Stripe made it, so the reader has it, within this one page view.
    assert SECRET in landed.text
    assert "Your subscription is active" in text(landed)
    customer_id, subscription_id = stripe_ids(billing_app, reader.email)
    [at_stripe] = stripe_subscriptions(stripe_side, customer_id)
    assert at_stripe["id"] == subscription_id and at_stripe["status"] == "active"
    assert status_of(billing_app, reader.email) == "active"


def test_while_a_lost_purchase_is_unknown_the_account_says_checking_and_sells_nothing(
    billing_app, stripe_side
):
    reader = billing_app.subscriber()
    page = reader.web.get("/subscribe/monthly")
    form = page.forms["card-form"]
    form["setup_intent_id"].force_value(stripe_side.confirm_card_setup(client_secret_of(page)))

    # Stripe acts on the purchase, then cannot be read for a moment: the re-read right
    # after the POST and the one of the next page both fail (the card list is lost).
    stripe_side.lose_answers("POST", "/v1/subscriptions", how="cut")
    stripe_side.lose_answers("GET", "/v1/payment_methods", how="error", times=2)
    response = form.submit(expect_errors=True)

    assert response.status_int == 302 and not says_nothing_was_charged(response)
    assert response.headers["Location"].endswith("/account/billing")
    checking = response.follow()
    assert checking.html.select_one("#checking-payment") is not None
    assert "please don't pay again" in text(checking).lower()
    assert not says_nothing_was_charged(checking)
    assert "See plans" not in text(checking) and "Resubscribe" not in text(checking)
    assert reader.web.get("/subscribe").headers["Location"].endswith("/account/billing")
    again = reader.subscribe("monthly")  # a second purchase while unknown is refused
    assert again.status_int == 302 and not says_nothing_was_charged(again.follow())

    # Stripe answers again: the next page view reads it back and matches Stripe.
    assert stripe_side.get("/_adapter/losses")["data"] == []
    settled_page = reader.billing_page()
    assert settled_page.html.select_one("#checking-payment") is None
    assert settled_page.html.select_one("#subscription-status")["data-status"] == "active"
    customer_id, subscription_id = stripe_ids(billing_app, reader.email)
    [at_stripe] = stripe_subscriptions(stripe_side, customer_id)
    assert at_stripe["id"] == subscription_id and at_stripe["status"] == "active"


@pytest.fixture(autouse=True)
def no_lost_answers_left(billing_app, stripe_side):
    """A loss a test did not use up must not reach the next test."""
    yield
    stripe_side.forget_losses()

"""Gift subscriptions: bought once by card, redeemed by the emailed link, never renewed.

Against the Stripe emulator (its signed webhooks reach the live app) and the real SMTP
server, through the real forms.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from billing.gifts import Gift, add_months
from billing.models import Customer, Subscription, WebhookEvent
from billing.orm import utcnow
from paywall.accounts.models import Reader
from tests.billing.actors import client_secret_of
from tests.billing.emulated import (
    ALWAYS_AUTHENTICATE,
    DECLINED_ON_CHARGE,
    VISA,
    EmulatorRefused,
    StripeSide,
    let_stripe_catch_up,
    wait_for,
)
from tests.billing.test_subscribe import gate_reason
from tests.factories import SECRET, ReaderFactory
from tests.helpers import path_of, sign_in, text

RECIPIENT = "friend@example.com"
BUYER = "giver@example.com"


def choose_gift(web, plan="monthly", months=3, recipient=RECIPIENT, buyer=BUYER, message=""):
    """Fill in the gift form; the payment page."""
    form = web.get("/gift").forms["gift-form"]
    form["plan"] = plan
    form["months"] = str(months)
    form["recipient_email"] = recipient
    form["message"] = message
    form["buyer_email"] = buyer
    response = form.submit()
    assert response.status_int == 302, text(response)
    return response.follow()


def pay(live, page, card=VISA, authenticate=True):
    """What Stripe.js does with the card, then the page's own post; the response."""
    intent = StripeSide(live.emulator.api_base).confirm_card_payment(
        client_secret_of(page), card, authenticate
    )
    return post_payment(page, intent["id"])


def post_payment(page, intent_id):
    form = page.forms["card-form"]
    form["payment_intent_id"].force_value(intent_id)
    return form.submit(expect_errors=True)


def gifts(live):
    return live.query(lambda s: list(s.scalars(select(Gift).order_by(Gift.id))))


def reader_named(live, email):
    return live.query(lambda s: s.scalar(select(Reader).where(Reader.email == email)))


def gift_event_applied(live, intent_id):
    def applied(session):
        return session.scalar(
            select(WebhookEvent.applied_at).where(
                WebhookEvent.type == "payment_intent.succeeded",
                WebhookEvent.object_id == intent_id,
            )
        )

    return wait_for(lambda: live.query(applied))


def test_a_gift_bought_and_redeemed_reads_its_plans_tier(billing_app, mailbox):
    slug = billing_app.article()
    standard_only = billing_app.article(access_level="tiers", tiers="standard")
    premium_only = billing_app.article(access_level="tiers", tiers="premium")
    with billing_app.twin.app_context():
        ReaderFactory(email=RECIPIENT)
    buyer = TestApp(billing_app.app)

    page = choose_gift(buyer, months=3, message="Happy birthday!\nEnjoy.")
    assert "$27.00, once" in text(page)  # 3 months of $9.00
    sent = pay(billing_app, page)
    assert sent.status_int == 302 and sent.location.endswith("/gift/sent")
    assert "Your gift is on its way" in text(sent.follow())

    (gift,) = gifts(billing_app)
    assert (gift.amount, gift.currency, gift.months, gift.tier) == (2700, "usd", 3, "standard")
    assert gift.paid_at is not None and gift.token_digest is not None
    gift_mail = mailbox.text_of(mailbox.last_to(RECIPIENT)).replace("\r\n", "\n")
    assert BUYER in gift_mail and "Happy birthday!\nEnjoy." in gift_mail
    receipt = mailbox.text_of(mailbox.last_to(BUYER))
    assert "$27.00" in receipt and RECIPIENT in receipt and "does not renew" in receipt
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    assert link.split("/")[-1] not in gift.token_digest  # only a digest is stored

    recipient = TestApp(billing_app.app)
    assert gate_reason(recipient.get(f"/articles/{slug}")) == "anonymous"
    invitation = recipient.get(link)
    sign_in_link = invitation.html.select_one("#redeem-sign-in")["href"]
    assert parse_qs(urlsplit(sign_in_link).query)["next"] == [link]
    signed_in = sign_in(recipient, RECIPIENT, next=link)
    # Back on the gift after signing in (``next`` kept), the reader confirms.
    confirm = signed_in.follow()
    assert confirm.request.path == link
    account = confirm.forms["redeem-form"].submit().follow()
    notice = account.html.select_one("#comped")
    until = add_months(utcnow(), 3)
    assert f"Gift from {BUYER} until {until:%-d %B %Y}: the Monthly plan" in notice.text

    # The gift's plan is a standard-tier plan: what it would read, and no more.
    assert gate_reason(recipient.get(f"/articles/{slug}")) is None  # the full text
    assert gate_reason(recipient.get(f"/articles/{standard_only}")) is None
    premium = recipient.get(f"/articles/{premium_only}")
    assert gate_reason(premium) == "plan_excludes_article"
    assert SECRET not in premium.text
    (gift,) = gifts(billing_app)
    assert abs(gift.access_until - until) < timedelta(minutes=1)
    assert not reader_named(billing_app, RECIPIENT).is_comped  # not every tier's comp


def test_a_gifts_access_ends_when_its_months_end(billing_app, mailbox):
    slug = billing_app.article()
    pay(billing_app, choose_gift(TestApp(billing_app.app), months=1))
    recipient = billing_app.subscriber(RECIPIENT)
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    recipient.web.get(link).forms["redeem-form"].submit()
    assert gate_reason(recipient.web.get(f"/articles/{slug}")) is None
    (gift,) = gifts(billing_app)
    assert gift.access_until == add_months(gift.access_from, 1)

    def move_window_back(session, by):
        row = session.get(Gift, gift.id)
        row.access_from, row.access_until = row.access_from - by, row.access_until - by
        session.commit()

    # One second before the month is over it still reads; at its end the gate is back.
    billing_app.query(move_window_back, gift.access_until - utcnow() - timedelta(seconds=30))
    assert gate_reason(recipient.web.get(f"/articles/{slug}")) is None
    billing_app.query(move_window_back, timedelta(seconds=31))
    assert gate_reason(recipient.web.get(f"/articles/{slug}")) == "no_subscription"
    assert recipient.web.get("/account/billing").html.select_one("#comped") is None


def test_a_redeem_link_works_once(billing_app, mailbox):
    pay(billing_app, choose_gift(TestApp(billing_app.app), months=1))
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))

    first = billing_app.subscriber(RECIPIENT)
    first.web.get(link).forms["redeem-form"].submit().follow()
    again = first.web.get(link, expect_errors=True)
    assert again.status_int == 410 and "has been redeemed" in text(again)

    other = billing_app.subscriber("someone.else@example.com")
    refused = other.web.get(link, expect_errors=True)
    assert refused.status_int == 410
    assert not reader_named(billing_app, "someone.else@example.com").is_comped
    unknown = TestApp(billing_app.app).get("/gift/redeem/nonsense", expect_errors=True)
    assert unknown.status_int == 404


def test_a_declined_card_buys_nothing(billing_app, mailbox):
    page = choose_gift(TestApp(billing_app.app))
    with pytest.raises(EmulatorRefused) as declined:
        pay(billing_app, page, card=DECLINED_ON_CHARGE)
    assert declined.value.status == 402
    # Posted anyway (the page's script would not), it says so and marks nothing paid.
    (gift,) = gifts(billing_app)
    answer = post_payment(page, gift.stripe_payment_intent_id)
    assert answer.status_int == 422 and "nothing was charged" in text(answer)
    let_stripe_catch_up()
    assert gifts(billing_app)[0].paid_at is None
    assert mailbox.to(RECIPIENT) == [] and mailbox.to(BUYER) == []

    # Another card on the same form then pays.
    again = answer.forms["card-form"]
    paid = pay(billing_app, answer, card=VISA)
    assert again is not None and paid.status_int == 302
    assert gifts(billing_app)[0].paid_at is not None


def test_3d_secure_is_asked_for_and_a_failed_challenge_pays_nothing(billing_app, mailbox):
    page = choose_gift(TestApp(billing_app.app))
    failed = pay(billing_app, page, card=ALWAYS_AUTHENTICATE, authenticate=False)
    assert failed.status_int == 422
    paid = pay(billing_app, failed, card=ALWAYS_AUTHENTICATE, authenticate=True)
    assert paid.status_int == 302
    assert gifts(billing_app)[0].paid_at is not None


@pytest.mark.parametrize("first", ["page", "webhook"])
def test_the_page_and_the_webhook_mark_a_gift_paid_once(billing_app, mailbox, first):
    page = choose_gift(TestApp(billing_app.app))
    intent = StripeSide(billing_app.emulator.api_base).confirm_card_payment(client_secret_of(page))
    if first == "webhook":
        gift_event_applied(billing_app, intent["id"])
        assert gifts(billing_app)[0].paid_at is not None
    assert post_payment(page, intent["id"]).status_int == 302
    gift_event_applied(billing_app, intent["id"])
    let_stripe_catch_up()
    assert len(mailbox.to(RECIPIENT)) == 1 and len(mailbox.to(BUYER)) == 1
    assert len(gifts(billing_app)) == 1


def test_a_gift_never_renews(billing_app, mailbox):
    pay(billing_app, choose_gift(TestApp(billing_app.app), plan="yearly", months=12))
    (gift,) = gifts(billing_app)
    assert gift.amount == 9000  # 12 months of a yearly plan: its yearly price
    intent = StripeSide(billing_app.emulator.api_base).get(
        f"/v1/payment_intents/{gift.stripe_payment_intent_id}"
    )
    assert intent["customer"] is None and intent.get("setup_future_usage") is None

    recipient = billing_app.subscriber(RECIPIENT)
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    account = recipient.web.get(link).forms["redeem-form"].submit().follow()
    assert "doesn't renew" in account.html.select_one("#comped").text
    assert account.html.select_one("#cancel-link") is None
    # No customer, no card, no subscription: nothing at Stripe can charge anyone again.
    assert billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Customer))) == 0
    count = billing_app.query(lambda s: s.scalar(select(func.count()).select_from(Subscription)))
    assert count == 0


def test_a_gift_starts_when_the_access_the_reader_already_has_ends(billing_app, mailbox):
    comp_ends = utcnow() + timedelta(days=10)
    recipient = billing_app.subscriber(RECIPIENT, is_comped=True, comped_until=comp_ends)
    for _ in range(2):
        pay(billing_app, choose_gift(TestApp(billing_app.app), months=1))
        link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
        recipient.web.get(link).forms["redeem-form"].submit()
    first, second = gifts(billing_app)
    assert abs(first.access_from - comp_ends) < timedelta(seconds=1)
    assert first.access_until == add_months(first.access_from, 1)
    # The second runs after the first: never two gifts spent at once.
    assert (second.access_from, second.access_until) == (
        first.access_until,
        add_months(first.access_until, 1),
    )
    assert reader_named(billing_app, RECIPIENT).comped_until == comp_ends


def test_bad_gift_orders_show_field_errors_and_make_nothing(billing_app):
    web = TestApp(billing_app.app)
    form = web.get("/gift").forms["gift-form"]
    form["recipient_email"] = "not an email"
    form["buyer_email"] = ""
    form["message"] = "x" * 501
    answer = form.submit(expect_errors=True)
    assert answer.status_int == 422
    errors = {e["id"] for e in answer.html.select(".field__errors")}
    assert {"recipient_email-errors", "buyer_email-errors", "message-errors"} <= errors
    forged = web.post(
        "/gift",
        {"csrf_token": form["csrf_token"].value, "plan": "nope", "months": "7",
         "recipient_email": RECIPIENT, "buyer_email": BUYER},
        expect_errors=True,
    )  # fmt: skip
    assert forged.status_int == 422
    assert gifts(billing_app) == []
    assert web.get("/gift/pay").status_int == 302  # no gift chosen in this browser


def test_a_signed_in_buyer_finds_their_email_filled_in(billing_app):
    buyer = billing_app.subscriber(BUYER)
    assert buyer.web.get("/gift").forms["gift-form"]["buyer_email"].value == BUYER

"""Gifts in a reader's data rights: the download lists the gifts they bought (with what
they entered) and received (nothing about the giver); deleting an account takes the
person out of gift rows, keeps what the accounts need, and withdraws a gift waiting for
them. Bought through the Stripe emulator, as in test_gifts.py."""

from __future__ import annotations

import json

from sqlalchemy import select
from webtest import TestApp

from billing.gifts import Gift
from tests.billing.test_gifts import BUYER, RECIPIENT, choose_gift, gifts, pay
from tests.helpers import path_of, text


def my_data(actor):
    return json.loads(actor.web.get("/account").click(linkid="download-data").text)


def delete_account(actor):
    page = actor.web.get("/account").click(linkid="delete-account-link")
    form = page.forms["delete-account-form"]
    form["confirmation"] = actor.email
    assert form.submit().status_int == 302


def test_the_download_lists_gifts_bought_and_received_and_nobody_elses_data(billing_app, mailbox):
    buyer = billing_app.subscriber(BUYER)
    pay(billing_app, choose_gift(buyer.web, months=3, message="For your commute"))
    recipient = billing_app.subscriber(RECIPIENT)
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    recipient.web.get(link).forms["redeem-form"].submit()
    (gift,) = gifts(billing_app)

    (bought,) = my_data(buyer)["gifts_bought"]
    assert bought["recipient_email"] == RECIPIENT and bought["message"] == "For your commute"
    assert (bought["plan"], bought["months"], bought["amount"], bought["currency"]) == (
        "Monthly", 3, 2700, "usd",
    )  # fmt: skip
    assert bought["status"] == "redeemed"
    assert bought["stripe_payment_intent_id"] == gift.stripe_payment_intent_id
    assert my_data(buyer)["gifts_received"] == []

    data = my_data(recipient)
    (received,) = data["gifts_received"]
    assert (received["plan"], received["tier"], received["months"]) == ("Monthly", "standard", 3)
    assert received["access_until"] == gift.access_until.isoformat()
    download = json.dumps(data)
    assert BUYER not in download and "For your commute" not in download
    assert data["gifts_bought"] == []


def test_a_deleted_recipients_waiting_gift_stops_working(billing_app, mailbox):
    recipient = billing_app.subscriber(RECIPIENT)
    pay(billing_app, choose_gift(TestApp(billing_app.app), message="Enjoy"))
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    delete_account(recipient)

    (gift,) = gifts(billing_app)
    assert (gift.recipient_email, gift.message, gift.token_digest) == ("", "", None)
    assert (gift.amount, gift.buyer_email) == (900 * 3, BUYER)  # the buyer's receipt stands
    gone = TestApp(billing_app.app).get(link, expect_errors=True)
    assert gone.status_int == 404 and "Enjoy" not in text(gone)
    # A new account on the same address does not get it back either.
    newcomer = billing_app.subscriber(RECIPIENT)
    assert newcomer.web.get(link, expect_errors=True).status_int == 404


def test_a_deleted_buyer_leaves_the_accounts_and_the_recipients_gift(billing_app, mailbox):
    buyer = billing_app.subscriber(BUYER)
    pay(billing_app, choose_gift(buyer.web, message="From me"))
    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    delete_account(buyer)

    (gift,) = gifts(billing_app)
    assert (gift.buyer_email, gift.message) == ("", "")
    assert gift.amount == 2700 and gift.stripe_payment_intent_id.startswith("pi_")
    assert gift.recipient_email == RECIPIENT
    # The recipient still redeems it; the billing page has no giver to name.
    recipient = billing_app.subscriber(RECIPIENT)
    account = recipient.web.get(link).forms["redeem-form"].submit().follow()
    notice = account.html.select_one("#comped").text
    assert notice.startswith("A gift until") and BUYER not in notice
    assert billing_app.query(lambda s: s.scalar(select(Gift.redeemed_by))) is not None

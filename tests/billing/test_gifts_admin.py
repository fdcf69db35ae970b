"""The staff's list of gifts (/admin/gifts): who gave what to whom and how far it got,
searched and filtered; admins send a recipient a new link (the old one stops working),
recorded in the audit log. Gifts bought through the Stripe emulator, as in test_gifts.py."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from webtest import TestApp

from billing.gifts import Gift
from billing.orm import utcnow
from paywall.accounts.models import Role
from paywall.audit.models import AuditEvent
from tests.billing.test_gifts import BUYER, RECIPIENT, choose_gift, gifts, pay
from tests.helpers import path_of, text

OTHER = "another.friend@example.com"


def rows(page):
    return {
        row["data-gift"]: (row.select_one(".recipient").text.strip(), row["data-status"])
        for row in page.html.select("#gifts tbody tr[data-gift]")
    }


def test_staff_see_every_gift_with_its_status_and_find_them_by_email(billing_app, mailbox):
    pay(billing_app, choose_gift(TestApp(billing_app.app), months=3))
    choose_gift(TestApp(billing_app.app), recipient=OTHER, months=1)  # never paid
    redeemer = billing_app.subscriber(RECIPIENT)
    redeemer.web.get(path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))).forms[
        "redeem-form"
    ].submit()
    paid, unpaid = gifts(billing_app)

    editor = billing_app.subscriber("editor@example.com", role=Role.EDITOR)
    page = editor.web.get("/admin")
    listing = page.click(href="/admin/gifts")  # in the staff navigation bar
    assert rows(listing) == {
        str(paid.id): (RECIPIENT, "redeemed"),
        str(unpaid.id): (OTHER, "unpaid"),
    }
    words = text(listing)
    assert "3 months of Monthly" in words and "standard tier" in words and "$27.00" in words
    assert BUYER in words and "Awaiting payment" in words
    assert listing.html.select_one(f"#resend-{paid.id}") is None  # editors do not resend

    found = editor.web.get("/admin/gifts", {"email": "Another.Friend"})
    assert list(rows(found)) == [str(unpaid.id)]
    assert list(rows(editor.web.get("/admin/gifts", {"email": "giver@"}))) == [
        str(unpaid.id), str(paid.id),
    ]  # fmt: skip
    assert list(rows(editor.web.get("/admin/gifts", {"status": "redeemed"}))) == [str(paid.id)]

    # Once its months are over it shows as ended.
    def end_it(session):
        row = session.get(Gift, paid.id)
        row.access_until = utcnow() - timedelta(seconds=1)
        session.commit()

    billing_app.query(end_it)
    assert list(rows(editor.web.get("/admin/gifts", {"status": "expired"}))) == [str(paid.id)]
    assert editor.web.get("/admin/gifts", {"status": "nope"}, expect_errors=True).status_int == 400
    assert editor.web.get("/admin/gifts", {"older": "x"}, expect_errors=True).status_int == 400
    reader = billing_app.subscriber("reader@example.com")
    assert reader.web.get("/admin/gifts", expect_errors=True).status_int == 403


def test_the_list_comes_a_page_at_a_time(billing_app):
    def many(session):
        for n in range(25):
            session.add(
                Gift(
                    buyer_email=BUYER, recipient_email=f"r{n:02}@example.com", plan_code="monthly",
                    plan_name="Monthly", tier="standard", months=1, amount=900, currency="usd",
                )
            )  # fmt: skip
        session.commit()

    billing_app.query(many)
    editor = billing_app.subscriber("editor@example.com", role=Role.EDITOR)
    first = editor.web.get("/admin/gifts")
    second = first.click(linkid="older")
    shown = [email for email, _ in rows(first).values()] + [e for e, _ in rows(second).values()]
    assert shown == [f"r{n:02}@example.com" for n in reversed(range(25))]


def test_an_admin_sends_the_link_again_and_the_old_one_stops_working(billing_app, mailbox):
    pay(billing_app, choose_gift(TestApp(billing_app.app)))
    old_link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    (gift,) = gifts(billing_app)

    editor = billing_app.subscriber("editor@example.com", role=Role.EDITOR)
    csrf = editor.web.get("/gift").forms["gift-form"]["csrf_token"].value
    refused = editor.web.post(
        f"/admin/gifts/{gift.id}/resend", {"csrf_token": csrf}, expect_errors=True
    )
    assert refused.status_int == 403

    admin = billing_app.subscriber("admin@example.com", role=Role.ADMIN)
    listing = admin.web.get("/admin/gifts", {"status": "paid"})
    sent = listing.forms[f"resend-form-{gift.id}"].submit()
    assert sent.status_int == 302 and "status=paid" in sent.location
    assert "A new link went to friend@example.com" in text(sent.follow())
    assert len(mailbox.to(RECIPIENT)) == 2
    new_link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    assert new_link != old_link
    assert TestApp(billing_app.app).get(old_link, expect_errors=True).status_int == 404
    recipient = billing_app.subscriber(RECIPIENT)
    recipient.web.get(new_link).forms["redeem-form"].submit()
    assert gifts(billing_app)[0].redeemed_at is not None

    event = billing_app.query(lambda s: s.scalar(select(AuditEvent)))
    assert (event.action, event.actor_email) == ("gift.resend", "admin@example.com")
    assert event.after["recipient"] == RECIPIENT
    # A redeemed gift has no link to send again.
    again = admin.web.post(f"/admin/gifts/{gift.id}/resend", {"csrf_token": csrf_of(admin)})
    assert "Only a paid gift that is not redeemed yet" in text(again.follow())
    assert len(mailbox.to(RECIPIENT)) == 2


def csrf_of(actor):
    return actor.web.get("/admin/gifts").html.select_one("input[name=csrf_token]")["value"]

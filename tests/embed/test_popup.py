"""The sign-in popup on the paywall's origin: sign in, then a token for the opener, sent
to the registered origin only, with the opener link kept along the way."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.embed.conftest import ORIGIN, OTHER_ORIGIN
from tests.helpers import sign_in, text

COOP = "Cross-Origin-Opener-Policy"


def test_popup_signs_the_reader_in_then_hands_a_token_to_the_registered_origin(
    app, web, publisher, readers
):
    readers.comped("popup@example.com")
    start = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}")
    assert start.status_int == 302
    sign_in_page = start.follow()
    assert sign_in_page.headers[COOP] == "unsafe-none"
    form = sign_in_page.forms["sign-in-form"]
    form["email"] = "popup@example.com"
    form["password"] = "correct horse battery"
    signed_in = form.submit()
    assert signed_in.headers[COOP] == "unsafe-none"
    handoff = signed_in.follow()
    assert handoff.headers[COOP] == "unsafe-none"
    assert handoff.headers["Cache-Control"] == "private, no-store"
    box = handoff.html.find(id="paywall-connect")
    assert box["data-origin"] == ORIGIN
    assert box["data-token"].startswith("pw_rt_")
    assert box["data-next"] == ""
    assert handoff.html.find("script", src=re.compile("embed-popup.js"))


def test_popup_refuses_an_unregistered_origin(web, publisher, readers):
    readers.comped("popup@example.com")
    sign_in(web, "popup@example.com")
    page = web.get(
        f"/embed/connect?site={publisher.site_key}&origin={OTHER_ORIGIN}", expect_errors=True
    )
    assert page.status_int == 400
    assert "pw_rt_" not in page.text
    assert "not registered" in text(page)


def test_popup_goes_on_to_the_step_the_button_named(web, publisher, readers):
    readers.comped("popup@example.com")
    sign_in(web, "popup@example.com")
    page = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}&then=update_card")
    step = urlsplit(page.html.find(id="paywall-connect")["data-next"])
    assert step.path == "/account/billing/card"
    back = parse_qs(step.query)["next"][0]
    assert back.startswith("/embed/done?")
    done = web.get(back)
    assert done.html.find(id="paywall-connect")["data-refresh"] == "1"


def test_sign_up_button_opens_the_sign_up_page(web, publisher):
    start = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}&then=sign_up")
    assert urlsplit(start.location).path == "/signup"
    assert start.follow().headers[COOP] == "unsafe-none"


def test_signing_up_in_the_popup_finishes_on_the_connect_page(web, publisher, mailbox):
    """The emailed link opens in a tab of its own, with no opener: the connect page there
    says to press the site's button again, which then finds the reader signed in."""
    start = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}&then=sign_up")
    form = start.follow().forms["sign-up-form"]
    form["email"] = "popup-new@example.com"
    form["password"] = "a long enough password"
    assert "Check your email to finish" in text(form.submit())

    link = urlsplit(mailbox.link_to("popup-new@example.com", "/signup/confirm/"))
    confirm = web.get(f"{link.path}?{link.query}")
    connect = confirm.forms["confirm-sign-up-form"].submit()
    assert urlsplit(connect.location).path == "/embed/connect"
    handoff = connect.follow()
    assert handoff.html.find(id="paywall-connect")["data-token"].startswith("pw_rt_")
    assert handoff.html.find(attrs={"data-connect-orphan": True})


def test_ordinary_pages_keep_the_strict_opener_policy(web):
    assert web.get("/signin").headers[COOP] == "same-origin-allow-popups"
    assert web.get("/signin?next=/account").headers[COOP] == "same-origin-allow-popups"

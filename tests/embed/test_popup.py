"""The sign-in popup on the paywall's origin: sign in, then a token for the opener, sent
to the registered origin only, with the opener link kept along the way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import browser_for
from tests.embed.conftest import ORIGIN, OTHER_ORIGIN
from tests.factories import CustomerFactory, SubscriptionFactory
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


def branded(app, publisher, **look):
    from paywall.embed.sites import find_site, update_site

    with app.app_context():
        site = find_site(publisher.site_id)
        update_site(site, site.name, site.allowed_origins, "", **look)


def test_popup_pages_are_the_publishers_and_every_link_keeps_the_flow(app, web, publisher):
    branded(app, publisher, logo_url="https://cdn.example.com/logo.png", accent_color="#AA3300")
    start = f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}"
    page = web.get(start).follow()
    seen = set()
    pages = [page, page.click("Create a free account"), page.click("Email me a sign-in link")]
    pages.append(page.click("Forgot your password?"))
    for each in pages:
        assert each.html.find(id="popup-brand").get_text(strip=True) == "Harbour News"
        assert each.html.title.get_text().endswith("Harbour News")
        assert each.html.find(class_="masthead") is None
        assert each.html.find(class_="footer") is None
        assert "Paywall Gazette" not in each.text
        logo = each.html.find("img", class_="popup-brand__logo")
        assert logo["src"] == "https://cdn.example.com/logo.png"
        policy = each.headers["Content-Security-Policy"]
        assert "img-src https://cdn.example.com 'self' data:" in policy
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        for link in each.html.find_all("a"):
            href = link["href"]
            if href.startswith("#"):  # the skip link: a place on this page
                continue
            seen.add(href)
            target = parse_qs(urlsplit(href).query).get("next", [""])[0]
            assert target.startswith("/embed/connect?"), (link, each.request.path)
    assert len(seen) >= 3
    theme = web.get(f"/embed/theme.css?site={publisher.site_key}")
    assert theme.content_type == "text/css" and "--accent:#aa3300" in theme.text


def test_ordinary_pages_keep_the_paywalls_masthead_and_policy(web, publisher):
    page = web.get("/signin")
    assert page.html.find(id="popup-brand") is None
    assert page.html.find(class_="masthead") is not None
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    stray = web.get("/signin?next=/embed/connect%3Fsite%3Dpw_pk_nope%26origin%3Dx")
    assert stray.html.find(id="popup-brand") is None


@pytest.mark.parametrize(
    ("look", "field"),
    [
        ({"logo_url": "http://cdn.example.com/logo.png"}, "logo_url"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"logo_url": "https://cdn.example.com/a b.png"}, "logo_url"),
        ({"accent_color": "red"}, "accent_color"),
        ({"accent_color": "#12345"}, "accent_color"),
        ({"accent_color": "#12345g"}, "accent_color"),
    ],
)
def test_a_sites_logo_must_be_https_and_its_colour_rrggbb(app, publisher, look, field):
    from paywall.embed.sites import SiteError

    with pytest.raises(SiteError) as refused:
        branded(app, publisher, **look)
    assert refused.value.field == field


def test_after_signing_out_on_the_site_the_popup_offers_another_account(web, publisher, readers):
    readers.comped("first@example.com")
    readers.plain("second@example.com")
    sign_in(web, "first@example.com")
    choose = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}&prompt=choose")
    assert "pw_rt_" not in choose.text
    assert "first@example.com" in text(choose)
    assert choose.click("Continue as first@example.com").html.find(id="paywall-connect")
    sign_in_page = choose.forms["switch-account-form"].submit().follow()
    assert sign_in_page.html.find(id="popup-brand") is not None
    form = sign_in_page.forms["sign-in-form"]
    form["email"] = "second@example.com"
    form["password"] = "correct horse battery"
    handoff = form.submit().follow()
    assert handoff.html.find(id="paywall-connect")["data-token"].startswith("pw_rt_")
    assert "second@example.com" in web.get("/account").text


def test_done_page_names_the_step_that_succeeded(web, publisher, readers):
    readers.comped("popup@example.com")
    sign_in(web, "popup@example.com")
    base = f"/embed/done?site={publisher.site_key}&origin={ORIGIN}"
    assert web.get(base + "&step=subscribe").html.find(id="paywall-connect")["data-step"] == (
        "subscribe"
    )
    assert web.get(base + "&step=<x>").html.find(id="paywall-connect")["data-step"] == ""


def test_an_anonymous_reader_subscribes_in_the_popup_without_signing_in_first(
    app, web, publisher, readers
):
    """Subscribe goes straight to the one-step checkout (it makes the account), which
    comes back to hand the new reader's token over; a reader who signed in on the way
    instead of subscribing is shown the plans, not thanked."""
    start = web.get(f"/embed/connect?site={publisher.site_key}&origin={ORIGIN}&then=subscribe")
    target = urlsplit(start.location)
    assert target.path.startswith("/subscribe")
    after = parse_qs(target.query)["next"][0]
    assert after.startswith("/embed/connect?") and "then=subscribe" in after
    assert start.follow().headers[COOP] == "unsafe-none"

    subscriber = readers.plain("popup-subscriber@example.com")
    with app.app_context():  # what the one-step checkout leaves: a paid-up subscription
        customer = CustomerFactory(reader_id=subscriber.id)
        SubscriptionFactory(
            customer_id=customer.id, current_period_end=datetime.now(UTC) + timedelta(days=30)
        )
    sign_in(web, "popup-subscriber@example.com")
    handoff = web.get(after).html.find(id="paywall-connect")
    assert handoff["data-token"].startswith("pw_rt_")
    step = urlsplit(handoff["data-next"])
    assert step.path == "/embed/done" and parse_qs(step.query)["step"] == ["subscribe"]

    other = browser_for(app)
    readers.plain("just-signed-in@example.com")
    sign_in(other, "just-signed-in@example.com")
    step = urlsplit(other.get(after).html.find(id="paywall-connect")["data-next"])
    assert step.path.startswith("/subscribe")

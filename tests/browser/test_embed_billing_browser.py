"""The embedded gate with real billing, in real Chromium across two origins: the paywall
on 127.0.0.1 and the publisher's site on localhost, as ``paywall demo`` serves them.

A subscriber whose renewal failed and whose grace ran out (real signed webhooks from the
Stripe emulator) sees the update-card prompt on the publisher's page, replaces the card
in the paywall's popup, and the article opens on the page without a reload.
"""

from __future__ import annotations

from playwright.sync_api import expect

from paywall.embed.demo_site import link_published_articles, publisher_app
from paywall.embed.sites import create_site
from tests.billing import conftest as billing
from tests.billing.test_renewal_and_card import lapse, status_of
from tests.browser.test_billing_browser import fill_card
from tests.browser.test_embed_browser import RECORD_EVENTS, gate, sign_in_within
from tests.conftest import free_port
from tests.factories import SECRET
from tests.live import serving

emulator, stripe_side, billing_app = billing.emulator, billing.stripe_side, billing.billing_app


def test_a_lapsed_subscriber_updates_the_card_in_the_popup_and_the_article_opens(
    billing_app, stripe_side, page
):
    slug = billing_app.article(title="Harbour secrets", slug="harbour-secrets")
    reader = billing_app.subscriber("lapsed@example.com")
    lapse(billing_app, stripe_side, reader)
    port = free_port()
    with billing_app.twin.app_context():
        site = create_site("Harbour Herald", [f"http://localhost:{port}"]).site
        stories = link_published_articles(site)
        site_key = site.public_key
    publisher = publisher_app(billing_app.url, site_key, stories)

    with serving(publisher, "localhost", port) as news:
        page.add_init_script(RECORD_EVENTS)
        page.goto(f"{news}/articles/{slug}")
        page.evaluate("window.__sameDocument = true")
        expect(gate(page)).to_have_count(1)
        # Signed out on this site, the reader is first asked to sign in.
        with page.expect_popup() as opened:
            gate(page).get_by_role("button", name="Sign in").click()
        popup = opened.value
        with popup.expect_event("close"):  # it may close before a later wait would start
            sign_in_within(popup, reader.email)

        # Now the gate knows them: the payment failed, and the way on is a new card.
        expect(gate(page).get_by_role("heading")).to_have_text("Your last payment failed")
        expect(page.locator('[data-paywall-gate="payment_failed"]')).to_have_count(1)
        expect(page.get_by_text(SECRET)).to_have_count(0)
        with page.expect_popup() as opened:
            gate(page).get_by_role("button", name="Update your card").click()
        popup = opened.value
        popup.wait_for_selector("#card-element input[placeholder=number]")
        expect(popup.get_by_text("$9.00 is unpaid")).to_be_visible()
        fill_card(popup)
        with popup.expect_event("close"):
            popup.click("#card-submit")

        expect(page.get_by_text(SECRET)).to_be_visible()
        expect(page.locator('[data-paywall-access="full"]')).to_have_count(1)
        assert page.evaluate("window.__sameDocument") is True
        # Each popup hands over a fresh token (one more look at the lapsed state) before
        # its last page says the card is paid up.
        first, *between, last = page.evaluate("window.__decisions")
        assert (first, set(between), last) == ("anonymous", {"payment_failed"}, "subscriber")
    assert status_of(billing_app, reader.email) == "active"

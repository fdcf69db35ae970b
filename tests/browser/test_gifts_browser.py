"""A gift bought and redeemed, in real Chromium: the buyer pays on the card form (the
emulator's stand-in Stripe.js, 3-D Secure included), the recipient follows the emailed
link, signs in and reads a paid article.

Full-page screenshots of each gift page, at a desktop and a phone width, go to
``PAYWALL_SCREENSHOT_DIR`` when it is set (else the test's own temporary folder).
"""

from __future__ import annotations

from billing.gifts import Gift
from billing.orm import utcnow
from tests.billing import conftest as billing
from tests.browser.test_billing_browser import fill_card
from tests.browser.test_renewal_confirm_browser import screenshots, shots  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, SECRET, AdminFactory, ReaderFactory
from tests.helpers import path_of

emulator, stripe_side, billing_app = billing.emulator, billing.stripe_side, billing.billing_app

RECIPIENT = "friend@example.com"


def test_a_gift_bought_and_redeemed(billing_app, browser, mailbox, shots):  # noqa: F811
    slug = billing_app.article()
    premium_only = billing_app.article(access_level="tiers", tiers="premium")
    with billing_app.twin.app_context():
        ReaderFactory(email=RECIPIENT)
    base = billing_app.url

    buyer = browser.new_context().new_page()
    buyer.set_default_timeout(10_000)
    buyer.goto(f"{base}/gift")
    screenshots(buyer, shots, "gift-form")
    buyer.select_option("#plan", "monthly")
    buyer.select_option("#months", "6")
    buyer.fill("#recipient_email", RECIPIENT)
    buyer.fill("#message", "Happy reading!")
    buyer.fill("#buyer_email", "giver@example.com")
    buyer.click("#gift-submit")
    buyer.wait_for_url(f"{base}/gift/pay")
    assert "$54.00, once" in buyer.inner_text("#order-summary")
    buyer.wait_for_selector("#card-element input[placeholder=number]")
    screenshots(buyer, shots, "gift-pay")
    fill_card(buyer, "4000002760003184")  # the bank asks for 3-D Secure
    buyer.click("#card-submit")
    buyer.click("text=Complete authentication")  # the stand-in's 3-D Secure challenge
    buyer.wait_for_url(f"{base}/gift/sent")
    assert RECIPIENT in buyer.inner_text("#gift-sent")
    screenshots(buyer, shots, "gift-sent")

    link = path_of(mailbox.link_to(RECIPIENT, "/gift/redeem/"))
    recipient = browser.new_context().new_page()
    recipient.set_default_timeout(10_000)
    recipient.goto(f"{base}{link}")
    assert "Happy reading!" in recipient.inner_text("#gift-message")
    screenshots(recipient, shots, "gift-redeem-signed-out")
    recipient.click("#redeem-sign-in")
    recipient.fill("input[name=email]", RECIPIENT)
    recipient.fill("input[name=password]", DEFAULT_PASSWORD)
    recipient.click("#sign-in-form button[type=submit]")
    recipient.wait_for_url(f"{base}{link}")
    screenshots(recipient, shots, "gift-redeem")
    recipient.click("#redeem-submit")
    recipient.wait_for_url(f"{base}/account/billing")
    assert "Gift from giver@example.com until" in recipient.inner_text("#comped")
    screenshots(recipient, shots, "gift-billing-page")

    recipient.goto(f"{base}/articles/{slug}")
    assert recipient.locator("#paywall-gate").count() == 0
    assert SECRET in recipient.locator(".paywalled-content").inner_text()

    # The gift is a Monthly (standard-tier) gift: a premium-only article asks to upgrade.
    recipient.goto(f"{base}/articles/{premium_only}")
    gate = recipient.locator("#paywall-gate")
    assert gate.get_attribute("data-reason") == "plan_excludes_article"
    assert SECRET not in recipient.content()

    # The staff's list shows it, from the navigation bar; another gift waits for its link.
    billing_app.query(waiting_gift)
    admin = browser.new_context().new_page()
    admin.set_default_timeout(10_000)
    with billing_app.twin.app_context():
        AdminFactory(email="admin@example.com")
    admin.goto(f"{base}/signin?next=/admin")
    admin.fill("input[name=email]", "admin@example.com")
    admin.fill("input[name=password]", DEFAULT_PASSWORD)
    admin.click("#sign-in-form button[type=submit]")
    admin.wait_for_url(f"{base}/admin")
    admin.click("nav.staff-nav >> text=Gifts")
    admin.wait_for_url(f"{base}/admin/gifts")
    redeemed = admin.locator("#gifts tr[data-status=redeemed]")
    assert RECIPIENT in redeemed.inner_text() and "6 months of Monthly" in redeemed.inner_text()
    screenshots(admin, shots, "admin-gifts")
    admin.click("#gifts tr[data-status=paid] button")
    admin.wait_for_selector(".flash--success")
    assert "A new link went to waiting@example.com" in admin.inner_text(".flashes")
    assert mailbox.link_to("waiting@example.com", "/gift/redeem/")


def waiting_gift(session):  # type: ignore[no-untyped-def]
    """A paid gift whose recipient has not redeemed it yet."""
    now = utcnow()
    session.add(
        Gift(
            buyer_email="aunt@example.com", recipient_email="waiting@example.com",
            message="", plan_code="premium", plan_name="Premium", tier="premium", months=12,
            amount=22800, currency="usd", paid_at=now, notified_at=now,
        )
    )  # fmt: skip
    session.commit()

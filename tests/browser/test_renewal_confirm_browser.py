"""Real Chromium: a past-due reader whose renewal waits for 3-D Secure confirms it from
the gate, through the emulator's stand-in Stripe.js challenge, and reads the article.

Full-page screenshots of the gate and the account page in that state, at a desktop and
a phone width, go to ``PAYWALL_SCREENSHOT_DIR`` when it is set (else the test's own
temporary folder), for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.billing import conftest as billing
from tests.billing.emulated import ALWAYS_AUTHENTICATE
from tests.billing.test_renewal_and_card import age_the_failure, status_of
from tests.billing.test_stuck_payers import card_known, settled, subscribed
from tests.browser.test_billing_browser import sign_in
from tests.factories import SECRET

# The billing fixtures (the emulator process, the live app wired to it), used here too.
emulator, stripe_side, billing_app = billing.emulator, billing.stripe_side, billing.billing_app
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PAYWALL_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(page, folder: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at each width, whole; nothing may stick out sideways."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def test_a_past_due_reader_confirms_the_renewal_from_the_gate_and_reads_on(
    billing_app, stripe_side, page, shots
):
    slug = billing_app.article()
    reader, customer_id, subscription_id = subscribed(billing_app)
    stripe_side.renew_needing_authentication(customer_id, subscription_id)
    settled(billing_app, reader.email, status="past_due", latest_payment_needs_action=True)
    card_known(billing_app, reader.email, ALWAYS_AUTHENTICATE)
    age_the_failure(billing_app, days=8)  # the grace period is over: the gate is shut

    article = f"/articles/{slug}"
    page.goto(f"{billing_app.url}/account/billing")  # signs in on the way
    sign_in(page, billing_app.url, reader.email, "/account/billing")
    assert page.locator("#confirm-renewal-notice").is_visible()
    assert page.locator("#confirm-payment-button").is_visible()
    assert page.locator("#subscription-status").inner_text() == (
        "Waiting for you to confirm the payment"
    )
    assert page.locator("#next-renewal").count() == 0  # this renewal is not paid yet
    screenshots(page, shots, "account-renewal-needs-confirming")

    page.goto(f"{billing_app.url}{article}")
    gate = page.locator("#paywall-gate")
    assert gate.get_attribute("data-reason") == "payment_failed"
    assert SECRET not in page.content()
    first = gate.locator("[data-action]").first
    assert first.get_attribute("data-action") == "confirm_payment"
    assert first.inner_text() == "Confirm your payment"
    screenshots(page, shots, "gate-renewal-needs-confirming")

    first.click()
    page.wait_for_selector("#confirm-submit")
    assert "renewal" in page.locator("main").inner_text()
    screenshots(page, shots, "confirm-renewal")
    page.click("#confirm-submit")
    page.click("text=Complete authentication")  # the stand-in's 3-D Secure challenge

    page.wait_for_url(f"{billing_app.url}{article}")
    assert SECRET in page.locator(".paywalled-content").inner_text()
    assert page.locator("#paywall-gate").count() == 0
    assert status_of(billing_app, reader.email) == "active"
    assert stripe_side.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"

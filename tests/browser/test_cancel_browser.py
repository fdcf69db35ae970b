"""Real Chromium: a subscriber cancels from the billing page, confirms on a page that
says when access ends, keeps reading until then, and can resume."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from billing.models import Subscription
from tests.billing import conftest as billing
from tests.billing.test_stuck_payers import settled, subscribed
from tests.billing.test_subscribe import snapshot_of
from tests.browser.test_billing_browser import sign_in
from tests.factories import SECRET

# The billing fixtures (the emulator process, the live app wired to it), used here too.
emulator, stripe_side, billing_app = billing.emulator, billing.stripe_side, billing.billing_app


def colours(page, selector: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The computed background and text colour of the element."""
    return page.eval_on_selector(
        selector,
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]",
    )


def test_a_subscriber_cancels_with_confirmation_and_reads_until_the_period_ends(billing_app, page):
    slug = billing_app.article()
    reader, _, _ = subscribed(billing_app)
    ends = f"{snapshot_of(billing_app, reader.email)[0].current_period_end:%-d %B %Y}"
    sign_in(page, billing_app.url, reader.email, "/account/billing")

    # Cancelling is a quiet, destructive-looking link, not the page's main action.
    cancel_link = page.locator("#cancel-link")
    expect(cancel_link).to_have_text("Cancel subscription…")
    assert colours(page, "#cancel-link")[0] == "rgb(255, 255, 255)"  # secondary: no fill
    cancel_link.click()

    # The confirmation says when reading stops and asks why, optionally.
    page.wait_for_url(f"{billing_app.url}/account/billing/cancel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your subscription?")
    expect(page.locator("#access-ends")).to_contain_text(f"You keep reading until {ends}.")
    reason = page.get_by_label("Why are you leaving? (optional)")
    expect(reason).to_have_value("")  # "Rather not say" unless chosen
    keep = page.get_by_role("link", name="Keep my subscription")
    confirm = page.get_by_role("button", name="Cancel subscription")
    keep_fill, _ = colours(page, "text=Keep my subscription")
    confirm_fill, confirm_ink = colours(page, "#confirm-cancel")
    assert keep_fill != "rgb(255, 255, 255)"  # keeping is the primary action
    assert confirm_fill == "rgb(255, 255, 255)" and confirm_ink != keep_fill  # secondary, red
    assert snapshot_of(billing_app, reader.email)[0].cancel_at_period_end is False
    expect(keep).to_be_visible()

    reason.select_option(label="I don't read it enough")
    page.get_by_label("Anything else we should know? (optional)").fill("Back in spring.")
    confirm.click()

    # Back on the billing page: access until that day, and a way back.
    page.wait_for_url(f"{billing_app.url}/account/billing")
    expect(page.get_by_text(f"Your subscription will end on {ends}.")).to_be_visible()
    expect(page.locator("#subscription-status")).to_have_text(
        f"Canceled: you can read until {ends}"
    )
    expect(page.locator("#ends-on")).to_have_text(ends)
    expect(page.get_by_role("button", name="Resume subscription")).to_be_visible()
    expect(page.locator("#cancel-link")).to_have_count(0)
    expect(page.locator("#next-renewal")).to_have_count(0)
    settled(billing_app, reader.email, cancel_at_period_end=True)
    kept = billing_app.query(
        lambda s: s.execute(select(Subscription.cancel_reason, Subscription.cancel_comment)).one()
    )
    assert tuple(kept) == ("unused", "Back in spring.")

    # The article still opens in full until then, with a word about the end.
    page.goto(f"{billing_app.url}/articles/{slug}")
    expect(page.locator(".paywalled-content")).to_contain_text(SECRET)
    expect(page.locator("#paywall-gate")).to_have_count(0)
    expect(page.get_by_text("Your access ends on")).to_be_visible()

    # Changing their mind: resume from the billing page, renewing as before.
    page.goto(f"{billing_app.url}/account/billing")
    page.get_by_role("button", name="Resume subscription").click()
    expect(page.get_by_text("Your subscription is running and renews as before.")).to_be_visible()
    expect(page.locator("#subscription-status")).to_have_text("Active")
    settled(billing_app, reader.email, cancel_at_period_end=False)

"""Reader accounts in a real browser: what a person sees while signing up, confirming,
signing in every way, resetting a password, and staying (or not staying) signed in."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import DEFAULT_PASSWORD, ReaderFactory

PASSWORD = "a very good password"
NEW_PASSWORD = "an even better password"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def sign_in_with_password(page: Page, email: str, password: str, remember: bool = False) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You're signed out.")).to_be_visible()


def test_reader_signs_up_confirms_and_signs_in_every_way(page, live_server, mailbox, app_ctx):
    page.goto(f"{live_server}/signup")
    page.get_by_label("Name").fill("Nia Reader")
    page.get_by_label("Email").fill("Nia@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email to finish")).to_be_visible()
    expect(page.get_by_text("We've sent an email to Nia@Example.com")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # not signed in yet

    page.goto(mailbox.link_to("nia@example.com", "/signup/confirm/"))
    expect(page.get_by_role("heading", name="Finish creating your account")).to_be_visible()
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(
        page.get_by_text("Your email address is confirmed and you're signed in.")
    ).to_be_visible()
    page.get_by_role("link", name="nia@example.com").click()
    expect(page.get_by_text("Email confirmed.")).to_be_visible()
    sign_out(page)

    # by password
    page.get_by_role("link", name="Sign in").click()
    sign_in_with_password(page, "nia@example.com", PASSWORD)
    expect(page.get_by_role("link", name="nia@example.com")).to_be_visible()
    sign_out(page)

    # by emailed link, which works once
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Email me a sign-in link instead").click()
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = mailbox.link_to("nia@example.com", "/signin/link/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in as nia@example.com?")).to_be_visible()
    page.get_by_role("button", name="Sign me in").click()
    expect(page.get_by_text("You're signed in.")).to_be_visible()
    sign_out(page)
    page.goto(link)
    expect(page.get_by_role("heading", name="This link can't be used")).to_be_visible()
    page.get_by_role("link", name="Email me a new sign-in link").click()
    expect(page.get_by_role("heading", name="Sign in with a link")).to_be_visible()

    # password reset
    page.get_by_role("link", name="Sign in with a password").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(mailbox.link_to("nia@example.com", "/password/reset/"))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Your password is changed, and you're signed in.")).to_be_visible()
    sign_out(page)

    page.get_by_role("link", name="Sign in").click()
    sign_in_with_password(page, "nia@example.com", PASSWORD)
    expect(
        page.locator("#password-errors").get_by_text("That email and password don't match")
    ).to_be_visible()
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="nia@example.com")).to_be_visible()


def test_sign_up_mistakes_are_shown_beside_their_fields_and_a_taken_email_is_none(
    page, live_server, mailbox, app_ctx
):
    ReaderFactory(email="taken@example.com")
    page.goto(f"{live_server}/signup")
    page.get_by_label("Email").fill("taken@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    email, password = page.get_by_label("Email"), page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-errors")).to_have_text("Use at least 10 characters.")
    expect(email).to_have_value("taken@example.com")

    password.fill("aaaaaaaaaa")
    page.get_by_role("button", name="Create account").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-errors")).to_contain_text("That password is too easy to guess.")

    password.fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email to finish")).to_be_visible()
    expect(page.get_by_text("already")).to_have_count(0)


def persistent_cookies_only(context: Any) -> list[dict[str, Any]]:
    """The cookies a browser keeps after it is closed (those with an expiry date)."""
    return [cookie for cookie in context.cookies() if cookie["expires"] > 0]


def test_keep_me_signed_in_survives_closing_the_browser(browser, live_server, app_ctx):
    ReaderFactory(email="ann@example.com")
    for remember in (True, False):
        first = browser.new_context()
        page = first.new_page()
        page.goto(f"{live_server}/signin")
        sign_in_with_password(page, "ann@example.com", DEFAULT_PASSWORD, remember=remember)
        expect(page.get_by_role("link", name="ann@example.com")).to_be_visible()
        kept = persistent_cookies_only(first)
        first.close()

        reopened = browser.new_context()
        reopened.add_cookies(kept)
        page = reopened.new_page()
        page.goto(f"{live_server}/account")
        if remember:
            expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        else:
            expect(page.get_by_text("Please sign in to see that page.")).to_be_visible()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        reopened.close()


def test_changing_the_password_signs_out_the_other_browser(browser, live_server, app_ctx):
    ReaderFactory(email="ann@example.com")
    laptop, phone = browser.new_context(), browser.new_context()
    on_laptop, on_phone = laptop.new_page(), phone.new_page()
    for page in (on_laptop, on_phone):
        page.goto(f"{live_server}/signin")
        sign_in_with_password(page, "ann@example.com", DEFAULT_PASSWORD, remember=True)
        expect(page.get_by_role("link", name="ann@example.com")).to_be_visible()

    on_laptop.goto(f"{live_server}/account")
    password_form = on_laptop.locator("#change-password-form")
    password_form.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    password_form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    password_form.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    password_form.get_by_role("button", name="Change password").click()
    expect(on_laptop.get_by_text("Other devices have been signed out.")).to_be_visible()

    on_phone.goto(f"{live_server}/account")
    expect(on_phone.get_by_text("Please sign in to see that page.")).to_be_visible()
    laptop.close()
    phone.close()


def test_reader_signs_out_a_lost_phone_from_the_account_page(page, browser, live_server, app_ctx):
    ReaderFactory(email="ann@example.com")
    phone_context = browser.new_context(user_agent=IPHONE)
    try:
        phone = phone_context.new_page()
        phone.goto(f"{live_server}/signin")
        sign_in_with_password(phone, "ann@example.com", DEFAULT_PASSWORD, remember=True)
        expect(phone.get_by_role("link", name="ann@example.com")).to_be_visible()

        page.goto(f"{live_server}/signin?next=/account")
        sign_in_with_password(page, "ann@example.com", DEFAULT_PASSWORD)
        devices = page.locator("#sessions li")
        expect(devices).to_have_count(2)
        expect(devices.first).to_contain_text("this device")
        lost = devices.filter(has_text="Mobile Safari on iOS")
        expect(lost).to_contain_text("kept signed in")
        lost.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("That device is signed out.")).to_be_visible()
        expect(devices).to_have_count(1)

        phone.reload()
        expect(phone.get_by_role("link", name="Sign in")).to_be_visible()
    finally:
        phone_context.close()


def test_a_failed_sign_up_moves_focus_to_the_error_summary(live_server, page):
    page.goto(f"{live_server}/signup")
    page.keyboard.press("Tab")  # the skip link is the first stop, and leads to the content
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.fill("#sign-up-form input[name=email]", "not-an-address")
    page.fill("#sign-up-form input[name=password]", "short")
    page.click("#sign-up-form button[type=submit]")
    page.wait_for_selector("#error-summary")
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    links = summary.locator("a")
    assert links.count() >= 1
    links.first.click()  # each problem leads to its field
    assert page.evaluate("() => document.activeElement.tagName") == "INPUT"

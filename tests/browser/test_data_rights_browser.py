"""A reader's data rights in a real browser: changing the email through the link sent to
the new address, downloading the data, and deleting the account."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.factories import DEFAULT_PASSWORD, ReaderFactory

OLD, NEW = "kim@example.com", "kim.new@example.com"


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=email)).to_be_visible()


def test_reader_changes_email_then_downloads_data_then_deletes_the_account(
    page, live_server, mailbox, app_ctx
):
    ReaderFactory(email=OLD, name="Kim Reader")
    sign_in(page, live_server, OLD)
    page.get_by_role("link", name=OLD).click()

    change = page.locator("#change-email-form")
    change.get_by_label("New email").fill(NEW)
    change.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    change.get_by_role("button", name="Send a confirmation link").click()
    expect(page.get_by_text(f"We've sent a link to {NEW}.")).to_be_visible()
    expect(page.get_by_role("link", name=OLD)).to_be_visible()  # nothing changed yet

    page.goto(mailbox.link_to(NEW, "/account/email/confirm/"))
    expect(page.get_by_role("heading", name=f"Use {NEW} from now on?")).to_be_visible()
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_text(f"Your email address is now {NEW}.")).to_be_visible()
    expect(page.get_by_role("link", name=NEW)).to_be_visible()

    with page.expect_download() as started:
        page.get_by_role("link", name="Download my data (JSON)").click()
    download = started.value
    assert download.suggested_filename.startswith("my-data-")
    data = json.loads(download.path().read_text(encoding="utf-8"))
    assert data["account"]["email"] == NEW and data["account"]["name"] == "Kim Reader"

    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    page.get_by_label("Your email address or your password").fill("not it")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Type your email address or your password exactly.")).to_be_visible()
    page.get_by_label("Your email address or your password").fill(NEW)
    page.get_by_role("button", name="Delete my account").click()
    expect(
        page.get_by_text("Your account is deleted and you're signed out everywhere.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    page.goto(f"{live_server}/signin")
    page.get_by_label("Email").fill(NEW)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.locator("#password-errors").get_by_text(
            "That email and password don't match an account."
        )
    ).to_be_visible()

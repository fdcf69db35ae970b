"""A reader meets the gate in a real browser: signs in from it and lands back on the
article, and an anonymous visit never receives the gated text.

Account journeys (sign up, confirm, reset, remember me) are in test_accounts_browser.py.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import SECRET, ArticleFactory, ReaderFactory

PASSWORD = "a very good password"


def test_sign_in_with_an_emailed_link_returns_to_the_article(page, live_server, mailbox, app_ctx):
    ReaderFactory(email="linky@example.com")
    article = ArticleFactory(access_level="registered", title="Members story")
    page.goto(f"{live_server}/articles/{article.slug}")
    expect(
        page.get_by_role("heading", name="Create a free account to keep reading")
    ).to_be_visible()
    page.locator("#paywall-gate").get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Email me a sign-in link instead").click()
    page.get_by_label("Email").fill("linky@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_text("If an account exists for linky@example.com")).to_be_visible()

    page.goto(mailbox.link_to("linky@example.com", "/signin/link/"))
    page.get_by_role("button", name="Sign me in").click()
    expect(page.get_by_role("heading", name="Members story")).to_be_visible()
    expect(page.get_by_text(SECRET)).to_be_visible()


def test_sign_in_with_the_emailed_code_returns_to_the_article(page, live_server, mailbox, app_ctx):
    # As in a mail app's web view, where the emailed link would open another browser.
    ReaderFactory(email="coder@example.com")
    article = ArticleFactory(access_level="registered", title="Members story")
    page.goto(f"{live_server}/articles/{article.slug}")
    page.locator("#paywall-gate").get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Email me a sign-in link instead").click()
    page.get_by_label("Email").fill("coder@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    email = mailbox.text_of(mailbox.last_to("coder@example.com"))
    code = re.search(r"^(\d{6})\r?$", email, re.MULTILINE).group(1)  # type: ignore[union-attr]
    field = page.get_by_label("Sign-in code")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    field.fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Sign in with the code").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#code-errors")).to_contain_text("That isn't the code we sent.")

    field.fill(f"{code[:3]} {code[3:]}")
    page.get_by_role("button", name="Sign in with the code").click()
    expect(page.get_by_role("heading", name="Members story")).to_be_visible()
    expect(page.get_by_text(SECRET)).to_be_visible()


def test_anonymous_visit_never_receives_the_gated_text(page, live_server, app_ctx):
    ArticleFactory(access_level="paid", title="Subscribers story")
    bodies: list[bytes] = []
    page.on("response", lambda response: bodies.append(response.body()))

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Subscribers story").click()
    gate = page.locator("#paywall-gate")
    expect(gate).to_be_visible()
    expect(gate.get_by_role("heading")).to_have_text("This article is for subscribers")
    expect(page.get_by_text(SECRET)).to_have_count(0)

    assert len(bodies) >= 3  # front page, article, stylesheet at least
    assert all(SECRET.encode() not in body for body in bodies)

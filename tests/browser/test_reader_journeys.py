"""A reader's journeys in a real browser: sign up, confirm, sign in both ways, reset,
and hit the gate without the gated text ever reaching the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import SECRET, ArticleFactory, ReaderFactory

PASSWORD = "a very good password"


def test_sign_up_confirm_sign_out_and_sign_in_again(page, live_server, mailbox, app_ctx):
    page.goto(f"{live_server}/signup")
    page.get_by_label("Name").fill("Nia Reader")
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("We've sent a confirmation link to nia@example.com")).to_be_visible()

    page.goto(mailbox.link_to("nia@example.com", "/verify/"))
    expect(page.get_by_text("your email address is confirmed")).to_be_visible()
    expect(page.get_by_text("Email confirmed.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You're signed out.")).to_be_visible()

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password don't match an account.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="nia@example.com")).to_be_visible()


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


def test_password_reset_through_the_pages(page, live_server, mailbox, app_ctx):
    ReaderFactory(email="forgot@example.com")
    page.goto(f"{live_server}/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("forgot@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("Check your email")).to_be_visible()

    page.goto(mailbox.link_to("forgot@example.com", "/password/reset/"))
    page.get_by_label("New password", exact=True).fill("a fresh new password")
    page.get_by_label("Repeat the new password").fill("a fresh new password")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Your password is changed, and you're signed in.")).to_be_visible()


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

"""Real Chromium: an editor previews an article from the console as an anonymous visitor,
a free account and a subscriber, and each preview is what that reader really sees;
a draft previews the same way before anyone can open it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.test_console_browser import sign_in as staff_sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    SECRET,
    ArticleFactory,
    CustomerFactory,
    EditorFactory,
    PlanFactory,
    ReaderFactory,
    SubscriptionFactory,
)

VIEWERS = ("Anonymous visitor", "Free account", "Subscriber")


def what_is_shown(page: Page) -> dict[str, Any]:
    """What a reader of the article page reads: its text, and the gate if there is one."""
    gate = page.locator("#paywall-gate")
    shown: dict[str, Any] = {
        "title": page.inner_text("h1.article__title"),
        "body": page.inner_text(".article__body"),
        "full": page.locator(".paywalled-content").count() == 1,
        "gate": None,
    }
    if gate.count():
        shown["gate"] = {
            "reason": gate.get_attribute("data-reason"),
            "title": gate.locator(".gate__title").inner_text(),
            "message": gate.locator(".gate__message").inner_text(),
            "actions": gate.locator(".gate__actions a").all_inner_texts(),
        }
    return shown


def as_reader(browser: Any, base: str, path: str, email: str | None) -> dict[str, Any]:
    """What ``email`` (None: nobody) sees at ``path``, in a browser of their own."""
    context = browser.new_context()
    try:
        page = context.new_page()
        if email is not None:
            page.goto(f"{base}/signin?next={path}")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(DEFAULT_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}{path}")
        else:
            page.goto(f"{base}{path}")
        return what_is_shown(page)
    finally:
        context.close()


def preview_as(page: Page, viewer: str) -> dict[str, Any]:
    bar = page.get_by_role("navigation", name="Preview")
    link = bar.get_by_role("link", name=viewer)
    if link.count():
        link.click()
    expect(bar.locator("[aria-current=page]")).to_have_text(viewer)
    return what_is_shown(page)


def test_an_editor_previews_an_article_as_each_reader_sees_it(page, browser, live_server, app_ctx):
    PlanFactory(code="monthly", tier="standard")
    article = ArticleFactory(title="The harbour ferry is back", access_level="paid")
    ArticleFactory(title="Another story", access_level="paid")
    free = ReaderFactory(email="free@example.com")
    subscriber = ReaderFactory(email="subscriber@example.com")
    SubscriptionFactory(
        customer_id=CustomerFactory(reader_id=subscriber.id).id,
        plan_code="monthly",
        current_period_end=datetime.now(UTC) + timedelta(days=20),
    )
    path = f"/articles/{article.slug}"
    really = {
        "Anonymous visitor": as_reader(browser, live_server, path, None),
        "Free account": as_reader(browser, live_server, path, free.email),
        "Subscriber": as_reader(browser, live_server, path, subscriber.email),
    }
    assert [seen["gate"] and seen["gate"]["reason"] for seen in really.values()] == [
        "anonymous", "no_subscription", None
    ]  # fmt: skip

    staff_sign_in(page, live_server, EditorFactory().email)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Articles").click()
    page.get_by_label("Title contains").fill("ferry")
    page.get_by_role("button", name="Show").click()
    row = page.locator("#articles tbody tr", has_text="The harbour ferry is back")
    expect(page.locator("#articles tbody tr")).to_have_count(1)
    row.get_by_role("link", name="Preview").click()

    for viewer in VIEWERS:
        shown = preview_as(page, viewer)
        assert shown == really[viewer], viewer
        assert (SECRET in shown["body"]) is (viewer == "Subscriber")
    expect(page.get_by_role("navigation", name="Preview")).to_contain_text(
        "This reader reads it in full (subscriber)"
    )


def test_an_unpublished_draft_previews_before_anyone_can_open_it(
    page, browser, live_server, app_ctx
):
    draft = ArticleFactory(title="Unpublished scoop", access_level="registered", published_at=None)
    staff_sign_in(page, live_server, EditorFactory().email)
    page.goto(f"{live_server}/admin/articles?state=draft")
    row = page.locator("#articles tbody tr", has_text="Unpublished scoop")
    expect(row).to_have_attribute("data-state", "draft")
    row.get_by_role("link", name="Preview").click()

    bar = page.get_by_role("navigation", name="Preview")
    expect(bar).to_contain_text("Preview of a draft")
    anonymous = preview_as(page, "Anonymous visitor")
    assert (
        anonymous["gate"]["reason"] == "registration_required" and SECRET not in anonymous["body"]
    )
    assert anonymous["title"] == "Unpublished scoop"
    for viewer in ("Free account", "Subscriber"):  # a free account reads "registered" pieces
        shown = preview_as(page, viewer)
        assert shown["full"] and shown["gate"] is None and SECRET in shown["body"], viewer

    # Nobody outside the console can open it yet.
    outside = browser.new_context()
    try:
        response = outside.new_page().goto(f"{live_server}/articles/{draft.slug}")
        assert response is not None and response.status == 404
    finally:
        outside.close()

"""The gate embedded in a publisher's site on another origin, in real Chromium: the
teaser and gate for a visitor, sign-in through the popup without a reload, sign-out,
nothing for an unregistered origin, and the teaser alone when the paywall is down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from paywall.embed.demo_site import Story, link_published_articles, publisher_app
from paywall.embed.sites import create_site, find_site
from tests.conftest import free_port
from tests.factories import DEFAULT_PASSWORD, SECRET, ArticleFactory, ReaderFactory
from tests.live import serving

RECORD_EVENTS = """
window.__decisions = [];
document.addEventListener("paywall:decision", (e) => window.__decisions.push(e.detail.reason));
"""


@dataclass
class NewsSite:
    """The demo publisher's pages, served on their own origin."""

    url: str
    site_key: str
    stories: list[Story]

    def story(self, slug: str) -> str:
        return f"{self.url}/articles/{slug}"


@pytest.fixture
def news(live_server: str, app_ctx: Any) -> Iterator[tuple[NewsSite, ExitStack]]:
    """A registered publisher site on localhost:<its own port> (the paywall is on
    127.0.0.1, as in the demo: two origins), and a stack for more."""
    ArticleFactory(access_level="paid", title="Harbour secrets", slug="harbour-secrets")
    port = free_port()
    site = create_site("Harbour Herald", [f"http://localhost:{port}"]).site
    stories = link_published_articles(site)
    with ExitStack() as stack:
        url = stack.enter_context(
            serving(publisher_app(live_server, site.public_key, stories), "localhost", port)
        )
        yield NewsSite(url, site.public_key, stories), stack


def gate(page: Any) -> Any:
    return page.locator("[data-paywall-gate]")


def sign_in_within(popup: Any, email: str) -> Any:
    """Fill in the paywall's sign-in form where the popup opened it."""
    popup.get_by_label("Email").fill(email)
    popup.get_by_label("Password").fill(DEFAULT_PASSWORD)
    popup.get_by_role("button", name="Sign in").click()
    return popup


def test_visitor_sees_teaser_and_gate_and_no_response_carries_the_rest(page, news):
    site, _ = news
    bodies: list[bytes] = []

    def record(response: Any) -> None:
        try:
            bodies.append(response.body())
        except Exception:  # redirects and preflights have no body to read
            bodies.append(b"")

    page.on("response", record)
    page.add_init_script(RECORD_EVENTS)
    page.goto(site.story("harbour-secrets"))
    expect(gate(page).get_by_role("heading")).to_have_text("This article is for subscribers")
    expect(gate(page).get_by_role("button", name="Sign in")).to_be_visible()
    expect(gate(page).get_by_role("button", name="Subscribe")).to_be_visible()
    expect(page.get_by_text("A second paragraph anyone may read.")).to_be_visible()
    expect(page.get_by_text(SECRET)).to_have_count(0)
    assert page.evaluate("window.__decisions") == ["anonymous"]

    assert any(b'"reason":"anonymous"' in body.replace(b" ", b"") for body in bodies)
    assert all(SECRET.encode() not in body for body in bodies)


def test_reader_signs_in_through_the_popup_and_reads_on_without_a_reload(page, news, app_ctx):
    site, _ = news
    ReaderFactory(email="comped@example.com", is_comped=True)
    page.add_init_script(RECORD_EVENTS)
    page.goto(site.story("harbour-secrets"))
    page.evaluate("window.__sameDocument = true")

    with page.expect_popup() as opened:
        gate(page).get_by_role("button", name="Sign in").click()
    popup = opened.value
    with popup.expect_event("close"):  # it may close before a later wait would start
        sign_in_within(popup, "comped@example.com")

    expect(page.get_by_text(SECRET)).to_be_visible()
    expect(page.get_by_text("Signed in as comped@example.com")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("window.__decisions") == ["anonymous", "comped"]
    token = page.evaluate(f"localStorage.getItem('paywall.token.{site.site_key}')")
    assert token.startswith("pw_rt_")

    page.get_by_role("button", name="Sign out").click()
    expect(gate(page).get_by_role("heading")).to_have_text("This article is for subscribers")
    expect(page.get_by_text(SECRET)).to_have_count(0)
    assert page.evaluate(f"localStorage.getItem('paywall.token.{site.site_key}')") is None
    assert find_site(site.site_key) is not None


def test_a_page_on_an_unregistered_origin_gets_no_text_and_a_clear_console_warning(
    page, news, live_server
):
    site, stack = news
    stray = stack.enter_context(
        serving(publisher_app(live_server, site.site_key, site.stories), "127.0.0.1", free_port())
    )
    with (
        page.expect_console_message(lambda m: "origin_not_allowed" in m.text) as warned,
        page.expect_response(lambda r: "/decisions/" in r.url) as answered,
    ):
        page.goto(f"{stray}/articles/harbour-secrets")
    assert answered.value.status == 403
    assert answered.value.json()["error"]["code"] == "origin_not_allowed"
    assert warned.value.type == "warning"
    assert stray in warned.value.text and "localhost" in warned.value.text
    expect(page.get_by_text("A second paragraph anyone may read.")).to_be_visible()
    expect(gate(page)).to_have_count(0)
    expect(page.get_by_text(SECRET)).to_have_count(0)


def test_the_teaser_stays_when_the_paywall_is_unreachable(page):
    gone = f"http://127.0.0.1:{free_port()}"
    story = Story("x", "A story", "", "<p>The teaser the publisher rendered</p>")
    with serving(publisher_app(gone, "pw_pk_any", [story]), "127.0.0.1", free_port()) as url:
        page.goto(f"{url}/articles/x")
        expect(page.get_by_text("The teaser the publisher rendered")).to_be_visible()
        expect(gate(page)).to_have_count(0)


def test_subscribe_button_opens_the_plans_and_a_reader_signing_in_there_is_known(
    page, news, app_ctx
):
    """Subscribe opens the plans at once (subscribing makes the account); a reader who
    has one signs in from there, the page learns who they are, and the plans remain."""
    site, _ = news
    ReaderFactory(email="plain@example.com")
    page.goto(site.story("harbour-secrets"))
    with page.expect_popup() as opened:
        gate(page).get_by_role("button", name="Subscribe").click()
    popup = opened.value
    popup.wait_for_url(re.compile(r"/subscribe\?next=/embed/connect"))
    popup.get_by_role("link", name="Sign in").click()
    sign_in_within(popup, "plain@example.com")
    popup.wait_for_url(re.compile(r"/subscribe\?next=/embed/done"))
    # The host page already knows the reader; the gate now speaks to them.
    expect(gate(page).get_by_role("heading")).to_have_text("This article is for subscribers")
    expect(page.get_by_text("Signed in as plain@example.com")).to_be_visible()
    expect(gate(page).get_by_role("button", name="Sign in")).to_have_count(0)

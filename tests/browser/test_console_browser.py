"""The console in a real browser: the dashboard draws its charts at desktop and phone
widths, and the staff navigation leads to each page."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.factories import (
    DEFAULT_PASSWORD,
    ArticleFactory,
    EditorFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
)

SHOTS = os.environ.get("PAYWALL_SHOTS_DIR")  # set to keep screenshots of the pages


def some_business() -> None:
    now = datetime.now(UTC)
    PlanFactory(code="monthly", amount=900, currency="usd")
    PlanFactory(code="yearly", amount=9000, currency="usd", interval="year")
    PlanFactory(code="monatlich", amount=800, currency="eur")
    for weeks_ago in range(12):
        start = now - timedelta(weeks=weeks_ago, hours=1)
        for n in range(weeks_ago % 4 + 1):
            SubscriptionFactory(
                plan_code=("monthly", "yearly", "monatlich")[n % 3], created_at=start
            )
        if weeks_ago % 3 == 0:
            SubscriptionFactory(created_at=start - timedelta(weeks=8), ended_at=start,
                                status="canceled", plan_code="monthly")  # fmt: skip
    trial = SubscriptionFactory(plan_code="monthly", trial_end=now - timedelta(days=2))
    InvoiceFactory(stripe_subscription_id=trial.stripe_subscription_id)  # paid after it
    InvoiceFactory(status="paid", attempt_count=2)
    InvoiceFactory(status="uncollectible", attempt_count=4, amount_paid=0)
    ArticleFactory(title="The harbour ferry is back")


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/signin?next=/admin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_the_dashboard_draws_its_charts_on_a_desktop_and_a_phone(page, live_server, app_ctx):
    some_business()
    editor = EditorFactory()
    sign_in(page, live_server, editor.email)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    shoot(page, "overview-1280")

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    for chart in ("revenue-usd", "revenue-eur", "running", "movement"):
        svg = page.locator(f"#{chart} svg")
        expect(svg).to_be_visible()
        assert svg.bounding_box()["height"] > 100
    expect(page.get_by_role("img", name="New and ended subscriptions per week")).to_be_visible()
    assert page.locator("#movement rect.chart__bar").count() == 24
    assert page.locator("#running circle").count() == 12
    expect(page.locator("#trial-conversion .share__value")).to_have_text("100%")
    expect(page.locator("#recovery .share__value")).to_have_text("50%")
    shoot(page, "dashboard-1280")

    for width in (390,):
        page.set_viewport_size({"width": width, "height": 844})
        page.reload()
        box = page.locator("#movement svg").bounding_box()
        assert 0 < box["width"] <= width
        no_sideways = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert no_sideways
        shoot(page, f"dashboard-{width}")
        page.goto(f"{live_server}/admin")
        shoot(page, f"overview-{width}")

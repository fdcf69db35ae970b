"""Real Chromium at a phone's width (390 px): every staff list fits the screen. Wide
tables scroll inside their own box or stack their rows, the page itself never scrolls
sideways, and every button and field can be reached."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from paywall.accounts.comps import grant_comp
from paywall.audit.log import record
from paywall.embed.sites import create_site
from paywall.extensions import db
from tests.browser.test_console_browser import sign_in
from tests.factories import (
    AdminFactory,
    ArticleFactory,
    CustomerFactory,
    PlanFactory,
    ReaderFactory,
    SubscriptionFactory,
)

SHOTS = os.environ.get("PAYWALL_SHOTS_DIR")  # set to keep screenshots of the pages
PHONE = {"width": 390, "height": 844}
LONG = "a.reader.with.a.rather.long.address.indeed"

# Everything that is not inside a box that scrolls sideways by itself must fit the screen.
OUT_OF_REACH = """() => {
  const scrollsItself = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (["auto", "scroll"].includes(style.overflowX) && p !== document.documentElement
          && p !== document.body) return true;
    }
    return false;
  };
  const out = [];
  for (const e of document.querySelectorAll(
      "main button, main .button, main input:not([type=hidden]), main select, main textarea,"
      + " main a, main h1, main p, main td, main th")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -1 || box.right > window.innerWidth + 1) {
      if (!scrollsItself(e)) out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className}:`
        + ` ${Math.round(box.left)}..${Math.round(box.right)}`
        + ` "${(e.innerText || e.value || "").slice(0, 40)}"`);
    }
  }
  return out;
}"""


def a_busy_publisher() -> dict[str, int]:
    """Rows with long words in every list; the ids of a reader and a site to open."""
    now = datetime.now(UTC)
    PlanFactory(code="monthly", name="Monthly digital access", amount=900)
    PlanFactory(code="premium-yearly-with-print", name="Premium yearly with print", amount=19900,
                interval="year", tier="premium")  # fmt: skip
    for n in range(6):
        reader = ReaderFactory(email=f"{LONG}.{n}@subscribers.example.com")
        SubscriptionFactory(
            customer_id=CustomerFactory(reader_id=reader.id).id,
            plan_code=("monthly", "premium-yearly-with-print")[n % 2],
            status=("active", "past_due", "trialing")[n % 3],
            current_period_end=now + timedelta(days=n + 3),
            cancel_at_period_end=n == 4,
        )
    for n in range(3):
        ReaderFactory(email=f"{LONG}.comped{n}@example.com")
        grant_comp(f"{LONG}.comped{n}@example.com", date.today() + timedelta(days=40))
    ReaderFactory(email="unverified.newcomer@example.com", email_verified_at=None)
    for n in range(4):
        ArticleFactory(title=f"A long headline about the harbour ferry's return, part {n}",
                       published_at=None if n == 0 else now - timedelta(days=n))  # fmt: skip
    site = create_site(
        "The Harbour Herald and Evening Courier",
        ["https://news.harbour-herald-and-evening-courier.example.com", "http://localhost:8000"],
        ["monthly"],
    ).site
    before = {"amount": 800, "name": "Monthly", "tiers": ["standard"]}
    after = {"amount": 900, "name": "Monthly digital access", "tiers": ["standard", "premium"]}
    record("plan.update", "monthly", before, after)
    db.session.commit()
    return {"reader": reader.id, "site": site.id}


def staff_pages(ids: dict[str, int]) -> list[str]:
    return [
        "/admin",
        "/admin/dashboard",
        "/admin/subscribers",
        "/admin/readers",
        "/admin/readers?state=comped",
        f"/admin/readers/{ids['reader']}",
        "/admin/articles",
        "/admin/plans",
        "/admin/audit",
        "/admin/sites",
        f"/admin/sites/{ids['site']}",
        "/admin/readers/import",
    ]


def shoot(page: Page, path: str, width: int) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "admin"
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_every_staff_list_fits_the_screen(page, live_server, app_ctx, width):
    ids = a_busy_publisher()
    sign_in(page, live_server, AdminFactory(email="admin@example.com").email)
    page.set_viewport_size({**PHONE, "width": width})
    problems: dict[str, object] = {}
    for path in staff_pages(ids):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        shoot(page, path, width)
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if sideways > 0:
            problems[path] = f"the page scrolls sideways by {sideways} px"
        elif stuck_out := page.evaluate(OUT_OF_REACH):
            problems[path] = stuck_out
    assert problems == {}

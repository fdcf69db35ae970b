"""The publisher's console: staff navigation, overview, dashboard, articles list,
preview, and the gate views and conversions behind the article funnels."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from paywall.console.funnel import article_funnels
from paywall.console.gate_views import counter, flush_to_database
from paywall.console.models import SIGN_UP, SUBSCRIPTION, ArticleConversion, GateView
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import (
    SECRET,
    AdminFactory,
    ArticleFactory,
    EditorFactory,
    PlanFactory,
    ReaderFactory,
    SubscriptionFactory,
)
from tests.helpers import path_of, sign_in, text

STAFF_PAGES = (
    "/admin",
    "/admin/dashboard",
    "/admin/articles",
    "/admin/subscribers",
    "/admin/readers",
    "/admin/gifts",
    "/admin/plans",
    "/admin/sites",
    "/editor/articles/new",
)


@pytest.fixture
def editor_web(app, app_ctx):
    web = browser_for(app)
    sign_in(web, EditorFactory().email)
    return web


def test_every_staff_page_has_the_staff_navigation_marking_where_you_are(app, editor_web):
    admin_web = browser_for(app)
    sign_in(admin_web, AdminFactory().email)
    for path in STAFF_PAGES:
        page = admin_web.get(path)
        nav = page.html.select_one("nav.staff-nav")
        assert nav is not None, path
        labels = [a.text for a in nav.select("a")]
        assert labels == [
            "Overview", "Dashboard", "Articles", "Subscribers", "Readers", "Gifts", "Plans",
            "Sites", "Audit log",
        ]  # fmt: skip
        current = nav.select('a[aria-current="page"]')
        expected = {"/editor/articles/new": "/admin/articles"}.get(path, path)
        assert [a["href"] for a in current] == [expected], path
    # Editors are shown only the pages they may open.
    nav = editor_web.get("/admin").html.select_one("nav.staff-nav")
    assert [a.text for a in nav.select("a")] == [
        "Overview", "Dashboard", "Articles", "Subscribers", "Readers", "Gifts",
    ]  # fmt: skip


def test_readers_are_refused_the_console_and_visitors_asked_to_sign_in(app, app_ctx):
    article = ArticleFactory()
    web = browser_for(app)
    for path in ("/admin", "/admin/dashboard", "/admin/articles"):
        assert web.get(path).status_int == 302
    sign_in(web, ReaderFactory().email)
    for path in ("/admin", "/admin/dashboard", "/admin/articles",
                 f"/admin/articles/{article.id}/preview"):  # fmt: skip
        assert web.get(path, expect_errors=True).status_int == 403
    assert "nav" not in str(web.get("/").html.select("nav.staff-nav"))


def test_the_overview_shows_todays_numbers_in_each_currency(editor_web):
    PlanFactory(code="monthly", amount=900, currency="usd")
    PlanFactory(code="yearly", amount=12000, currency="eur", interval="year")
    SubscriptionFactory(plan_code="monthly")
    SubscriptionFactory(plan_code="yearly")
    SubscriptionFactory(plan_code="monthly", created_at=datetime.now(UTC), status="trialing")
    ArticleFactory(published_at=None)
    ArticleFactory(published_at=datetime.now(UTC) + timedelta(days=2))

    page = editor_web.get("/admin")

    amounts = [span.text for span in page.html.select("#mrr .figure__money")]
    assert amounts == ["10.00 EUR", "9.00 USD"]
    assert page.html.select_one("#active-subscribers").text == "3"
    assert page.html.select_one("#this-week").text == "1 new, 0 ended"
    assert "1 draft" in text(page) and "1 scheduled" in text(page)


def test_gates_shown_are_counted_and_sign_ups_credited_to_the_article(
    app, app_ctx, editor_web, mailbox
):
    gated = ArticleFactory(title="The harbour ferry", access_level="registered")
    free = ArticleFactory(title="Free for all", access_level="free")
    visitor = browser_for(app)
    for _ in range(3):
        assert 'id="paywall-gate"' in visitor.get(f"/articles/{gated.slug}").text
    visitor.get(f"/articles/{free.slug}")  # no gate: not counted
    editor_web.get(f"/articles/{gated.slug}")  # staff read in full: not counted

    # The visitor signs up from the gate and comes back through the emailed link.
    gate = visitor.get(f"/articles/{gated.slug}").html.select_one("#paywall-gate")
    sign_up = visitor.get(gate.select_one('a[data-action="sign_up"]')["href"]).forms["sign-up-form"]
    sign_up["email"] = "convert@example.com"
    sign_up["password"] = "a long enough password"
    sign_up.submit()
    link = path_of(mailbox.link_to("convert@example.com", "/signup/confirm/"))
    back = visitor.get(link).forms["confirm-sign-up-form"].submit()
    assert path_of(back.location) == f"/articles/{gated.slug}"

    page = editor_web.get("/admin/dashboard")

    rows = page.html.select("#funnels tbody tr")
    assert len(rows) == 1
    cells = [cell.text.split() for cell in rows[0].select("td")]
    assert cells == [["The", "harbour", "ferry"], ["4"], ["1", "(25.0%)"], ["0", "(0.0%)"]]
    overview = editor_web.get("/admin")
    assert overview.html.select_one("#gate-views-today").text == "4"
    assert overview.html.select_one("#conversions-today").text == "1 sign-up, 0 subscriptions"


def test_article_funnels_add_up_views_and_conversions_per_article(app_ctx):
    today = datetime.now(UTC).date()
    ferry, budget, old = ArticleFactory(), ArticleFactory(), ArticleFactory()
    readers = ReaderFactory.create_batch(4)
    db.session.add_all([
        GateView(day=today, article_id=ferry.id, views=120),
        GateView(day=today - timedelta(days=3), article_id=ferry.id, views=80),
        GateView(day=today, article_id=budget.id, views=50),
        GateView(day=today - timedelta(days=40), article_id=old.id, views=999),
        *(ArticleConversion(article_id=ferry.id, reader_id=r.id, kind=SIGN_UP) for r in readers),
        ArticleConversion(article_id=ferry.id, reader_id=readers[0].id, kind=SUBSCRIPTION),
        ArticleConversion(article_id=budget.id, reader_id=readers[1].id, kind=SUBSCRIPTION),
    ])  # fmt: skip
    db.session.commit()

    rows = article_funnels(today - timedelta(days=29))

    assert [(r.article_id, r.gate_views, r.sign_ups, r.subscriptions) for r in rows] == [
        (ferry.id, 200, 4, 1),
        (budget.id, 50, 0, 1),
    ]
    assert rows[0].sign_up_percent == 2.0 and rows[0].subscription_percent == 0.5
    assert rows[1].subscription_percent == 2.0


def test_a_flush_adds_to_the_days_count_and_drops_deleted_articles(app_ctx):
    article = ArticleFactory()
    today = datetime.now(UTC).date()
    for _ in range(2):
        counter().count(article.id, today)
    counter().count(987654, today)  # an article deleted meanwhile
    assert flush_to_database() == 2
    counter().count(article.id, today)
    assert flush_to_database() == 1
    assert db.session.get(GateView, (today, article.id)).views == 3
    assert flush_to_database() == 0


def test_gate_views_of_two_processes_meet_in_redis_and_are_flushed_once(make_app, redis_queue):
    redis_url, namespace = redis_queue
    settings = {"REDIS_URL": redis_url, "JOB_QUEUE_NAMESPACE": namespace}
    first, second = make_app(**settings), make_app(**settings)
    with first.app_context():
        article = ArticleFactory()
        slug, article_id = article.slug, article.id
    for app, views in ((first, 2), (second, 3)):
        web = browser_for(app)
        for _ in range(views):
            web.get(f"/articles/{slug}")
        with app.app_context():
            counter().push()  # what a request does every few seconds
    with second.app_context():
        waiting = Counter({(article_id, datetime.now(UTC).date().isoformat()): 5})
        assert counter().take() == waiting
        counter().give_back(waiting)  # as a flush the database refused does
        assert flush_to_database() == 5
        assert flush_to_database() == 0
        assert db.session.get(GateView, (datetime.now(UTC).date(), article_id)).views == 5


def test_the_articles_list_has_drafts_and_scheduled_ones_searched_and_filtered(editor_web):
    now = datetime.now(UTC)
    ArticleFactory(title="Ferry draft", published_at=None)
    ArticleFactory(title="Ferry soon", published_at=now + timedelta(days=1), access_level="free")
    ArticleFactory(title="Budget explained", published_at=now - timedelta(days=1))

    def titles(**params: str) -> list[str]:
        page = editor_web.get("/admin/articles", params=params)
        return [
            row.select_one("a").text for row in page.html.select("#articles tbody tr[data-state]")
        ]

    assert titles() == ["Budget explained", "Ferry soon", "Ferry draft"]
    assert titles(state="draft") == ["Ferry draft"]
    assert titles(state="scheduled") == ["Ferry soon"]
    assert titles(state="published") == ["Budget explained"]
    assert titles(title="FERRY") == ["Ferry soon", "Ferry draft"]
    assert titles(title="ferry", access="free") == ["Ferry soon"]
    assert titles(title="100%") == []
    for bad in ({"access": "gold"}, {"state": "archived"}, {"older": "not-a-cursor"}):
        assert editor_web.get("/admin/articles", params=bad, expect_errors=True).status_int == 400


def test_the_articles_list_comes_a_page_at_a_time(editor_web):
    for n in range(23):
        ArticleFactory(title=f"Piece {n:02d}", published_at=None)
    first = editor_web.get("/admin/articles")
    assert len(first.html.select("#articles tbody tr")) == 20
    second = first.click(linkid="older")
    shown = [row.select_one("a").text for row in second.html.select("#articles tbody tr")]
    assert shown == ["Piece 02", "Piece 01", "Piece 00"]


def test_a_draft_previews_as_each_reader_would_see_it(editor_web):
    draft = ArticleFactory(title="Unpublished scoop", published_at=None)

    def preview(viewer: str):  # type: ignore[no-untyped-def]
        return editor_web.get(f"/admin/articles/{draft.id}/preview", params={"as": viewer})

    anonymous = preview("anonymous")
    assert anonymous.html.select_one("#paywall-gate")["data-reason"] == "anonymous"
    assert SECRET not in anonymous.text and "Preview of a draft" in text(anonymous)
    reader = preview("reader")
    assert reader.html.select_one("#paywall-gate")["data-reason"] == "no_subscription"
    assert SECRET not in reader.text
    subscriber = preview("subscriber")
    assert subscriber.html.select_one("#paywall-gate") is None
    assert SECRET in subscriber.text
    bar = subscriber.html.select_one("#preview-bar")
    assert bar["data-reason"] == "subscriber"
    assert (
        editor_web.get(
            f"/admin/articles/{draft.id}/preview", params={"as": "owner"}, expect_errors=True
        ).status_int
        == 400
    )
    assert editor_web.get("/admin/articles/999999/preview", expect_errors=True).status_int == 404


def test_previews_of_free_account_and_tier_articles(editor_web):
    registered = ArticleFactory(access_level="registered")
    PlanFactory(tier="premium")
    premium = ArticleFactory(access_level="tiers", tiers="premium")
    path = "/admin/articles/{}/preview"
    assert SECRET not in editor_web.get(path.format(registered.id)).text
    assert SECRET in editor_web.get(path.format(registered.id), params={"as": "reader"}).text
    assert SECRET not in editor_web.get(path.format(premium.id), params={"as": "reader"}).text
    assert SECRET in editor_web.get(path.format(premium.id), params={"as": "subscriber"}).text

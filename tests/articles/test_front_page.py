"""The front page: newest stories a page at a time, walked by opaque cursors, with
only what the list shows read from the database (never an article's body)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from paywall.extensions import db
from paywall.pagination import PAGE_SIZE, encode_cursor
from tests.factories import SECRET, ArticleFactory, EditorFactory
from tests.helpers import sign_in_client

STORY_LINK = re.compile(r'<h2 class="article-list__title"><a href="/articles/([^"]+)">')


def stories_on(page) -> list[str]:
    assert page.status_code == 200
    stories = page.text.split('id="stories"', 1)[-1] if 'id="stories"' in page.text else ""
    return STORY_LINK.findall(stories)


def link(page, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" id="\w+" href="([^"]+)"', page.text)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def forty_five_stories(app_ctx) -> list[str]:
    """45 published stories, newest first; some share a publication time to the second."""
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    slugs = []
    for number in range(45):
        published = start + timedelta(hours=number // 3)  # three stories an hour
        slugs.append(ArticleFactory(title=f"Story {number:02d}", published_at=published).slug)
    ArticleFactory(title="Not yet", published_at=datetime.now(UTC) + timedelta(days=1))
    ArticleFactory(title="A draft", published_at=None)
    # newest first: later hour first, and within an hour the later id first
    return slugs[::-1]


def test_front_page_shows_one_page_and_the_links_walk_every_story_once(client, forty_five_stories):
    first = client.get("/")
    assert stories_on(first) == forty_five_stories[:PAGE_SIZE]
    assert link(first, "prev") is None

    seen, page, pages = [], first, [first]
    while (older := link(page, "next")) is not None:
        page = client.get(older)
        pages.append(page)
    for page in pages:
        seen += stories_on(page)
    assert seen == forty_five_stories
    assert [len(stories_on(p)) for p in pages] == [20, 20, 5]
    assert "Not yet" not in "".join(p.text for p in pages)
    assert "A draft" not in "".join(p.text for p in pages)

    back = []
    while (newer := link(page, "prev")) is not None:
        page = client.get(newer)
        back = stories_on(page) + back
    assert back == forty_five_stories[: len(back)] and len(back) == 40
    assert link(page, "prev") is None and link(page, "next") == link(first, "next")


def test_an_editor_pages_through_scheduled_stories_with_the_drafts_on_top(
    client, forty_five_stories
):
    sign_in_client(client, EditorFactory())
    first = client.get("/")
    assert "A draft" in first.text.split('id="stories"')[0]  # the drafts panel, above
    assert stories_on(first)[0] == "not-yet"  # scheduled, at the top for staff
    second = client.get(link(first, "next"))
    assert "A draft" not in second.text


@pytest.mark.parametrize(
    "query",
    [
        "older=junk",
        "newer=%%%",
        "older=" + "A" * 5000,
        "older=" + encode_cursor(("yesterday", 3)),
        "older=" + encode_cursor(("2026-11-01T08:00:00", 3)),  # no time zone
        "older=" + encode_cursor(("0001-01-01T00:00:00+05:00", 3)),
        "older=" + encode_cursor(("2026-11-01T08:00:00+00:00", 2**80)),
        "older=" + encode_cursor(("2026-11-01T08:00:00+00:00", 2**40)),  # past the id column
        "older=" + encode_cursor(("2026-11-01T08:00:00+00:00", True)),
        "older=" + encode_cursor(("2026-11-01T08:00:00+00:00",)),
        "older=bnVsbA",  # JSON null
        "older=x&newer=y",
    ],
)
def test_a_cursor_the_site_did_not_make_gets_a_400_page(client, app_ctx, query):
    ArticleFactory()
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert "Back to the front page" in response.text


def test_a_cursor_past_the_last_story_offers_the_way_back(client, forty_five_stories):
    past = encode_cursor((datetime(2000, 1, 1, tzinfo=UTC), 1))
    page = client.get(f"/?older={past}")
    assert stories_on(page) == [] and "No older stories" in page.text
    assert stories_on(client.get(link(page, "prev"))) == forty_five_stories[-PAGE_SIZE:]


def test_the_front_page_never_reads_article_bodies(app, client, app_ctx):
    long_body = "\n\n".join(f"Paragraph {n} " + "words " * 400 for n in range(30))
    for number in range(25):
        ArticleFactory(title=f"Long read {number}", access_level="free", body_source=long_body)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get("/")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    article_reads = [s for s in statements if "FROM articles" in s]
    assert article_reads, statements
    for statement in article_reads:
        for column in ("full_html", "teaser_html", "body_source"):
            assert column not in statement
    assert len(stories_on(page)) == PAGE_SIZE
    assert len(page.data) < 40_000  # 25 bodies of ~70 KB each would be megabytes
    assert SECRET not in page.text

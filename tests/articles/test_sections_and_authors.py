"""Section and author lists: an article's section and byline link to lists of their
published stories, newest first, a page at a time, as the front page is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paywall.articles.service import ArticleError, name_slug, save_article
from paywall.extensions import db
from paywall.pagination import PAGE_SIZE, encode_cursor
from tests.articles.test_front_page import link, stories_on
from tests.factories import SECRET, ArticleFactory, EditorFactory
from tests.helpers import sign_in_client, text

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def politics(app_ctx) -> list[str]:
    """23 published Politics stories by Mara Lindqvist (some sharing a time), newest first,
    among stories of other sections and authors, a draft and a scheduled one."""
    slugs = []
    for number in range(23):
        published = START + timedelta(hours=number // 2)
        story = ArticleFactory(
            title=f"Vote {number:02d}", author="Mara Lindqvist", section="Politics",
            published_at=published,
        )  # fmt: skip
        slugs.append(story.slug)
        ArticleFactory(title=f"Match {number:02d}", author="Sven Berg", section="Sport",
                       published_at=published)  # fmt: skip
    ArticleFactory(title="Draft vote", author="Mara Lindqvist", section="Politics",
                   published_at=None)  # fmt: skip
    ArticleFactory(title="Tomorrow's vote", author="Mara Lindqvist", section="Politics",
                   published_at=datetime.now(UTC) + timedelta(days=1))  # fmt: skip
    return slugs[::-1]


def walk(client, url: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    page = client.get(url)
    pages = [stories_on(page)]
    while (older := link(page, "next")) is not None:
        page = client.get(older)
        pages.append(stories_on(page))
    return pages


@pytest.mark.parametrize("url", ["/sections/politics", "/authors/mara-lindqvist"])
def test_a_list_walks_every_published_story_once_newest_first(client, politics, url):
    pages = walk(client, url)
    assert [len(page) for page in pages] == [PAGE_SIZE, 3]
    assert [slug for page in pages for slug in page] == politics
    first = client.get(url).text
    assert "Draft vote" not in first and "Tomorrow" not in first and "Match" not in first


def test_newer_walks_back_to_the_first_page(client, politics):
    first = client.get("/sections/politics")
    last = client.get(link(first, "next"))
    back = client.get(link(last, "prev"))
    assert stories_on(back) == stories_on(first) and link(back, "prev") is None


def test_the_article_and_the_lists_link_to_section_and_author(client, politics):
    page = text(client.get(f"/articles/{politics[0]}"))
    assert '<a href="/sections/politics" rel="tag">Politics</a>' in page
    assert '<a href="/authors/mara-lindqvist" rel="author">Mara Lindqvist</a>' in page
    front = client.get("/").text
    assert 'href="/sections/sport">Sport</a>' in front
    assert 'href="/authors/sven-berg">Sven Berg</a>' in front
    section = client.get("/sections/politics").text
    assert "<h1" in section and ">Politics</h1>" in section
    assert ">By Mara Lindqvist</h1>" in client.get("/authors/mara-lindqvist").text


def test_a_list_never_carries_an_article_body(client, politics):
    assert SECRET not in client.get("/sections/politics").text
    assert SECRET not in client.get("/authors/mara-lindqvist").text


@pytest.mark.parametrize("url", ["/sections/nowhere", "/authors/nobody", "/sections/-"])
def test_an_empty_or_unknown_list_is_not_found(client, politics, url):
    assert client.get(url).status_code == 404


def test_a_list_of_only_drafts_is_not_found_even_for_staff(client, app_ctx):
    ArticleFactory(title="Quiet", section="Weather", published_at=None)
    sign_in_client(client, EditorFactory())
    assert client.get("/sections/weather").status_code == 404


@pytest.mark.parametrize("cursor", ["junk", "WyJ4Il0", encode_cursor((5,)), "!!"])
def test_a_bad_cursor_is_a_400_page(client, politics, cursor):
    assert client.get(f"/sections/politics?older={cursor}").status_code == 400
    assert client.get(f"/authors/mara-lindqvist?newer={cursor}").status_code == 400


def test_past_the_last_story_says_so(client, politics):
    oldest = START - timedelta(days=1)
    page = client.get(f"/sections/politics?older={encode_cursor((oldest, 1))}")
    assert page.status_code == 200 and "No older stories." in page.text
    assert link(page, "prev") is not None


def test_the_editor_sets_a_section_and_a_renamed_one_moves_lists(client, app_ctx):
    story = ArticleFactory(title="Harbour budget", section="  Local   news ")
    assert (story.section, story.section_slug) == ("Local news", "local-news")
    assert stories_on(client.get("/sections/local-news")) == [story.slug]
    save_article(story, title=story.title, body_source=story.body_source,
                 access_level="free", section="City", author="Ida Ström",
                 published_at=story.published_at)  # fmt: skip
    assert client.get("/sections/local-news").status_code == 404
    assert stories_on(client.get("/sections/city")) == [story.slug]
    assert stories_on(client.get("/authors/ida-strom")) == [story.slug]


def test_a_section_name_must_have_a_letter_and_fit(app_ctx):
    story = ArticleFactory(title="Kept", section="World")
    for bad in ("!!!", "x" * 81):
        with pytest.raises(ArticleError):
            save_article(story, title="Kept", body_source="Body.", access_level="free",
                         section=bad)  # fmt: skip
        db.session.rollback()
    assert db.session.get(type(story), story.id).section == "World"


def test_the_form_and_the_importer_take_a_section(client, app_ctx, tmp_path):
    from paywall.articles.importer import import_directory

    (tmp_path / "ferry.md").write_text(
        "---\ntitle: The ferry is back\nauthor: Mara Lindqvist\nsection: Local\n"
        "published: 2026-11-20T07:30:00Z\naccess: free\n---\nThe ferry runs again.\n"
    )
    report = import_directory(tmp_path)
    assert report.created == ["the-ferry-is-back"] and not report.errors
    assert stories_on(client.get("/sections/local")) == ["the-ferry-is-back"]
    sign_in_client(client, EditorFactory())
    form = client.get("/editor/articles/the-ferry-is-back/edit").text
    assert 'name="section"' in form and 'value="Local"' in form


def test_name_slug_of_names():
    assert name_slug("Mara Lindqvist") == "mara-lindqvist"
    assert name_slug("Ida Ström") == "ida-strom"
    assert name_slug("  ") == "" and name_slug("!!") == ""

"""The article page is served from per-worker caches (the article for
ARTICLE_CACHE_SECONDS, a rendered shell per article version and decision, a masthead per
reader) — and never shows a stale edit, another decision's text or another reader."""

from __future__ import annotations

import time

import pytest

import paywall.extensions
from paywall.articles.service import save_article
from tests.conftest import browser_for
from tests.factories import SECRET, ArticleFactory, EditorFactory, ReaderFactory
from tests.helpers import path_of, sign_in, sign_in_client, text


@pytest.fixture
def cached(make_app, mailbox):  # type: ignore[no-untyped-def]
    """An app that keeps article pages for a minute, as production does for seconds."""
    return make_app(ARTICLE_CACHE_SECONDS=60)


def resave(article, **changes) -> None:  # type: ignore[no-untyped-def]
    fields = {
        name: getattr(article, name)
        for name in ("title", "slug", "dek", "access_level", "body_source", "published_at")
    }
    save_article(article, **(fields | changes))


def test_an_edit_shows_at_once_on_a_cached_page(cached):
    with cached.app_context():
        EditorFactory(email="ed@example.com")
        slug = ArticleFactory(access_level="free", title="Old title").slug
    reader, editor = browser_for(cached), browser_for(cached)
    assert "Old title" in text(reader.get(f"/articles/{slug}"))

    sign_in(editor, "ed@example.com")
    form = editor.get(f"/editor/articles/{slug}/edit").forms["article-form"]
    form["title"] = "New title"
    form["body_source"] = "A rewritten first paragraph."
    form.submit()

    page = text(reader.get(f"/articles/{slug}"))
    assert "New title" in page and "A rewritten first paragraph." in page
    assert "Old title" not in page


def test_an_edit_saved_by_another_worker_shows_within_the_cache_time(cached, app_ctx, monkeypatch):
    article = ArticleFactory(access_level="free", title="Old title")
    client = cached.test_client()
    assert "Old title" in client.get(f"/articles/{article.slug}").text
    resave(article, title="New title")  # saved through the twin app: another worker
    assert "Old title" in client.get(f"/articles/{article.slug}").text
    now = time.monotonic()
    monkeypatch.setattr(paywall.extensions, "monotonic", lambda: now + 61)
    assert "New title" in client.get(f"/articles/{article.slug}").text


def test_readers_with_different_decisions_never_share_a_page(cached, app_ctx):
    slug = ArticleFactory(access_level="paid").slug
    anonymous, signed_in, staff = (cached.test_client() for _ in range(3))
    sign_in_client(signed_in, ReaderFactory())
    sign_in_client(staff, EditorFactory())
    for _ in range(2):  # the second round is served from the cached shells
        assert SECRET in staff.get(f"/articles/{slug}").text
        for client, reason in ((anonymous, "anonymous"), (signed_in, "no_subscription")):
            page = client.get(f"/articles/{slug}").text
            assert SECRET not in page and f'data-reason="{reason}"' in page
            assert "Edit this article" not in page


def test_each_reader_sees_their_own_masthead_on_a_shared_page(app, app_ctx):
    slug = ArticleFactory(access_level="free").slug
    ann, bob = ReaderFactory(email="ann@example.com"), ReaderFactory(email="bob@example.com")
    pages = {}
    for reader in (ann, bob, None):
        client = app.test_client()
        if reader is not None:
            sign_in_client(client, reader)
        pages[reader.email if reader else "anonymous"] = client.get(f"/articles/{slug}").text
    assert "ann@example.com" in pages["ann@example.com"]
    assert "bob@example.com" not in pages["ann@example.com"]
    assert "bob@example.com" in pages["bob@example.com"]
    assert f"/signin?next=/articles/{slug}" in pages["anonymous"]
    assert "Sign out" not in pages["anonymous"]


def test_flashed_messages_show_once_on_a_cached_page(web, app_ctx, mailbox):
    slug = ArticleFactory(access_level="free").slug
    web.get(f"/articles/{slug}")  # the shell is cached before the message exists
    form = web.get(f"/signup?next=/articles/{slug}").forms["sign-up-form"]
    form["email"] = "new@example.com"
    form["password"] = "a long enough password"
    form.submit()
    link = path_of(mailbox.link_to("new@example.com", "/signup/confirm/"))
    landed = web.get(link).forms["confirm-sign-up-form"].submit().follow()
    assert landed.request.path == f"/articles/{slug}"
    assert "Welcome!" in text(landed) and "new@example.com" in text(landed)
    assert "Welcome!" not in text(web.get(f"/articles/{slug}"))

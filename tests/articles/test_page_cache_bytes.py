"""The caches of pages hold at most ``PAYWALL_PAGE_CACHE_MB`` of text per worker, however
many articles are read and however long they are, and still serve every page right."""

from __future__ import annotations

from paywall.articles.pages import SHELL_CACHE
from paywall.articles.service import PAGE_CACHE
from paywall.caching import EXTENSION
from tests.factories import ArticleFactory

PARAGRAPH = "Words of a long article about the river and the council's budget. " * 15


def test_reading_many_long_articles_keeps_the_page_caches_within_their_bytes(make_app):
    bound = 64 * 1024
    app = make_app(PAGE_CACHE_BYTES=bound)
    client = app.test_client()
    with app.app_context():
        articles = [
            ArticleFactory(
                title=f"Long story {n}",
                access_level="free",
                body_source="\n\n".join(f"{n}: {PARAGRAPH}" for _ in range(12)),
            )
            for n in range(20)
        ]
        slugs = [article.slug for article in articles]
    for slug in slugs * 2:
        page = client.get(f"/articles/{slug}")
        assert page.status_code == 200
        assert slug.split("-")[-1] in page.get_data(as_text=True)
    caches = app.extensions[EXTENSION]
    for name in (PAGE_CACHE, SHELL_CACHE):
        kept = caches[name]
        assert 0 < len(kept) < len(slugs)  # some kept, not all of 20 x ~24 kB
        assert kept.weight <= bound

"""The meter counts atomically: views at the same moment never exceed the allowance.

Against a live server with a thread per request; run on PostgreSQL too.
"""

from __future__ import annotations

from sqlalchemy import func, select

from paywall.articles.models import MeterView
from paywall.extensions import db
from tests.factories import DEFAULT_PASSWORD, SECRET, ArticleFactory, ReaderFactory
from tests.live import LiveBrowser, at_once, served

ALLOWANCE = 2
ARTICLES = 10
ROUNDS = 3


def test_ten_first_views_at_once_give_no_more_full_texts_than_the_allowance(make_app, mailbox):
    app = make_app(METER_FREE_VIEWS=ALLOWANCE)
    with app.app_context():
        slugs = [ArticleFactory(access_level="paid").slug for _ in range(ARTICLES * ROUNDS)]
    with served(app) as base:
        for round_number in range(ROUNDS):
            email = f"meter{round_number}@example.com"
            with app.app_context():
                ReaderFactory(email=email)
            reader = LiveBrowser(base)
            status, _, _ = reader.submit("/signin", {"email": email, "password": DEFAULT_PASSWORD})
            assert status == 302
            round_slugs = slugs[round_number * ARTICLES : (round_number + 1) * ARTICLES]
            pages = at_once(
                [lambda s=slug, r=reader: r.get(f"/articles/{s}") for slug in round_slugs]
            )
            assert all(status == 200 for status, _, _ in pages)
            full = [
                slug
                for slug, (_, page, _) in zip(round_slugs, pages, strict=True)
                if SECRET in page
            ]
            assert len(full) == ALLOWANCE, f"{len(full)} full texts on an allowance of {ALLOWANCE}"
            # The articles read in full are the ones counted, and stay readable.
            for slug in full:
                assert SECRET in reader.get(f"/articles/{slug}")[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeterView)) == ALLOWANCE * ROUNDS


def test_the_same_article_opened_twice_at_once_is_counted_once(make_app, mailbox):
    app = make_app(METER_FREE_VIEWS=ALLOWANCE)
    with app.app_context():
        ReaderFactory(email="twice@example.com")
        slug = ArticleFactory(access_level="paid").slug
    with served(app) as base:
        reader = LiveBrowser(base)
        reader.submit("/signin", {"email": "twice@example.com", "password": DEFAULT_PASSWORD})
        pages = at_once([lambda: reader.get(f"/articles/{slug}") for _ in range(4)])
    assert all(SECRET in page for _, page, _ in pages)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeterView)) == 1

"""A reading request reads the database at most twice, however cold the worker's caches:
the signed-in reader comes with their billing state in one query, the article in another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from paywall.caching import EXTENSION as CACHES
from paywall.extensions import db
from tests.articles.test_page_caches import subscribed_with_a_card_expiring_soon
from tests.factories import SECRET, ArticleFactory, ReaderFactory
from tests.helpers import sign_in_client


@contextmanager
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL statements ``app`` sends meanwhile."""
    sent: list[str] = []

    def note(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_subscriber_on_a_paid_article_costs_two_reads_with_cold_caches(app, app_ctx):
    reader = ReaderFactory()
    subscribed_with_a_card_expiring_soon(reader, last4="4321")
    slug = ArticleFactory(access_level="paid").slug
    client = app.test_client()
    sign_in_client(client, reader)
    for kept in app.extensions[CACHES].values():
        kept._entries.clear()  # as on a worker that never saw this reader or article

    with statements(app) as sent:
        page = client.get(f"/articles/{slug}").text
    assert SECRET in page  # read in full, on the subscription
    assert "4321" in page  # with the notice about the card, from the same billing state
    assert len(sent) <= 2, sent


def test_a_free_account_reader_costs_two_reads_with_cold_caches(app, app_ctx):
    reader = ReaderFactory()
    slugs = [ArticleFactory(access_level=level).slug for level in ("free", "paid")]
    client = app.test_client()
    sign_in_client(client, reader)
    for slug in slugs:
        for kept in app.extensions[CACHES].values():
            kept._entries.clear()
        with statements(app) as sent:
            assert client.get(f"/articles/{slug}").status_code == 200
        assert len(sent) <= 2, sent

"""Pooled connections are checked before use only after sitting idle, and one the
server dropped meanwhile is replaced without a failed request."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from paywall.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.factories import ArticleFactory

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL (PAYWALL_TEST_DATABASE_URL)"
)


def drop_every_connection_of(app) -> int:  # type: ignore[no-untyped-def]
    """End the app's connections on the server, as a restart or a proxy's timeout does."""
    with app.app_context():
        url = db.engine.url
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_a_reader_sees_it(make_app):
    app = make_app(DATABASE_PING_AFTER_SECONDS=0)
    with app.app_context():
        slug = ArticleFactory(access_level="free", title="Still here").slug
    client = app.test_client()
    assert client.get(f"/articles/{slug}").status_code == 200
    assert drop_every_connection_of(app) >= 1
    app.extensions["paywall.caches"].clear()  # the article must be read again
    page = client.get(f"/articles/{slug}")
    assert page.status_code == 200 and "Still here" in page.text

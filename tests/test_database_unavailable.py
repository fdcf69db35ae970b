"""A locked or unreachable database gives a clear 503 with Retry-After, quickly.

Readers get a page that says to try again shortly, API clients a JSON error; neither
waits out the drivers' default timeouts (5 s for SQLite's lock, minutes for a
PostgreSQL host that does not answer).
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from paywall import create_app
from paywall.extensions import db
from tests.conftest import base_test_config, free_port

QUICKLY = 4  # seconds; the database timeout is 2


@pytest.fixture
def locked_sqlite(make_app, mailbox, tmp_path):
    """An app on its own SQLite file, and that file locked by another connection."""
    path = tmp_path / "locked.sqlite3"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a long migration or a stuck writer would
    try:
        yield app
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def timed_get(client, path, **kwargs):
    started = time.monotonic()
    response = client.get(path, **kwargs)
    return response, time.monotonic() - started


def assert_unavailable(response, elapsed):
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < QUICKLY, f"answered after {elapsed:.1f} s"


def test_a_locked_sqlite_database_gives_readers_a_503_page(locked_sqlite):
    response, elapsed = timed_get(locked_sqlite.test_client(), "/")
    assert_unavailable(response, elapsed)
    assert response.mimetype == "text/html"
    assert "try again" in response.text.lower()


def test_a_locked_sqlite_database_gives_the_api_a_json_503(locked_sqlite):
    response, elapsed = timed_get(
        locked_sqlite.test_client(),
        "/api/v1/articles",
        headers={"Authorization": "Bearer pw_sk_anything"},
    )
    assert_unavailable(response, elapsed)
    assert response.get_json()["error"]["code"] == "database_unavailable"


def app_on(url, tmp_path):
    """An app whose database is ``url`` (not ``make_app``'s: it empties tables after)."""
    return create_app({**base_test_config(url, tmp_path, 0), "PROPAGATE_EXCEPTIONS": False})


def test_an_unreachable_postgresql_gives_a_503(tmp_path):
    app = app_on(f"postgresql+psycopg://paywall@127.0.0.1:{free_port()}/paywall", tmp_path)
    client = app.test_client()
    for path in ("/", "/articles/any-story"):
        response, elapsed = timed_get(client, path)
        assert_unavailable(response, elapsed)
    response, elapsed = timed_get(
        client, "/api/v1/articles", headers={"Authorization": "Bearer pw_sk_anything"}
    )
    assert_unavailable(response, elapsed)
    assert response.get_json()["error"]["code"] == "database_unavailable"


def test_a_postgresql_host_that_does_not_answer_gives_a_503_quickly(tmp_path):
    # 192.0.2.0/24 is reserved for documentation: nothing answers, packets vanish.
    app = app_on("postgresql+psycopg://paywall@192.0.2.1:5432/paywall", tmp_path)
    response, elapsed = timed_get(app.test_client(), "/")
    assert_unavailable(response, elapsed)

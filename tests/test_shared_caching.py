"""Which pages a shared cache may keep, and the purges that drop them.

Only a page the same for every anonymous reader is ``public``: a request with no session
or remember-me cookie, answered 200 without setting one. Everything else stays
``private, no-store`` (``tests/test_cache_control.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from paywall.articles.service import save_article
from paywall.extensions import db
from paywall.headers import shared_cache_control
from paywall.purging import PurgeFailed, purge
from tests.conftest import free_port
from tests.draining import drain_jobs
from tests.factories import SECRET, ArticleFactory, ReaderFactory
from tests.helpers import sign_in_client

PUBLIC = shared_cache_control(60, 30)


def test_anonymous_pages_may_be_kept_by_shared_caches(client, app_ctx):
    paid = ArticleFactory(slug="paid")
    free = ArticleFactory(slug="free", access_level="free")
    registered = ArticleFactory(slug="members", access_level="registered")
    for path, key in (
        ("/articles/paid", f"article-{paid.id}"),
        ("/articles/free", f"article-{free.id}"),
        ("/articles/members", f"article-{registered.id}"),
        ("/", "lists"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == PUBLIC, path
        assert "s-maxage=60" in PUBLIC and "max-age=0," in PUBLIC  # browsers revalidate
        assert response.headers["Surrogate-Key"].split() == ["all", key], path
        assert "Cookie" in response.headers["Vary"], path
        assert response.headers["ETag"], path
        assert "Set-Cookie" not in response.headers, path
    assert SECRET not in client.get("/articles/paid").text


def test_a_validator_answers_304_until_the_page_changes(client, app_ctx):
    article = ArticleFactory(slug="rates", title="Rates hold")
    etag = client.get("/articles/rates").headers["ETag"]

    unchanged = client.get("/articles/rates", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["Cache-Control"] == PUBLIC  # a 304 repeats the 200's headers

    save_article(
        article,
        title="Rates rise",
        slug="rates",
        body_source=article.body_source,
        access_level="paid",
        published_at=article.published_at,
    )
    changed = client.get("/articles/rates", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Rates rise" in changed.text
    assert changed.headers["ETag"] != etag


def test_a_browser_with_a_session_cookie_is_never_shared(client, app_ctx):
    ArticleFactory(slug="paid")
    client.get("/signin")  # the form gives this browser a session cookie (its CSRF secret)
    for path in ("/articles/paid", "/"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers and "Surrogate-Key" not in response.headers


def test_a_remember_me_cookie_alone_is_never_shared(client, app_ctx):
    ArticleFactory(slug="paid")
    client.set_cookie("remember_token", "anything")
    assert client.get("/articles/paid").headers["Cache-Control"] == "private, no-store"


def test_signed_in_readers_and_their_full_text_are_never_shared(app, app_ctx):
    ArticleFactory(slug="paid")
    ArticleFactory(slug="free", access_level="free")
    browser = app.test_client()
    sign_in_client(browser, ReaderFactory(is_comped=True))
    for path in ("/articles/paid", "/articles/free", "/"):
        response = browser.get(path, headers={"If-None-Match": "*"})
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    assert SECRET in browser.get("/articles/paid").text


def test_errors_and_forms_stay_private(client):
    for response in (client.get("/articles/nowhere"), client.get("/?older=bogus")):
        assert response.status_code in (400, 404)
        assert response.headers["Cache-Control"] == "private, no-store"


def test_shared_caching_can_be_turned_off(make_app, mailbox):
    app = make_app(EDGE_MAX_AGE=0)
    with app.app_context():
        ArticleFactory(slug="paid")
    response = app.test_client().get("/articles/paid")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


# --- purges ----------------------------------------------------------------------------


class Cache:
    """A stand-in cache on loopback that notes each BAN's keys and answers ``status``."""

    def __init__(self) -> None:
        self.bans: list[str] = []
        self.status = 200
        cache = self

        class Handler(BaseHTTPRequestHandler):
            def do_BAN(self) -> None:
                cache.bans.append(self.headers.get("Paywall-Purge-Keys", ""))
                self.send_response(cache.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def cache() -> Iterator[Cache]:
    found = Cache()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_an_edit_purges_the_article_and_the_lists_after_commit(make_app, mailbox, cache):
    app = make_app(PURGE_URLS=(cache.url,))
    with app.app_context():
        article = ArticleFactory(title="First")
        drain_jobs(app)
        assert cache.bans == [f"article-{article.id} lists"]  # a new one: on the lists
        cache.bans.clear()

        article.title = "Changed"
        db.session.flush()
        assert cache.bans == []  # nothing until the commit
        db.session.commit()
        drain_jobs(app)
        assert cache.bans == [f"article-{article.id} lists"]

        cache.bans.clear()
        article.title = "Rolled back"
        db.session.flush()
        db.session.rollback()
        drain_jobs(app)
        assert cache.bans == []


def test_a_statement_changing_articles_unnamed_purges_everything(make_app, mailbox, cache):
    from sqlalchemy import update

    from paywall.articles.models import Article

    app = make_app(PURGE_URLS=(cache.url,))
    with app.app_context():
        ArticleFactory()
        drain_jobs(app)
        cache.bans.clear()
        db.session.execute(update(Article).values(author="Desk"))
        db.session.commit()
        drain_jobs(app)
        assert cache.bans == ["all"]


def test_a_cache_that_cannot_be_told_is_logged_and_the_others_still_are(
    make_app, mailbox, cache, caplog
):
    down = f"http://127.0.0.1:{free_port()}"
    app = make_app(PURGE_URLS=(down, cache.url))
    with app.app_context(), caplog.at_level(logging.WARNING, logger="paywall.purging"):
        with pytest.raises(PurgeFailed, match=down):
            purge(["article-1"])
        assert cache.bans == ["article-1"]
        cache.status = 403
        with pytest.raises(PurgeFailed):
            purge(["lists"])
    assert f"cache at {down} did not take the purge" in caplog.text
    assert "answered 403" in caplog.text


def test_purge_urls_must_be_addresses(monkeypatch):
    from config import ConfigError, load_settings

    monkeypatch.setenv("PAYWALL_PURGE_URLS", "http://a:6081, cache-2:6081")
    with pytest.raises(ConfigError, match="PAYWALL_PURGE_URLS"):
        load_settings("testing")
    monkeypatch.setenv("PAYWALL_PURGE_URLS", "http://a:6081, https://b")
    assert load_settings("testing")["PURGE_URLS"] == ("http://a:6081", "https://b")

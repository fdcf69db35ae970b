"""Varnish in front, with the shipped VCL: anonymous pages come from the cache, every
signed-in reader reaches the app and gets their own page, an edit is purged at once."""

from __future__ import annotations

from paywall.articles.models import Article
from paywall.extensions import db
from tests.conftest import browser_for
from tests.draining import drain_jobs
from tests.edge.conftest import Edge
from tests.factories import SECRET, ArticleFactory, EditorFactory, ReaderFactory
from tests.helpers import sign_in
from tests.live import LiveBrowser


def signed_in(edge: Edge, email: str) -> LiveBrowser:
    """A browser signed in through the cache, by the real form."""
    browser = LiveBrowser(edge.url)
    status, _, _ = browser.submit("/signin", {"email": email, "password": "correct horse battery"})
    assert status == 302, "sign-in did not succeed"
    return browser


def test_an_anonymous_teaser_is_served_from_the_cache(edge: Edge, app_ctx):
    article = ArticleFactory(slug="rates")
    path = f"/articles/{article.slug}"

    first = edge.get(path)
    again = edge.get(path)

    assert (first.status, first.cache, again.cache) == (200, "MISS", "HIT")
    assert again.body == first.body
    assert SECRET not in first.body and "This article is for subscribers" in first.body
    assert int(again.headers["Age"]) >= 0 and "s-maxage=" in again.headers["Cache-Control"]
    assert edge.reached.count(path) == 1  # the second never reached the app
    assert "Surrogate-Key" not in again.headers  # the cache's own bookkeeping stays there
    # A browser revalidating gets a 304 from the cache, still without the app.
    unchanged = edge.get(path, **{"If-None-Match": again.headers["ETag"]})
    assert unchanged.status == 304 and edge.reached.count(path) == 1
    # Cookies the paywall never reads do not make a request a reader's own.
    assert edge.get(path, Cookie="_ga=GA1.2.3; theme=dark").cache == "HIT"


def test_the_front_page_and_a_free_article_are_served_from_the_cache(edge: Edge, app_ctx):
    free = ArticleFactory(slug="free", title="Free for all", access_level="free")
    for path in ("/", f"/articles/{free.slug}"):
        assert edge.get(path).cache == "MISS"
        again = edge.get(path)
        assert again.cache == "HIT" and edge.reached.count(path) == 1, path
    assert SECRET in edge.get("/articles/free").body  # free: its whole text is for anyone


def test_signed_in_readers_always_reach_the_app_and_get_their_own_page(edge: Edge, app_ctx):
    article = ArticleFactory(slug="budget")
    path = f"/articles/{article.slug}"
    ReaderFactory(email="comped@example.com", is_comped=True)
    ReaderFactory(email="plain@example.com")
    comped, plain = signed_in(edge, "comped@example.com"), signed_in(edge, "plain@example.com")
    reached_before = edge.reached.count(path)

    # Interleaved: anonymous readers between and after the signed-in ones.
    pages = []
    for who in ("anonymous", "comped", "plain", "anonymous", "plain", "comped", "anonymous"):
        if who == "anonymous":
            reply = edge.get(path)
            pages.append((who, reply.status, reply.body, reply.headers))
        else:
            status, body, headers = (comped if who == "comped" else plain).get(path)
            pages.append((who, status, body, headers))

    for who, status, body, headers in pages:
        assert status == 200, who
        own = {"comped": "comped@example.com", "plain": "plain@example.com"}.get(who)
        for email in ("comped@example.com", "plain@example.com"):
            assert (email in body) == (email == own), (who, email)
        assert (SECRET in body) == (who == "comped"), who
        if who == "anonymous":
            assert headers["Cache-Control"].startswith("public"), who
        else:
            assert headers["X-Cache"] == "PASS" and headers["Cache-Control"] == "private, no-store"
    # Every signed-in request reached the app; of the anonymous ones at most the first.
    assert edge.reached.count(path) - reached_before == 4 + 1
    assert [h["X-Cache"] for w, _, _, h in pages if w == "anonymous"][1:] == ["HIT", "HIT"]


def test_full_text_is_never_kept(edge: Edge, app_ctx):
    article = ArticleFactory(slug="exclusive")
    path = f"/articles/{article.slug}"
    ReaderFactory(email="comped@example.com", is_comped=True)
    comped = signed_in(edge, "comped@example.com")
    for _ in range(3):
        _, body, headers = comped.get(path)
        assert SECRET in body and headers["X-Cache"] == "PASS"
    assert edge.reached.count(path) == 3
    # The first anonymous request after them is a miss: nothing was stored for anyone.
    anonymous = edge.get(path)
    assert anonymous.cache == "MISS" and SECRET not in anonymous.body


def test_an_edited_article_is_purged_at_once(edge: Edge, app_ctx):
    edited = ArticleFactory(slug="edited", title="Council meets on Monday")
    other = ArticleFactory(slug="other", title="Weather turns")
    for path in ("/articles/edited", "/articles/other", "/"):
        edge.get(path)
        assert edge.get(path).cache == "HIT", path

    EditorFactory(email="ed@example.com")
    web = browser_for(edge.app)
    sign_in(web, "ed@example.com")
    form = web.get(f"/editor/articles/{edited.slug}/edit").forms["article-form"]
    form["title"] = "Council meeting moved to Tuesday"
    form.submit().follow()

    # No wait: the cache kept these for an hour, so only the purge can explain it.
    page = edge.get("/articles/edited")
    assert page.cache == "MISS" and "Council meeting moved to Tuesday" in page.body
    front = edge.get("/")
    assert front.cache == "MISS" and "Council meeting moved to Tuesday" in front.body
    assert edge.get(f"/articles/{other.slug}").cache == "HIT"  # only what showed it


def test_an_unpublished_article_is_gone_from_the_cache_at_once(edge: Edge, app_ctx):
    article = ArticleFactory(slug="withdrawn")
    edge.get("/articles/withdrawn")
    assert edge.get("/articles/withdrawn").cache == "HIT"
    # Any commit that changes an article purges it, whatever code made it (the import
    # command, a job): here one made in the served app, then its queue run to the end.
    with edge.app.app_context():
        db.session.get(Article, article.id).published_at = None
        db.session.commit()
    drain_jobs(edge.app)
    assert edge.get("/articles/withdrawn").status == 404

"""Responses that carry one reader's data or full text are never kept by any cache.

Decided once, app-wide (``paywall.headers``): every dynamic response is
``private, no-store`` unless its view says it may be shared (the JWKS, ``embed.js``,
static files), or it is an anonymous reader's teaser, free article or list page
(``tests/test_shared_caching.py``).
"""

from __future__ import annotations

import pytest

from tests.embed.conftest import BODY, make_publisher, token_through_popup
from tests.factories import AdminFactory, ArticleFactory, ReaderFactory
from tests.helpers import sign_in_client

PRIVATE = "private, no-store"


@pytest.fixture
def signed_in(app, app_ctx):
    client = app.test_client()
    sign_in_client(client, ReaderFactory(email="own@example.com"))
    return client


@pytest.mark.parametrize(
    "path", ["/account", "/account/billing", "/subscribe", "/articles/{slug}", "/"]
)
def test_a_signed_in_readers_pages_are_never_stored(signed_in, app_ctx, path):
    slug = ArticleFactory(access_level="free").slug
    response = signed_in.get(path.format(slug=slug))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == PRIVATE


def test_account_forms_and_their_errors_are_never_stored(client):
    for response in (
        client.get("/signin"),
        client.get("/signup"),
        client.post("/signin", data={"email": "x@example.com", "password": "nope"}),
        client.get("/account"),  # the redirect to sign in
    ):
        assert response.headers["Cache-Control"] == PRIVATE, response.request.path


def test_staff_pages_are_never_stored(app, app_ctx):
    client = app.test_client()
    sign_in_client(client, AdminFactory())
    for path in ("/admin/subscribers", "/admin/sites", "/admin/audit", "/editor/articles/new"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == PRIVATE, path


def test_server_side_api_answers_with_full_text_or_a_reader_are_never_stored(app, app_ctx):
    publisher = make_publisher(app)
    auth = publisher.auth()
    assert publisher.put("story-1").status_code in (200, 201)
    reader = ReaderFactory(is_comped=True)
    token = token_through_popup(app, reader, publisher.site_key)
    answers = {
        "article (full text)": publisher.client.get("/api/v1/articles/story-1", headers=auth),
        "articles": publisher.client.get("/api/v1/articles", headers=auth),
        "decision": publisher.client.get(
            "/api/v1/decisions/story-1", headers={**auth, "X-Reader-Token": token}
        ),
        "entitlements": publisher.client.get(
            "/api/v1/entitlements", headers={**auth, "X-Reader-Token": token}
        ),
        "error": publisher.client.get("/api/v1/articles/story-1"),
    }
    for what, response in answers.items():
        assert response.headers["Cache-Control"] == PRIVATE, what
    assert BODY  # the article put above has text past the teaser


def test_public_documents_keep_their_own_caching(client):
    assert client.get("/.well-known/jwks.json").headers["Cache-Control"] == "public, max-age=300"
    assert "max-age=300" in client.get("/embed.js").headers["Cache-Control"]
    assert "private" not in client.get("/static/css/site.css").headers.get("Cache-Control", "")

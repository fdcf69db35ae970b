"""The publisher embed's actors: a registered site with its keys, acting through the API,
and readers who get a token the real way (signed in, through the popup page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import SECRET, ReaderFactory
from tests.helpers import session_identity, sign_in_client

ORIGIN = "https://news.example.com"
OTHER_ORIGIN = "https://evil.example.net"
BODY = (
    "<p>The opening paragraph anyone may read.</p>\n"
    "<p>A second paragraph anyone may read.</p>\n"
    "<!-- more -->\n"
    f"<p>{SECRET} This sentence is for readers with access only.</p>\n"
    "<p>The closing paragraph, also behind the gate.</p>"
)


@dataclass
class Publisher:
    """A registered site: its keys, and its CMS and pages talking to the API."""

    client: FlaskClient
    site_id: int
    site_key: str
    secret_key: str
    origin: str = ORIGIN

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.secret_key}"}

    def put(self, external_id: str, key: str | None = None, **fields: Any) -> Any:
        body = {"title": f"Story {external_id}", "body_html": BODY, "access": "paid", **fields}
        return self.client.put(f"/api/v1/articles/{external_id}", json=body, headers=self.auth(key))

    def decision(
        self, external_id: str, token: str | None = None, origin: str | None = ORIGIN
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if origin:
            headers["Origin"] = origin
        return self.client.get(
            f"/api/v1/sites/{self.site_key}/decisions/{external_id}", headers=headers
        )


def make_publisher(app: Flask, name: str = "Harbour News", origin: str = ORIGIN) -> Publisher:
    from paywall.embed.sites import create_site

    with app.app_context():
        made = create_site(name, [origin, "http://localhost:5001"])
        return Publisher(app.test_client(), made.site.id, made.site.public_key, made.secret_key)


@pytest.fixture
def publisher(app: Flask) -> Publisher:
    return make_publisher(app)


def token_through_popup(app: Flask, reader: Any, site_key: str, origin: str = ORIGIN) -> str:
    """Sign ``reader`` in in a fresh browser and open the popup page: the token it hands over."""
    browser = app.test_client()
    sign_in_client(browser, reader)
    page = browser.get("/embed/connect", query_string={"site": site_key, "origin": origin})
    assert page.status_code == 200, page.text
    found = re.search(r'data-token="([^"]+)"', page.text)
    assert found, "the popup page carries no token"
    return found.group(1)


@dataclass(frozen=True)
class Person:
    """A reader as tests hold one after the database session is gone."""

    id: int
    email: str
    session_id: str

    def get_id(self) -> str:
        return self.session_id


@dataclass
class Readers:
    app: Flask

    def make(self, email: str, **fields: Any) -> Person:
        with self.app.app_context():
            reader = ReaderFactory(email=email, **fields)
            return Person(reader.id, reader.email, session_identity(reader))

    def comped(self, email: str = "comped@example.com") -> Person:
        return self.make(email, is_comped=True)

    def plain(self, email: str = "plain@example.com") -> Person:
        return self.make(email)


@pytest.fixture
def readers(app: Flask) -> Iterator[Readers]:
    yield Readers(app)


@pytest.fixture
def embed_server(make_app: Any, mailbox: Any) -> Iterator[tuple[str, Flask]]:
    """The app on a live loopback port, its BASE_URL its own address (as in production)."""
    from tests.conftest import free_port
    from tests.live import serving

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served = make_app(BASE_URL=base)
    with serving(served, "127.0.0.1", port):
        yield base, served

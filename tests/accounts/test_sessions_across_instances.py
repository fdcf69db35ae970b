"""Two app instances on one database: what is done to a session through one holds through
the other on its very next request, as on two hosts behind a load balancer.

First two Flask apps in this process (any database the suite runs on), then two gunicorn
processes in production mode on PostgreSQL and Redis, driven over HTTP.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from copy import copy
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from sqlalchemy import update
from webtest import TestApp

from paywall.accounts.models import Reader
from paywall.extensions import db
from tests.conftest import TEST_DATABASE_URL, browser_for, free_port
from tests.factories import DEFAULT_PASSWORD, ArticleFactory, ReaderFactory
from tests.helpers import sign_in
from tests.multiprocess.conftest import gunicorn, production_environment

ANN = "ann@example.com"
NEW_PASSWORD = "the next password"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_or_skip() -> str:
    """The scratch Redis database; skips, saying why, when Redis is not running."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    return REDIS_URL


# --- two Flask apps in this process ---------------------------------------------------------


@pytest.fixture
def hosts(make_app, mailbox):  # type: ignore[no-untyped-def]
    """Two instances of the app on the same database, with production's caches."""
    return make_app(), make_app()


def on(app, web: TestApp) -> TestApp:  # type: ignore[no-untyped-def]
    """A browser on ``app`` holding ``web``'s cookies (the same browser, another host)."""
    other = browser_for(app)
    for cookie in web.cookiejar:
        other.cookiejar.set_cookie(copy(cookie))
    return other


def signed_in(web: TestApp) -> bool:
    return web.get("/account").status_code == 200


def test_sign_out_through_one_host_signs_a_copied_cookie_out_on_the_other(hosts, app_ctx):
    one, two = hosts
    ReaderFactory(email=ANN)
    article = ArticleFactory(access_level="free")
    web = browser_for(one)
    sign_in(web, ANN, remember=True)
    copy = on(two, web)
    assert ANN in copy.get(f"/articles/{article.slug}").text

    web.get("/account").forms["sign-out-form"].submit()

    page = copy.get(f"/articles/{article.slug}")
    assert ANN not in page.text and page.html.select_one('a[href^="/signin"]') is not None
    assert not signed_in(copy)


def test_a_password_change_on_one_host_signs_out_the_other_sessions_there(hosts, app_ctx):
    one, two = hosts
    ReaderFactory(email=ANN)
    here, there = browser_for(one), browser_for(two)
    sign_in(here, ANN)
    sign_in(there, ANN, remember=True)
    assert signed_in(there)

    form = here.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit()

    assert not signed_in(there)
    assert signed_in(on(two, here))  # the browser that changed it, on either host


def test_sign_out_all_devices_on_one_host_holds_on_the_other(hosts, app_ctx):
    one, two = hosts
    ReaderFactory(email=ANN)
    here, there = browser_for(one), browser_for(two)
    sign_in(here, ANN)
    sign_in(there, ANN)
    assert signed_in(there)

    here.get("/account").forms["sign-out-everywhere-form"].submit()

    assert not signed_in(there)
    assert not signed_in(on(two, here))


def test_role_and_comp_changes_on_one_host_show_on_the_other_at_once(hosts, app_ctx):
    one, two = hosts
    reader = ReaderFactory(email=ANN)
    article = ArticleFactory(access_level="paid")
    web = browser_for(two)
    sign_in(web, ANN)
    assert 'id="paywall-gate"' in web.get(f"/articles/{article.slug}").text
    assert "New article" not in web.get(f"/articles/{article.slug}").text

    with one.app_context():  # the change is made through the other instance
        changes = {"is_comped": True, "role": "editor"}
        db.session.execute(update(Reader).where(Reader.id == reader.id).values(changes))
        db.session.commit()

    page = web.get(f"/articles/{article.slug}").text
    assert 'id="paywall-gate"' not in page and "New article" in page


# --- two gunicorn processes on PostgreSQL and Redis ------------------------------------------


@dataclass
class Browser:
    """One person's browser over real HTTP: keeps cookies (Secure ones too, as behind an
    https proxy), never follows redirects."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def on(self, port: int) -> Browser:
        """The same browser (a copy of its cookies) talking to another host."""
        return Browser(port, dict(self.cookies))

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request("POST" if form is not None else "GET", path, body, headers)
        response = connection.getresponse()
        page = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        connection.close()
        return response.status, page

    def submit(self, path: str, action: str, fields: dict[str, str]) -> int:
        """Post the form shown on ``path`` to ``action`` with ``fields`` and its CSRF token."""
        status, page = self.request(path)
        token = CSRF.search(page)
        assert token, f"no form on {path} ({status})"
        return self.request(action, {"csrf_token": token.group(1), **fields})[0]

    def signed_in(self) -> bool:
        return self.request("/account")[0] == 200


@dataclass
class Processes:
    one: int
    two: int
    hands: Flask


@pytest.fixture
def two_processes(make_app, mailbox, migrated_database, tmp_path) -> Iterator[Processes]:  # type: ignore[no-untyped-def]
    """Two production app processes on the test's PostgreSQL database and Redis, and a
    third instance on both for the test's own changes (as an editor's host would be)."""
    if not TEST_DATABASE_URL:
        pytest.skip("needs PostgreSQL: set PAYWALL_TEST_DATABASE_URL (CI does)")
    redis_url = redis_or_skip()
    hands = make_app(REDIS_URL=redis_url)  # also empties the tables after the test
    ports = free_port(), free_port()
    with ExitStack() as servers:
        for port in ports:
            environment = production_environment(
                migrated_database,
                port,
                SECRET_KEY="two-instances-share-this-secret-key-0123456789",
                REDIS_URL=redis_url,
                PAYWALL_BASE_URL="http://paywall.test",
                PAYWALL_INSTANCE_PATH=str(tmp_path / "instance"),
                STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
            )
            servers.enter_context(gunicorn(environment, port, workers=1))
        yield Processes(*ports, hands)


def test_two_gunicorn_processes_agree_on_every_session_change(two_processes):
    one, two, hands = two_processes.one, two_processes.two, two_processes.hands
    with hands.app_context():
        reader_id = ReaderFactory(email=ANN).id
        slug = ArticleFactory(access_level="paid").slug
    sign_in_fields = {"email": ANN, "password": DEFAULT_PASSWORD}

    # Sign-out through one: a copy of the cookies gets the signed-out page through two.
    web = Browser(one)
    assert web.submit("/signin", "/signin", {**sign_in_fields, "remember": "y"}) == 302
    copy = web.on(two)
    assert copy.signed_in()
    assert web.submit("/account", "/signout", {}) == 302
    status, page = copy.request(f"/articles/{slug}")
    assert status == 200 and ANN not in page and 'href="/signin' in page
    assert not copy.signed_in()

    # A password change through one signs out the session on two, keeps its own.
    here, there = Browser(one), Browser(two)
    for browser in (here, there):
        assert browser.submit("/signin", "/signin", sign_in_fields) == 302
    assert there.signed_in()
    new = {"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD}
    assert here.submit("/account", "/account", {**new, "confirm": NEW_PASSWORD}) == 302
    assert not there.signed_in()
    assert here.on(two).signed_in()

    # Sign out all devices through two ends the session made through one.
    phone = Browser(one)
    fields = {"email": ANN, "password": NEW_PASSWORD}
    assert phone.submit("/signin", "/signin", fields) == 302
    assert here.on(two).submit("/account", "/account/signout-everywhere", {}) == 302
    assert not phone.signed_in()

    # Role and comp changes made elsewhere show on the next request.
    assert phone.submit("/signin", "/signin", fields) == 302
    assert 'id="paywall-gate"' in phone.on(two).request(f"/articles/{slug}")[1]
    with hands.app_context():
        changes = {"is_comped": True, "role": "editor"}
        db.session.execute(update(Reader).where(Reader.id == reader_id).values(changes))
        db.session.commit()
    page = phone.on(two).request(f"/articles/{slug}")[1]
    assert 'id="paywall-gate"' not in page and "New article" in page

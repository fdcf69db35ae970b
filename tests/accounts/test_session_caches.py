"""What each worker keeps in memory for a signed-in reader (who they are, their verified
session cookie, their sign-out form's CSRF token), and what it still refuses."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import paywall.extensions
from paywall.accounts.passwords import verify_password
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, ArticleFactory, ReaderFactory
from tests.helpers import sign_in, sign_in_client

NEW_PASSWORD = "the next password"


@pytest.fixture
def cached(make_app, mailbox):  # type: ignore[no-untyped-def]
    """An app that trusts a signed-in reader it read in the last minute, for pages."""
    return make_app(SESSION_CACHE_SECONDS=60)


def change_password(web) -> None:  # type: ignore[no-untyped-def]
    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    assert form.submit().status_code == 302


def sign_out_token(page) -> str:  # type: ignore[no-untyped-def]
    return page.forms["sign-out-form"]["csrf_token"].value


def later(monkeypatch, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Move the per-worker caches' clock on by ``seconds``."""
    now = time.monotonic()
    monkeypatch.setattr(paywall.extensions, "monotonic", lambda: now + seconds)


def test_a_password_change_signs_out_other_sessions_despite_the_identity_cache(cached):
    with cached.app_context():
        ReaderFactory(email="ann@example.com")
    here, there = browser_for(cached), browser_for(cached)
    for browser in (here, there):
        sign_in(browser, "ann@example.com")
        assert browser.get("/account").status_code == 200  # now in the worker's cache

    change_password(here)
    assert there.get("/account").status_code == 302  # at once, not after the cache time
    assert here.get("/account").status_code == 200


def test_a_stale_session_may_read_pages_only_for_the_cache_time(cached, app_ctx, monkeypatch):
    reader = ReaderFactory(email="ann@example.com")
    web = browser_for(cached)
    sign_in(web, "ann@example.com")
    assert web.get("/account").status_code == 200
    reader.security_stamp += 1  # a reset served by another worker: this one is not told
    db.session.commit()
    assert web.get("/account").status_code == 200  # the documented trade-off
    later(monkeypatch, 61)
    assert web.get("/account").status_code == 302


def test_a_stale_session_cannot_change_anything_even_while_cached(cached, app_ctx):
    reader = ReaderFactory(email="ann@example.com")
    web = browser_for(cached)
    sign_in(web, "ann@example.com")
    form = web.get("/account").forms["change-password-form"]
    reader.security_stamp += 1
    db.session.commit()
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    assert "/signin" in form.submit().headers["Location"]  # a post checks the database
    db.session.refresh(reader)
    assert verify_password(reader.password_hash, DEFAULT_PASSWORD)


def test_the_sign_out_token_is_signed_once_per_session_and_still_signs_out(web, app, app_ctx):
    ReaderFactory(email="ann@example.com")
    ReaderFactory(email="bob@example.com")
    article = ArticleFactory(access_level="free")
    sign_in(web, "ann@example.com")
    pages = [web.get("/"), web.get(f"/articles/{article.slug}"), web.get("/account")]
    assert len({sign_out_token(page) for page in pages}) == 1

    for email in ("ann@example.com", "bob@example.com"):  # the same reader, or another
        other = browser_for(app)
        sign_in(other, email)
        assert sign_out_token(other.get(f"/articles/{article.slug}")) != sign_out_token(pages[0])
        stolen = {"csrf_token": sign_out_token(pages[0])}
        assert other.post("/signout", stolen, expect_errors=True).status_code == 400

    pages[1].forms["sign-out-form"].submit()
    assert web.get("/account").status_code == 302


def test_a_tampered_session_cookie_is_refused_although_the_real_one_is_cached(client, app_ctx):
    sign_in_client(client, ReaderFactory())
    assert client.get("/account").status_code == 200
    real = client.get_cookie("session").value
    payload, _, signature = real.rpartition(".")
    client.set_cookie("session", f"{payload}.{signature[:-2]}xx")
    assert client.get("/account").status_code == 302
    client.set_cookie("session", real)
    assert client.get("/account").status_code == 200


def test_a_cached_session_cookie_still_expires_with_the_session_lifetime(
    make_app, mailbox, monkeypatch
):
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    with app.app_context():
        ReaderFactory(email="ann@example.com")
    web = browser_for(app)
    sign_in(web, "ann@example.com")
    assert web.get("/account").status_code == 200
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 2 * 3600)
    assert web.get("/account").status_code == 302

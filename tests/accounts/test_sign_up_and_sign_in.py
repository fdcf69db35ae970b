"""Readers create accounts, confirm their email and sign in and out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from paywall.accounts.models import Reader
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, ReaderFactory
from tests.helpers import path_of, sign_in, text


def reader_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Reader))


def test_sign_up_signs_in_and_emails_a_confirmation_link_that_verifies(web, app_ctx, mailbox):
    page = web.get("/signup")
    form = page.forms["sign-up-form"]
    form["email"] = "  New.Reader@Example.COM "
    form["password"] = "a long enough password"
    form["name"] = "Nia"
    home = form.submit().follow()
    assert "new.reader@example.com" in text(home)  # signed in, email normalised

    reader = db.session.scalar(select(Reader).where(Reader.email == "new.reader@example.com"))
    assert reader is not None and not reader.email_verified
    assert reader.password_hash and "a long enough password" not in reader.password_hash

    link = mailbox.link_to("new.reader@example.com", "/verify/")
    web.get(path_of(link)).follow()
    db.session.refresh(reader)
    assert reader.email_verified


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("", "a long enough password", "Enter your email address."),
        ("not-an-email", "a long enough password", "Enter a valid email address."),
        ("ok@example.com", "short", "Use at least 10 characters."),
        ("ok@example.com", "", "Choose a password."),
    ],
)
def test_bad_sign_up_input_shows_field_errors_and_creates_nothing(
    web, app_ctx, mailbox, email, password, error
):
    form = web.get("/signup").forms["sign-up-form"]
    form["email"] = email
    form["password"] = password
    page = form.submit()
    assert page.status_code == 200
    assert error in text(page)
    assert "field--error" in text(page)
    assert reader_count() == 0
    assert mailbox.messages == []


def test_signing_up_twice_with_one_email_is_refused(web, app_ctx):
    ReaderFactory(email="taken@example.com")
    form = web.get("/signup").forms["sign-up-form"]
    form["email"] = "TAKEN@example.com"
    form["password"] = "a long enough password"
    page = form.submit()
    assert "already exists" in text(page)
    assert reader_count() == 1


def test_password_sign_in_and_sign_out(web, app_ctx):
    ReaderFactory(email="ann@example.com")
    home = sign_in(web, "ann@example.com").follow()
    assert "ann@example.com" in text(home) and "Sign out" in text(home)
    assert web.get("/account").status_code == 200

    signed_out = home.forms[0].submit().follow()
    assert "You're signed out." in text(signed_out)
    assert web.get("/account").status_code == 302


def test_wrong_password_gives_one_message_for_every_failure(web, app_ctx):
    ReaderFactory(email="ann@example.com")
    wrong_password = sign_in(web, "ann@example.com", "not the password")
    unknown_email = sign_in(web, "nobody@example.com", DEFAULT_PASSWORD)
    for page in (wrong_password, unknown_email):
        assert page.status_code == 200
        assert "That email and password don't match an account." in text(page)
    assert web.get("/account").status_code == 302


def test_remember_me_sets_a_lasting_cookie_only_when_asked(web, app_ctx):
    ReaderFactory(email="ann@example.com")
    plain = sign_in(web, "ann@example.com")
    assert "remember_token" not in plain.headers.get("Set-Cookie", "")
    web.reset()
    remembered = sign_in(web, "ann@example.com", remember=True)
    cookie = [c for c in remembered.headers.getall("Set-Cookie") if c.startswith("remember_token")]
    assert cookie and "HttpOnly" in cookie[0] and "Expires" in cookie[0]


def test_sessions_with_a_stale_security_stamp_are_signed_out(web, app_ctx):
    reader = ReaderFactory(email="ann@example.com")
    sign_in(web, "ann@example.com")
    assert web.get("/account").status_code == 200
    reader.security_stamp += 1  # e.g. the password was reset on another device
    db.session.commit()
    assert web.get("/account").status_code == 302


def test_next_takes_the_reader_back_to_the_article(web, app_ctx):
    ReaderFactory(email="ann@example.com")
    form = web.get("/signin?next=/articles/some-story").forms["sign-in-form"]
    form["email"] = "ann@example.com"
    form["password"] = DEFAULT_PASSWORD
    assert form.submit().headers["Location"].endswith("/articles/some-story")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_next_never_leads_off_site(web, app_ctx, target):
    ReaderFactory(email="ann@example.com")
    form = web.get("/signin", params={"next": target}).forms["sign-in-form"]
    form["email"] = "ann@example.com"
    form["password"] = DEFAULT_PASSWORD
    location = form.submit().headers["Location"]
    assert location in ("http://localhost/", "/"), location


def test_sign_out_needs_a_post_with_a_csrf_token(web, app_ctx):
    ReaderFactory(email="ann@example.com")
    sign_in(web, "ann@example.com")
    assert web.get("/signout", expect_errors=True).status_code == 405
    refused = web.post("/signout", expect_errors=True)
    assert refused.status_code == 400 and "expired" in text(refused)
    assert web.get("/account").status_code == 200  # still signed in


def test_forms_without_a_csrf_token_change_nothing(web, app_ctx):
    response = web.post(
        "/signup",
        {"email": "csrf@example.com", "password": "a long enough password"},
        expect_errors=True,
    )
    assert response.status_code == 400
    assert reader_count() == 0


def redis_url_for_tests() -> str:
    """A scratch Redis database, emptied first; skips (saying why) when Redis is not running."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    return url


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_sign_in_is_rate_limited(make_app, mailbox, storage):
    uri = "memory://" if storage == "memory" else redis_url_for_tests()
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri)
    web = browser_for(app)
    responses = []
    for _ in range(11):
        form = web.get("/signin").forms["sign-in-form"]
        form["email"] = "someone@example.com"
        form["password"] = "guessing-again"
        responses.append(form.submit(expect_errors=True))
    assert [r.status_code for r in responses] == [200] * 10 + [429]
    assert "Too many attempts" in text(responses[-1])
    assert 0 < int(responses[-1].headers["Retry-After"]) <= 60
    assert web.get("/signin").status_code == 200  # reading the form is never limited


def test_create_admin_makes_and_promotes_staff(runner, app_ctx):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.com", "--password", "a strong password"]
    )
    assert result.exit_code == 0, result.output
    boss = db.session.scalar(select(Reader).where(Reader.email == "boss@example.com"))
    assert boss is not None and boss.role == "admin" and boss.email_verified

    ReaderFactory(email="writer@example.com")
    result = runner.invoke(args=["create-admin", "writer@example.com", "--role", "editor"])
    assert result.exit_code == 0 and "Updated" in result.output
    writer = db.session.scalar(select(Reader).where(Reader.email == "writer@example.com"))
    db.session.refresh(writer)
    assert writer.role == "editor"

    bad = runner.invoke(args=["create-admin", "not-an-email", "--password", "a strong password"])
    assert bad.exit_code != 0 and "not a valid email" in bad.output

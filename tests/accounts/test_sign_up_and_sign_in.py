"""Readers create accounts, confirm their email and sign in and out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from paywall.accounts.models import Reader
from paywall.accounts.sessions import end_sessions
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, ArticleFactory, ReaderFactory
from tests.helpers import path_of, sign_in, text


def reader_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Reader))


def sign_up(web, email: str, password: str = "a long enough password", next_url: str = ""):  # type: ignore[no-untyped-def]
    """Fill in and submit the real sign-up form; returns the answer."""
    form = web.get("/signup", params={"next": next_url} if next_url else {}).forms["sign-up-form"]
    form["email"] = email
    form["password"] = password
    return form.submit()


def test_sign_up_emails_a_link_that_confirms_and_signs_in_once(web, app_ctx, mailbox):
    form = web.get("/signup").forms["sign-up-form"]
    form["email"] = "  New.Reader@Example.COM "
    form["password"] = "a long enough password"
    form["name"] = "Nia"
    answer = form.submit()
    assert answer.status_code == 200
    assert "Check your email to finish" in text(answer)
    assert web.get("/account").status_code == 302  # not signed in yet

    reader = db.session.scalar(select(Reader).where(Reader.email == "new.reader@example.com"))
    assert reader is not None and reader.awaiting_confirmation and not reader.email_verified
    assert reader.password_hash and "a long enough password" not in reader.password_hash
    message = mailbox.last_to("new.reader@example.com")
    assert message["Subject"] == "Confirm your email to finish signing up"
    assert "Hello Nia," in mailbox.text_of(message)

    link = path_of(mailbox.link_to("new.reader@example.com", "/signup/confirm/"))
    confirm = web.get(link)  # opening it (or a mail scanner fetching it) spends nothing
    assert "Confirm that new.reader@example.com is your email address" in text(confirm)
    db.session.refresh(reader)
    assert reader.awaiting_confirmation
    home = confirm.forms["confirm-sign-up-form"].submit().follow()
    assert "Your email address is confirmed and you're signed in." in text(home)
    assert "new.reader@example.com" in text(home)  # signed in, email normalised
    db.session.refresh(reader)
    assert reader.email_verified and not reader.awaiting_confirmation

    web.reset()
    reused = web.get(link, expect_errors=True)
    assert reused.status_code == 400 and "This link can't be used" in text(reused)
    assert "Email me a sign-in link" in text(reused)
    assert sign_in(web, "new.reader@example.com", "a long enough password").status_code == 302


def test_an_account_awaiting_confirmation_cannot_sign_in_by_password(web, app_ctx, mailbox):
    """Else signing up and then in would tell whether the address already had an account."""
    sign_up(web, "new@example.com", "a long enough password")
    refused = sign_in(web, "new@example.com", "a long enough password")
    assert refused.status_code == 200
    assert "That email and password don't match an account." in text(refused)
    assert "Just signed up? Open the link we emailed you first." in text(refused)
    assert web.get("/account").status_code == 302


def cookie_names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c.split("=", 1)[0] for c in page.headers.getall("Set-Cookie"))


def answer_without_form_tokens(page) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r'value="[^"]*"', "", text(page))


def test_a_taken_email_gets_the_same_answer_and_its_owner_an_email(web, app_ctx, mailbox):
    owner = ReaderFactory(email="taken@example.com", name="Tess")
    other = browser_for(web.app)
    taken = sign_up(web, "TAKEN@example.com", next_url="/articles/a-story")
    fresh = sign_up(other, "TAKEn@example.net", next_url="/articles/a-story")

    assert taken.status_code == fresh.status_code == 200
    assert cookie_names(taken) == cookie_names(fresh)
    assert web.get("/account").status_code == other.get("/account").status_code == 302
    same = answer_without_form_tokens(taken).replace("TAKEN@example.com", "EMAIL")
    assert same == answer_without_form_tokens(fresh).replace("TAKEn@example.net", "EMAIL")
    assert "Check your email to finish" in same and "already" not in same
    assert reader_count() == 2  # the owner's and the new one's

    message = mailbox.last_to("taken@example.com")
    body = mailbox.text_of(message)
    assert message["Subject"] == "Someone tried to sign up with your email address"
    assert "Hello Tess," in body and "already has one" in body
    sign_in_link = mailbox.link_to("taken@example.com", "/signin")
    assert path_of(sign_in_link) == "/signin?next=/articles/a-story"
    assert "/signup/confirm/" not in body  # nothing in it signs anyone in

    reset = path_of(mailbox.link_to("taken@example.com", "/password/reset/"))
    form = web.get(reset).forms["reset-password-form"]
    form["password"] = form["confirm"] = "tangerine umbrella quartz"
    assert form.submit().status_code == 302
    db.session.refresh(owner)
    assert owner.security_stamp == 1 and owner.name == "Tess"  # the owner's account, unchanged


def test_sign_up_does_the_same_work_for_a_taken_email(web, app_ctx, mailbox, monkeypatch):
    """Hashing dominates the time of either answer (argon2 on purpose takes tens of ms)."""
    from paywall.accounts import signup

    hashed: list[str] = []
    real = signup.hash_password
    monkeypatch.setattr(signup, "hash_password", lambda p: hashed.append(p) or real(p))
    ReaderFactory(email="taken@example.com")
    sign_up(web, "taken@example.com", "a long enough password")
    sign_up(web, "new@example.com", "another long password")
    assert hashed == ["a long enough password", "another long password"]
    assert len(mailbox.to("taken@example.com")) == len(mailbox.to("new@example.com")) == 1


def test_signing_up_again_before_confirming_offers_a_password_not_the_account(
    web, app_ctx, mailbox
):
    """The first sign-up may have been someone else's: the second gets a reset link, which
    sets a password only the mailbox's owner knows, never the first one's."""
    sign_up(browser_for(web.app), "early@example.com", "someone else chose this")
    mailbox.clear()
    assert "Check your email to finish" in text(sign_up(web, "early@example.com"))
    body = mailbox.text_of(mailbox.last_to("early@example.com"))
    assert "hasn't been confirmed yet" in body and "/signup/confirm/" not in body

    form = web.get(path_of(mailbox.link_to("early@example.com", "/password/reset/"))).forms[
        "reset-password-form"
    ]
    form["password"] = form["confirm"] = "tangerine umbrella quartz"
    assert form.submit().follow().status_code == 200
    reader = db.session.scalar(select(Reader).where(Reader.email == "early@example.com"))
    assert reader.email_verified and not reader.awaiting_confirmation
    web.reset()
    assert sign_in(web, "early@example.com", "someone else chose this").status_code == 200
    assert sign_in(web, "early@example.com", "tangerine umbrella quartz").status_code == 302


def test_a_sign_in_link_also_finishes_a_sign_up(web, app_ctx, mailbox):
    """The confirmation email lost or expired: any emailed link proves the mailbox."""
    sign_up(web, "late@example.com")
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = "late@example.com"
    form.submit()
    link = path_of(mailbox.link_to("late@example.com", "/signin/link/"))
    web.get(link).forms["confirm-link-form"].submit()
    assert web.get("/account").status_code == 200
    reader = db.session.scalar(select(Reader).where(Reader.email == "late@example.com"))
    assert reader.email_verified and not reader.awaiting_confirmation


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


def test_a_session_ended_elsewhere_is_signed_out_on_its_next_request(web, app_ctx):
    reader = ReaderFactory(email="ann@example.com")
    sign_in(web, "ann@example.com")
    assert web.get("/account").status_code == 200
    end_sessions(reader.id)  # e.g. the password was reset on another device
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


def test_a_reader_who_signs_up_from_the_plans_page_returns_to_the_article(web, app_ctx, mailbox):
    slug = ArticleFactory(access_level="paid").slug
    gate = web.get(f"/articles/{slug}")
    plans = gate.click(href=r"^/subscribe\?")  # anonymous: the offer first, no account asked
    sign_in_page = plans.click(description="Sign in", href=r"next=")
    sign_up_page = sign_in_page.click(description="Create a free account")
    form = sign_up_page.forms["sign-up-form"]
    form["email"] = "keen@example.com"
    form["password"] = "a long enough password"
    assert "Check your email to finish" in text(form.submit())

    link = path_of(mailbox.link_to("keen@example.com", "/signup/confirm/"))
    confirmed = web.get(link).forms["confirm-sign-up-form"].submit()
    going_on = urlsplit(confirmed.headers["Location"])
    assert going_on.path == f"/articles/{slug}"
    article = confirmed.follow()
    assert "keen@example.com" in text(article)
    assert article.html.select_one("#paywall-gate")["data-reason"] == "no_subscription"

"""The account pages hold up against hostile input, redirects, replays and outages."""

from __future__ import annotations

import logging
import shutil

import pytest
from argon2 import PasswordHasher
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from paywall.accounts import signin
from paywall.accounts.lookup import find_by_email
from paywall.accounts.models import Reader
from paywall.accounts.passwords import needs_rehash
from paywall.accounts.sessions import load_session_reader
from paywall.accounts.tokens import Purpose, make_token
from paywall.extensions import db
from paywall.mailer import outbox_path
from paywall.security import safe_next_url
from tests.conftest import browser_for, free_port
from tests.factories import DEFAULT_PASSWORD, ReaderFactory
from tests.helpers import path_of, session_identity, sign_in, text

OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    " /articles",
]


@pytest.mark.parametrize("target", [*OFF_SITE, "", None])
def test_safe_next_url_refuses_anything_but_a_site_path(target):
    assert safe_next_url(target) is None


@pytest.mark.parametrize("target", ["/", "/articles/a-story", "/account?tab=1#top", "/a//b"])
def test_safe_next_url_keeps_site_paths(target):
    assert safe_next_url(target) == target


def landing(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["Location"].removeprefix("http://localhost")


def sign_up_and_confirm(web, mailbox, next_url: str):  # type: ignore[no-untyped-def]
    """Sign up from a page with ``next``; the answer to pressing the emailed link's button."""
    form = web.get("/signup", params={"next": next_url}).forms["sign-up-form"]
    form["email"] = "new@example.com"
    form["password"] = "a long enough password"
    assert "Check your email to finish" in text(form.submit())
    link = path_of(mailbox.link_to("new@example.com", "/signup/confirm/"))
    return link, web.get(link).forms["confirm-sign-up-form"].submit()


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_up_ignores_off_site_next(web, app_ctx, mailbox, target):
    link, confirmed = sign_up_and_confirm(web, mailbox, target)
    assert "evil" not in link
    assert landing(confirmed) == "/"


def test_confirming_a_sign_up_goes_on_to_the_article_it_came_from(web, app_ctx, mailbox):
    _, confirmed = sign_up_and_confirm(web, mailbox, "/articles/a-story")
    assert landing(confirmed) == "/articles/a-story"


def test_a_hand_edited_confirmation_link_still_never_leads_off_site(web, app_ctx, mailbox):
    form = web.get("/signup").forms["sign-up-form"]
    form["email"] = "new@example.com"
    form["password"] = "a long enough password"
    form.submit()
    link = path_of(mailbox.link_to("new@example.com", "/signup/confirm/"))
    tampered = web.get(link).forms["confirm-sign-up-form"]
    tampered.action = link + "?next=//evil.example"
    assert landing(tampered.submit()) == "/"


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example"])
def test_emailed_sign_in_link_ignores_off_site_next(web, app_ctx, mailbox, target):
    ReaderFactory(email="ann@example.com")
    form = web.get("/signin/link", params={"next": target}).forms["request-link-form"]
    form["email"] = "ann@example.com"
    form.submit()
    link = mailbox.link_to("ann@example.com", "/signin/link/")
    assert "evil" not in link
    confirm = web.get(path_of(link))
    tampered = confirm.forms["confirm-link-form"]
    tampered.action = path_of(link) + "?next=" + target  # hand-edited link
    assert landing(tampered.submit()) == "/"


@pytest.mark.parametrize("session_id", ["", "1", "1:0", "x:0", "²:0", "x" * 43, "x" * 5000])
def test_malformed_session_identities_are_anonymous(app_ctx, session_id):
    reader = ReaderFactory()
    assert load_session_reader(session_id) is None
    assert load_session_reader(session_identity(reader)) is not None


def test_sign_in_rehashes_a_password_hashed_with_old_parameters(web, app_ctx):
    old_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(DEFAULT_PASSWORD)
    reader = ReaderFactory(email="ann@example.com", password_hash=old_hash, last_signed_in_at=None)
    assert needs_rehash(old_hash)
    sign_in(web, "ann@example.com").follow()
    db.session.refresh(reader)
    assert reader.password_hash != old_hash and not needs_rehash(reader.password_hash)
    assert reader.last_signed_in_at is not None
    web.reset()
    assert sign_in(web, "ann@example.com").status_code == 302  # the new hash still matches


def test_accounts_without_a_password_cannot_sign_in_by_password(web, app_ctx):
    ReaderFactory(email="linkonly@example.com", password_hash=None)
    page = sign_in(web, "linkonly@example.com", "any password at all")
    assert "That email and password don't match an account." in text(page)


def test_opening_a_sign_in_link_does_not_spend_it(web, app_ctx, mailbox):
    """Mail scanners fetch links before the reader clicks: only the POST signs in."""
    ReaderFactory(email="ann@example.com")
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = "ann@example.com"
    form.submit()
    link = path_of(mailbox.link_to("ann@example.com", "/signin/link/"))
    scanner = browser_for(web.app)
    scanner.get(link)
    scanner.get(link)
    assert scanner.get("/account").status_code == 302  # a GET signs nobody in
    assert web.get(link).forms["confirm-link-form"].submit().status_code == 302
    assert web.get("/account").status_code == 200


def test_any_later_sign_in_spends_an_unused_link(web, app_ctx, mailbox):
    ReaderFactory(email="ann@example.com")
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = "ann@example.com"
    form.submit()
    link = path_of(mailbox.link_to("ann@example.com", "/signin/link/"))
    sign_in(browser_for(web.app), "ann@example.com")
    assert web.get(link, expect_errors=True).status_code == 400


def test_a_token_made_for_one_purpose_is_refused_for_another(web, app_ctx):
    reader = ReaderFactory(email="ann@example.com")
    with web.app.test_request_context():
        reset_token = make_token(
            Purpose.RESET_PASSWORD, {"id": reader.id, "stamp": reader.security_stamp}
        )
    assert web.get(f"/password/reset/{reset_token}").status_code == 200
    for path in (f"/signin/link/{reset_token}", f"/verify/{reset_token}"):
        page = web.get(path, expect_errors=True)
        assert page.status_code == 400 and "This link can't be used" in text(page)


def test_expired_reset_link_offers_a_new_one(web, app_ctx, mailbox, monkeypatch):
    ReaderFactory(email="ann@example.com")
    form = web.get("/password/forgot").forms["forgot-password-form"]
    form["email"] = "ann@example.com"
    form.submit()
    link = path_of(mailbox.link_to("ann@example.com", "/password/reset/"))
    later = TimestampSigner.get_timestamp(TimestampSigner("k")) + 3601
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    page = web.get(link, expect_errors=True)
    assert page.status_code == 400
    assert "This link has expired" in text(page) and "Email me a new reset link" in text(page)


HOSTILE = ["\x00", "a\x00b@example.com", "é" * 300, "x" * 5000, "/\u3000/x", "<script>", "\t\n"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_never_causes_a_server_error(make_app, mailbox, value):
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        ReaderFactory(email="ann@example.com")
    posts = [
        ("/signup", {"email": value, "password": value, "name": value, "next": value}),
        ("/signup", {"email": "new@example.com", "password": "long enough!", "name": value}),
        ("/signin", {"email": value, "password": value, "next": value}),
        ("/signin", {"email": "ann@example.com", "password": DEFAULT_PASSWORD, "next": value}),
        ("/signin/link", {"email": value, "next": value}),
        ("/signin/link", {"email": "ann@example.com", "next": value}),
        ("/signin/code", {"code": value, "next": value}),
        ("/password/forgot", {"email": value}),
    ]
    for path, data in posts:
        client.post("/signout")
        assert client.post(path, data=data).status_code < 500, (path, data)
    for path in (
        "/signin/link/", "/verify/", "/password/reset/", "/signin?next=", "/signup?next=",
        "/signin/code?next=",
    ):  # fmt: skip
        assert client.get(path + value).status_code < 500, path
    with app.app_context():
        names = db.session.scalars(select(Reader.name)).all()
    assert all("\x00" not in name for name in names)


def break_the_outbox(app) -> None:  # type: ignore[no-untyped-def]
    """Leave the embedded default nowhere to write mail (root may write anywhere else)."""
    outbox = outbox_path(app)
    shutil.rmtree(outbox)
    outbox.write_text("not a folder")


@pytest.mark.parametrize("outage", ["outbox not writable", "SMTP server down"])
@pytest.mark.parametrize(
    ("path", "form_id"),
    [("/signin/link", "request-link-form"), ("/password/forgot", "forgot-password-form")],
)
def test_a_mail_outage_still_answers_check_your_email(
    make_app, mailbox, caplog, outage, path, form_id
):
    if outage == "outbox not writable":
        app = make_app(MAIL_SERVER=None)
        break_the_outbox(app)
    else:
        app = make_app(MAIL_PORT=free_port())  # nothing listens there
    with app.app_context():
        ReaderFactory(email="ann@example.com")
    web = browser_for(app)
    form = web.get(path).forms[form_id]
    form["email"] = "ann@example.com"
    with caplog.at_level(logging.ERROR, logger="paywall"):
        page = form.submit()
    # The same page as when the email went out (and as for an address with no account).
    assert page.status_code == 200
    assert "Check your email" in text(page) and "If an account exists for" in text(page)
    failures = [r for r in caplog.records if "could not send" in r.getMessage()]
    assert failures and failures[0].levelno == logging.ERROR and failures[0].exc_info


@pytest.mark.parametrize("outage", ["outbox not writable", "SMTP server down"])
@pytest.mark.parametrize("email", ["new@example.com", "ann@example.com"])
def test_sign_up_in_a_mail_outage_answers_check_your_email(
    make_app, mailbox, caplog, outage, email
):
    """New or taken, the same answer; a new account is kept, awaiting its confirmation
    (a sign-in link, once mail flows, finishes it)."""
    if outage == "outbox not writable":
        app = make_app(MAIL_SERVER=None)
        break_the_outbox(app)
    else:
        app = make_app(MAIL_PORT=free_port())
    with app.app_context():
        ReaderFactory(email="ann@example.com")
    form = browser_for(app).get("/signup").forms["sign-up-form"]
    form["email"] = email
    form["password"] = "a long enough password"
    with caplog.at_level(logging.ERROR, logger="paywall"):
        page = form.submit()
    assert page.status_code == 200 and "Check your email to finish" in text(page)
    assert any("could not send" in r.getMessage() and r.exc_info for r in caplog.records)
    with app.app_context():
        accounts = db.session.scalar(select(func.count()).select_from(Reader))
        assert accounts == (1 if email == "ann@example.com" else 2)
        assert find_by_email(email) is not None


def test_emailed_link_requests_are_rate_limited(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=True, EMAIL_LINK_RATE_LIMIT="2 per minute")
    web = browser_for(app)
    codes = []
    for _ in range(3):
        form = web.get("/password/forgot").forms["forgot-password-form"]
        form["email"] = "someone@example.com"
        codes.append(form.submit(expect_errors=True))
    assert [r.status_code for r in codes] == [200, 200, 429]
    refused = text(codes[-1])
    assert "<h1>Too many attempts</h1>" in refused and app.config["SITE_NAME"] in refused


def test_create_admin_prompts_for_a_password(runner, app_ctx):
    result = runner.invoke(
        args=["create-admin", "chief@example.com", "--role", "editor"],
        input="a strong password\na strong password\n",
    )
    assert result.exit_code == 0, result.output
    chief = db.session.scalar(select(Reader).where(Reader.email == "chief@example.com"))
    assert chief is not None and chief.role == "editor"
    assert signin.authenticate("chief@example.com", "a strong password") is not None

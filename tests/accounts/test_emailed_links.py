"""Sign-in links and password resets arrive by email, work once, and expire."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from paywall.accounts.models import Reader
from paywall.accounts.passwords import verify_password
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, ReaderFactory
from tests.helpers import path_of, sign_in, text


def request_link(web, email: str, next_url: str = "") -> str:
    form = web.get("/signin/link", params={"next": next_url} if next_url else {}).forms[
        "request-link-form"
    ]
    form["email"] = email
    return text(form.submit())


def test_emailed_sign_in_link_signs_in_once(web, app_ctx, mailbox):
    reader = ReaderFactory(email="link@example.com", email_verified_at=None)
    page = request_link(web, "link@example.com", "/articles/a-story")
    assert "If an account exists for link@example.com" in page

    link = path_of(mailbox.link_to("link@example.com", "/signin/link/"))
    confirm = web.get(link)
    assert "Sign in as link@example.com?" in text(confirm)
    landed = confirm.forms["confirm-link-form"].submit()
    assert landed.headers["Location"].endswith("/articles/a-story")
    assert web.get("/account").status_code == 200
    db.session.refresh(reader)
    assert reader.email_verified  # the link proved the mailbox

    web.reset()
    reused = web.get(link, expect_errors=True)
    assert reused.status_code == 400
    assert "This link can't be used" in text(reused)


def test_sign_in_link_for_an_unknown_email_says_the_same_and_sends_nothing(web, mailbox):
    page = request_link(web, "stranger@example.com")
    assert "If an account exists for stranger@example.com" in page
    assert mailbox.to("stranger@example.com") == []


def test_expired_sign_in_link_offers_a_new_one(make_app, mailbox):
    app = make_app(SIGNIN_LINK_MAX_AGE=1)
    web = browser_for(app)
    with app.app_context():
        ReaderFactory(email="slow@example.com")
    request_link(web, "slow@example.com")
    link = path_of(mailbox.link_to("slow@example.com", "/signin/link/"))
    time.sleep(2.1)
    page = web.get(link, expect_errors=True)
    assert page.status_code == 400
    assert "This link has expired" in text(page)
    assert "Email me a new sign-in link" in text(page)


def test_tampered_links_are_refused_clearly(web, app_ctx):
    for path in ("/signin/link/not-a-token", "/password/reset/abc.def.ghi", "/verify/xyz"):
        page = web.get(path, expect_errors=True)
        assert page.status_code == 400, path
        assert "This link can't be used" in text(page)


def test_password_reset_end_to_end(web, app_ctx, mailbox):
    reader = ReaderFactory(email="forgetful@example.com")
    form = web.get("/password/forgot").forms["forgot-password-form"]
    form["email"] = "forgetful@example.com"
    assert "If an account exists" in text(form.submit())

    link = path_of(mailbox.link_to("forgetful@example.com", "/password/reset/"))
    form = web.get(link).forms["reset-password-form"]
    form["password"] = "my brand new password"
    form["confirm"] = "my brand new password"
    account = form.submit().follow()
    assert "Your password is changed" in text(account)

    db.session.refresh(reader)
    assert verify_password(reader.password_hash, "my brand new password")
    web.reset()
    assert "don't match" in text(sign_in(web, "forgetful@example.com", DEFAULT_PASSWORD))
    assert web.get(link, expect_errors=True).status_code == 400  # spent


def test_a_forged_host_header_cannot_point_the_reset_link_elsewhere(web, app_ctx, mailbox):
    # Password-reset poisoning: the request names the attacker's host; the emailed link
    # still leads to the site's own address (PAYWALL_BASE_URL), with its token.
    ReaderFactory(email="target@example.com")
    forged = {"HTTP_HOST": "attacker.example"}
    form = web.get("/password/forgot", extra_environ=forged).forms["forgot-password-form"]
    form["email"] = "target@example.com"
    assert "If an account exists" in text(form.submit(extra_environ=forged))
    link = mailbox.link_to("target@example.com", "/password/reset/")
    assert link.startswith("http://paywall.test/password/reset/")
    assert "attacker.example" not in mailbox.text_of(mailbox.last_to("target@example.com"))


def test_reset_with_mismatched_passwords_changes_nothing(web, app_ctx, mailbox):
    reader = ReaderFactory(email="forgetful@example.com")
    form = web.get("/password/forgot").forms["forgot-password-form"]
    form["email"] = "forgetful@example.com"
    form.submit()
    link = path_of(mailbox.link_to("forgetful@example.com", "/password/reset/"))
    form = web.get(link).forms["reset-password-form"]
    form["password"] = "my brand new password"
    form["confirm"] = "something else entirely"
    page = form.submit()
    assert "The passwords don't match." in text(page)
    db.session.refresh(reader)
    assert verify_password(reader.password_hash, DEFAULT_PASSWORD)


def test_password_reset_signs_out_other_sessions(web, app, app_ctx, mailbox):
    ReaderFactory(email="shared@example.com")
    other_device = browser_for(app)
    sign_in(other_device, "shared@example.com")
    assert other_device.get("/account").status_code == 200

    form = web.get("/password/forgot").forms["forgot-password-form"]
    form["email"] = "shared@example.com"
    form.submit()
    form = web.get(path_of(mailbox.link_to("shared@example.com", "/password/reset/"))).forms[
        "reset-password-form"
    ]
    form["password"] = form["confirm"] = "another new password"
    form.submit()
    assert other_device.get("/account").status_code == 302


def test_change_password_needs_the_current_one(web, app_ctx):
    reader = ReaderFactory(email="ann@example.com")
    sign_in(web, "ann@example.com")
    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = "wrong guess here"
    form["password"] = form["confirm"] = "the next password"
    assert "That isn't your current password." in text(form.submit())

    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = "the next password"
    assert "Your password is changed" in text(form.submit().follow())
    assert web.get("/account").status_code == 200  # this session survives the change
    db.session.refresh(reader)
    assert verify_password(reader.password_hash, "the next password")


def test_resend_verification_email(web, app_ctx, mailbox):
    # An account from before sign-up confirmed the email: it signed in unconfirmed.
    ReaderFactory(
        email="unverified@example.com",
        email_verified_at=None,
        last_signed_in_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    sign_in(web, "unverified@example.com")
    account = web.get("/account")
    assert "isn't confirmed yet" in text(account)
    account.forms["resend-verification-form"].submit().follow()
    link = mailbox.link_to("unverified@example.com", "/verify/")
    web.get(path_of(link)).follow()
    reader = db.session.scalar(select(Reader).where(Reader.email == "unverified@example.com"))
    db.session.refresh(reader)
    assert reader.email_verified

"""Sessions that can be ended: sign-out, one device, every device, password changes,
and remember-me cookies, including copies of a browser's cookies made before."""

from __future__ import annotations

import re
from copy import copy
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from billing.orm import utcnow
from paywall.accounts.devices import describe_device
from paywall.accounts.models import LoginSession, Reader
from paywall.accounts.passwords import verify_password
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, ArticleFactory, ReaderFactory
from tests.helpers import path_of, sign_in, text

ANN = "ann@example.com"
NEW_PASSWORD = "the next password"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def copy_of(web: TestApp, app, *names: str) -> TestApp:  # type: ignore[no-untyped-def]
    """Another browser holding copies of ``web``'s cookies (all, or those named)."""
    thief = browser_for(app)
    for cookie in web.cookiejar:
        if not names or cookie.name in names:
            thief.cookiejar.set_cookie(copy(cookie))
    return thief


def signed_in(web: TestApp) -> bool:
    return web.get("/account").status_code == 200


def sign_out(web: TestApp) -> None:
    web.get("/account").forms["sign-out-form"].submit()


def change_password(web: TestApp) -> None:
    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    assert form.submit().status_code == 302


def sessions_of(reader_id: int) -> list[LoginSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(LoginSession).where(LoginSession.reader_id == reader_id)))


def test_sign_out_ends_the_session_for_a_copied_session_cookie(web, app, app_ctx):
    reader = ReaderFactory(email=ANN)
    sign_in(web, ANN)
    thief = copy_of(web, app)
    assert signed_in(thief)
    stale_form = thief.get("/account").forms["change-password-form"]

    sign_out(web)

    assert not signed_in(web)
    assert not signed_in(thief)
    stale_form["current_password"] = DEFAULT_PASSWORD
    stale_form["password"] = stale_form["confirm"] = NEW_PASSWORD
    assert "/signin" in stale_form.submit().headers["Location"]  # a post changes nothing
    db.session.refresh(reader)
    assert verify_password(reader.password_hash, DEFAULT_PASSWORD)
    assert sessions_of(reader.id) == []


def test_a_copied_remember_me_cookie_stops_working_after_sign_out(web, app, app_ctx):
    ReaderFactory(email=ANN)
    sign_in(web, ANN, remember=True)
    assert signed_in(copy_of(web, app, "remember_token"))  # it signs in on its own

    sign_out(web)

    assert not signed_in(copy_of(web, app, "remember_token"))


def test_a_remembered_browser_is_signed_out_by_a_password_change_elsewhere(app, app_ctx):
    ReaderFactory(email=ANN)
    here, remembered = browser_for(app), browser_for(app)
    sign_in(here, ANN)
    sign_in(remembered, ANN, remember=True)
    cookie_only = copy_of(remembered, app, "remember_token")

    change_password(here)

    assert not signed_in(remembered)
    assert not signed_in(cookie_only)
    assert signed_in(here)  # the browser that changed it stays signed in


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, app_ctx):
    reader = ReaderFactory(email=ANN)
    browsers = [browser_for(app) for _ in range(3)]
    for browser in browsers:
        sign_in(browser, ANN)
    assert len(sessions_of(reader.id)) == 3

    change_password(browsers[0])

    assert [signed_in(b) for b in browsers] == [True, False, False]
    assert len(sessions_of(reader.id)) == 1


def test_a_password_reset_ends_every_session_and_signs_in_where_it_was_reset(
    web, app, app_ctx, mailbox
):
    reader = ReaderFactory(email=ANN)
    elsewhere = browser_for(app)
    sign_in(elsewhere, ANN, remember=True)
    form = web.get("/password/forgot").forms["forgot-password-form"]
    form["email"] = ANN
    form.submit()
    reset = web.get(path_of(mailbox.link_to(ANN, "/password/reset/")))
    form = reset.forms["reset-password-form"]
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit()

    assert not signed_in(elsewhere)
    assert not signed_in(copy_of(elsewhere, app, "remember_token"))
    assert signed_in(web)
    assert len(sessions_of(reader.id)) == 1


def test_the_account_page_lists_each_device_and_signs_one_out(app, app_ctx):
    ReaderFactory(email=ANN)
    laptop = TestApp(app, extra_environ={"HTTP_USER_AGENT": FIREFOX})
    phone = TestApp(app, extra_environ={"HTTP_USER_AGENT": IPHONE})
    sign_in(phone, ANN, remember=True)
    sign_in(laptop, ANN)

    page = laptop.get("/account")
    devices = page.html.select("#sessions [data-session]")
    assert [d.strong.get_text() for d in devices] == ["Firefox on Windows", "Mobile Safari on iOS"]
    assert "this device" in devices[0].get_text() and "this device" not in devices[1].get_text()
    assert "kept signed in" in devices[1].get_text()

    phone_id = devices[1]["data-session"]
    form = next(f for f in page.forms.values() if f.action.endswith(f"/{phone_id}/signout"))
    assert "is signed out" in text(form.submit().follow())
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert len(laptop.get("/account").html.select("#sessions [data-session]")) == 1


def test_signing_out_this_device_from_the_list_is_a_sign_out(web, app_ctx):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    page = web.get("/account")
    this = page.html.select_one("#sessions [data-session]")["data-session"]
    form = next(f for f in page.forms.values() if f.action.endswith(f"/{this}/signout"))
    form.submit()
    assert not signed_in(web)


def test_a_reader_cannot_sign_out_someone_elses_session(app, app_ctx):
    ReaderFactory(email=ANN)
    bob = ReaderFactory(email="bob@example.com")
    ann_web, bob_web = browser_for(app), browser_for(app)
    sign_in(ann_web, ANN)
    sign_in(bob_web, bob.email)
    bobs = sessions_of(bob.id)[0].id
    token = ann_web.get("/account").forms["sign-out-everywhere-form"]["csrf_token"].value
    ann_web.post(f"/account/sessions/{bobs}/signout", {"csrf_token": token})
    assert signed_in(bob_web)
    assert signed_in(ann_web)


def test_sign_out_all_my_devices_ends_every_session_and_remember_me_cookie(app, app_ctx):
    reader = ReaderFactory(email=ANN)
    here, phone, tablet = browser_for(app), browser_for(app), browser_for(app)
    sign_in(here, ANN)
    sign_in(phone, ANN, remember=True)
    sign_in(tablet, ANN)
    phone_cookie_only = copy_of(phone, app, "remember_token")

    landing = here.get("/account").forms["sign-out-everywhere-form"].submit().follow()

    assert "signed out on every device" in text(landing)
    assert not any(signed_in(b) for b in (here, phone, tablet, phone_cookie_only))
    assert sessions_of(reader.id) == []
    assert db.session.get(Reader, reader.id).security_stamp == 1  # spends links and tokens


def test_sign_out_everywhere_needs_the_forms_csrf_token(web, app_ctx):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    refused = web.post("/account/signout-everywhere", expect_errors=True)
    assert refused.status_code == 400
    assert signed_in(web)


def test_role_and_comp_changes_show_on_the_next_request(web, app_ctx):
    reader = ReaderFactory(email=ANN)
    article = ArticleFactory(access_level="paid")
    sign_in(web, ANN)
    assert web.get("/editor/articles/new", expect_errors=True).status_code == 403
    assert 'id="paywall-gate"' in web.get(f"/articles/{article.slug}").text

    db.session.execute(update(Reader).where(Reader.id == reader.id).values(is_comped=True))
    db.session.commit()
    assert 'id="paywall-gate"' not in web.get(f"/articles/{article.slug}").text

    db.session.execute(update(Reader).where(Reader.id == reader.id).values(role="editor"))
    db.session.commit()
    assert web.get("/editor/articles/new").status_code == 200


def test_an_expired_session_is_signed_out(web, app_ctx):
    reader = ReaderFactory(email=ANN)
    sign_in(web, ANN)
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.reader_id == reader.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert not signed_in(web)


def test_a_session_notes_when_it_was_last_used_every_few_minutes(web, app_ctx):
    reader = ReaderFactory(email=ANN)
    sign_in(web, ANN)
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(LoginSession).values(last_seen_at=an_hour_ago))
    db.session.commit()
    web.get("/account")
    (row,) = sessions_of(reader.id)
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)


def test_only_a_digest_of_the_session_token_is_stored(web, app_ctx):
    reader = ReaderFactory(email=ANN)
    sign_in(web, ANN, remember=True)
    (row,) = sessions_of(reader.id)
    cookies = " ".join(web.cookies.values())
    assert row.token_digest not in cookies
    assert len(row.token_digest) == 64


def test_a_tampered_session_cookie_is_refused(web, app, app_ctx):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    real = web.cookies["session"]
    payload, _, signature = real.rpartition(".")
    forged = browser_for(app)
    forged.set_cookie("session", f"{payload}.{signature[:-2]}xx")
    assert not signed_in(forged)


def test_a_session_cookie_a_worker_has_verified_still_ends_with_its_lifetime(web, app, app_ctx):
    """Workers keep what a verified cookie holds; the cookie's age is still checked."""
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    assert signed_in(web) and signed_in(web)  # verified once, then kept
    app.permanent_session_lifetime = timedelta(0)
    assert not signed_in(web)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (FIREFOX, "Firefox on Windows"),
        (IPHONE, "Mobile Safari on iOS"),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
        ("\x00" * 5000, "Unknown browser"),
    ],
)
def test_devices_are_named_as_readers_know_them(user_agent, device):
    assert describe_device(user_agent) == device


def test_signing_in_starts_a_new_form_secret(client, app_ctx):
    ReaderFactory(email=ANN)
    page = client.get("/signin").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as session:
        planted = session["csrf_token"]
    fields = {"csrf_token": token, "email": ANN, "password": DEFAULT_PASSWORD}
    assert client.post("/signin", data=fields).status_code == 302
    with client.session_transaction() as session:
        fresh = session["csrf_token"]
        assert fresh != planted
    home = client.get("/")  # the pages after it keep that secret: no cookie rewrites
    assert ANN in home.text and "Set-Cookie" not in home.headers


@pytest.mark.parametrize("session_id", ["99999999999999999999999", "-1", "abc"])
def test_a_session_number_that_cannot_be_one_is_not_found(web, app_ctx, session_id):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    token = web.get("/account").forms["sign-out-everywhere-form"]["csrf_token"].value
    path = f"/account/sessions/{session_id}/signout"
    assert web.post(path, {"csrf_token": token}, expect_errors=True).status_code == 404
    assert signed_in(web)

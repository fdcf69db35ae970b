"""A reader's data rights through the real account pages: change the email (confirmed
by a link to the new address), download my data, delete my account."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from billing.orm import utcnow
from paywall.accounts.models import LoginSession, Reader
from paywall.accounts.tokens import Purpose, make_token
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import DEFAULT_PASSWORD, EditorFactory, ReaderFactory
from tests.helpers import path_of, sign_in, sign_in_client, text

ANN, BOB = "ann@example.com", "bob@example.com"
NEW = "ann.new@example.com"
PREFIX = "change-email-"


def signed_in(web: TestApp) -> bool:
    return web.get("/account").status_code == 200


def reader(email: str) -> Reader | None:
    db.session.expire_all()
    return db.session.scalar(select(Reader).where(Reader.email == email))


def ask_for_new_email(web: TestApp, new: str, password: str = DEFAULT_PASSWORD):  # type: ignore[no-untyped-def]
    form = web.get("/account").forms["change-email-form"]
    form[PREFIX + "new_email"] = new
    form[PREFIX + "current_password"] = password
    return form.submit()


def open_link(web: TestApp, mailbox, address: str):  # type: ignore[no-untyped-def]
    """Open the change-of-email link in the newest email to ``address``, press its button."""
    link = path_of(mailbox.link_to(address, "/account/email/confirm/"))
    return web.get(link).forms["confirm-email-change-form"].submit()


# --- change of email -----------------------------------------------------------------------


def test_changing_email_takes_effect_only_when_the_new_address_confirms(web, app, app_ctx, mailbox):
    ReaderFactory(email=ANN, name="Ann")
    sign_in(web, ANN)
    asked = ask_for_new_email(web, NEW)
    assert asked.status_code == 302
    assert f"We've sent a link to {NEW}" in text(asked.follow())
    assert reader(ANN) is not None and reader(NEW) is None  # nothing changed yet
    notice = mailbox.text_of(mailbox.last_to(ANN))
    assert NEW in notice and "change your password" in notice
    assert "/account/email/confirm/" not in notice  # the link only goes to the new address

    other_device = browser_for(app)
    sign_in(other_device, ANN)
    confirmed = open_link(web, mailbox, NEW)
    assert confirmed.headers["Location"].endswith("/account")
    assert f"Your email address is now {NEW}" in text(confirmed.follow())
    assert reader(ANN) is None
    assert reader(NEW).email_verified_at is not None
    assert signed_in(web) and not signed_in(other_device)  # other sessions end
    assert sign_in(browser_for(app), NEW).status_code == 302
    assert sign_in(browser_for(app), ANN).status_code == 200  # the old address no longer signs in


def test_a_change_of_email_link_works_once(web, app, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    ask_for_new_email(web, NEW)
    link = path_of(mailbox.link_to(NEW, "/account/email/confirm/"))
    page = web.get(link)
    page.forms["confirm-email-change-form"].submit()
    again = web.get(link, expect_errors=True)
    assert again.status_code == 400
    assert reader(NEW) is not None


def test_a_change_of_email_link_expires(web, app, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    ask_for_new_email(web, NEW)
    link = path_of(mailbox.link_to(NEW, "/account/email/confirm/"))
    app.config["VERIFY_EMAIL_MAX_AGE"] = -1
    assert "expired" in text(web.get(link, expect_errors=True))
    assert reader(ANN) is not None


def test_a_password_change_spends_a_pending_change_of_email(web, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    ask_for_new_email(web, NEW)
    link = path_of(mailbox.link_to(NEW, "/account/email/confirm/"))
    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = "another long password"
    form.submit()
    assert web.get(link, expect_errors=True).status_code == 400
    assert reader(ANN) is not None


def test_changing_email_needs_the_current_password(web, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    page = ask_for_new_email(web, NEW, password="not my password")
    assert page.status_code == 200
    assert "That isn't your current password." in text(page)
    assert mailbox.to(NEW) == [] and mailbox.to(ANN) == []
    assert reader(ANN) is not None


def test_a_reader_without_a_password_changes_email_only_just_after_signing_in(
    client, app_ctx, mailbox
):
    ann = ReaderFactory(email=ANN, password_hash=None)  # only ever signed in by emailed link
    sign_in_client(client, ann)
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'name="change-email-csrf_token" type="hidden" value="([^"]+)"', page)[1]
    ask = {PREFIX + "csrf_token": token, PREFIX + "new_email": NEW}
    assert client.post("/account/email", data=ask).status_code == 302
    assert mailbox.last_to(NEW)

    db.session.execute(
        update(LoginSession)
        .where(LoginSession.reader_id == ann.id)
        .values(created_at=utcnow() - timedelta(minutes=11))
    )
    db.session.commit()
    mailbox.clear()
    stale = client.post("/account/email", data=ask)
    assert stale.status_code == 200
    assert "sign in again with an emailed link" in html.unescape(stale.get_data(as_text=True))
    assert mailbox.to(NEW) == []


def test_an_address_with_an_account_is_told_so_by_email_only(web, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    ReaderFactory(email=BOB)
    sign_in(web, ANN)
    asked = ask_for_new_email(web, BOB)
    assert asked.status_code == 302  # the same answer as for a free address
    assert f"We've sent a link to {BOB}" in text(asked.follow())
    told = mailbox.text_of(mailbox.last_to(BOB))
    assert "already has an account" in told and "/account/email/confirm/" not in told
    assert ANN not in told  # the owner of the other address learns nothing about Ann
    assert reader(ANN) is not None and reader(BOB) is not None


def test_an_address_taken_after_the_link_was_sent_is_not_taken_over(web, app, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    ask_for_new_email(web, NEW)
    link = path_of(mailbox.link_to(NEW, "/account/email/confirm/"))
    ReaderFactory(email=NEW)
    refused = web.get(link).forms["confirm-email-change-form"].submit(expect_errors=True)
    assert refused.status_code == 409
    assert "belongs to another account" in text(refused)
    assert reader(ANN) is not None


def test_the_change_of_email_form_needs_its_csrf_token(web, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    fields = {PREFIX + "new_email": NEW, PREFIX + "current_password": DEFAULT_PASSWORD}
    refused = web.post("/account/email", fields, expect_errors=True)
    assert refused.status_code == 400
    assert mailbox.to(NEW) == []
    assert reader(ANN) is not None


@pytest.mark.parametrize("bad", ["", "not-an-address", "a@b", "x" * 250 + "@example.com"])
def test_a_bad_new_address_is_a_field_error(web, app_ctx, mailbox, bad):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    page = ask_for_new_email(web, bad)
    assert page.status_code == 200
    assert page.html.select_one("#change-email-form .field--error") is not None
    assert reader(ANN) is not None


def test_a_forged_change_of_email_link_changes_nothing(web, app_ctx, mailbox):
    ann = ReaderFactory(email=ANN)
    forged = make_token(
        Purpose.VERIFY_EMAIL, {"id": ann.id, "from": ANN, "to": NEW, "stamp": ann.security_stamp}
    )
    assert web.get(f"/account/email/confirm/{forged}", expect_errors=True).status_code == 400
    assert reader(ANN) is not None


# --- download my data ------------------------------------------------------------------------


def test_my_data_is_a_json_file_of_my_own_account_only(web, app, app_ctx):
    ReaderFactory(email=ANN, name="Ann Example")
    ReaderFactory(email=BOB, name="Bob Other")
    sign_in(browser_for(app), BOB)
    sign_in(web, ANN)
    download = web.get("/account").click(linkid="download-data")
    assert download.headers["Content-Type"] == "application/json"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-store" in download.headers["Cache-Control"]
    data = json.loads(download.text)
    assert data["account"]["email"] == ANN and data["account"]["name"] == "Ann Example"
    assert data["consent"]["email_verified_at"]
    assert data["customer"] is None and data["invoices"] == []
    assert [s["this_device"] for s in data["sessions"]] == [True]
    assert BOB not in download.text and "Bob Other" not in download.text
    digests = db.session.scalars(select(LoginSession.token_digest))
    assert all(digest not in download.text for digest in digests)
    assert "token" not in download.text


def test_my_data_needs_a_signed_in_reader(web, app_ctx):
    assert web.get("/account/data").status_code == 302


# --- delete my account --------------------------------------------------------------------------


def delete_with(web: TestApp, typed: str):  # type: ignore[no-untyped-def]
    form = web.get("/account").click(linkid="delete-account-link").forms["delete-account-form"]
    form["confirmation"] = typed
    return form.submit()


@pytest.mark.parametrize("typed", [ANN, " Ann@Example.com ", DEFAULT_PASSWORD])
def test_deleting_my_account_erases_me_and_frees_the_address(web, app, app_ctx, mailbox, typed):
    ann = ReaderFactory(email=ANN, name="Ann Example")
    other_device = browser_for(app)
    sign_in(other_device, ANN)
    sign_in(web, ANN)
    deleted = delete_with(web, typed)
    assert deleted.status_code == 302
    assert "Your account is deleted" in text(deleted.follow())
    assert not signed_in(web) and not signed_in(other_device)

    db.session.expire_all()
    row = db.session.get(Reader, ann.id)
    assert row.deleted_at is not None
    assert row.email.endswith("@deleted.invalid") and ANN not in row.email
    assert row.name == "" and row.password_hash is None
    assert (
        db.session.scalars(select(LoginSession).where(LoginSession.reader_id == ann.id)).all() == []
    )
    assert sign_in(browser_for(app), ANN).status_code == 200  # a deleted account cannot sign in

    form = browser_for(app).get("/signup").forms["sign-up-form"]
    form["email"] = ANN
    form["password"] = "a long enough password"
    form.submit()
    link = path_of(mailbox.link_to(ANN, "/signup/confirm/"))  # a new account, not the old one
    fresh = browser_for(app)
    fresh.get(link).forms["confirm-sign-up-form"].submit()
    assert reader(ANN).id != ann.id


def test_deleting_needs_my_email_or_password(web, app_ctx):
    ann = ReaderFactory(email=ANN)
    ReaderFactory(email=BOB)
    sign_in(web, ANN)
    for typed in ["wrong password", BOB, ""]:
        page = delete_with(web, typed)
        assert page.status_code == 200
        assert page.html.select_one("#delete-account-form .field--error") is not None
    assert reader(ANN).id == ann.id and signed_in(web)


def test_deleting_needs_the_forms_csrf_token(web, app_ctx):
    ReaderFactory(email=ANN)
    sign_in(web, ANN)
    refused = web.post("/account/delete", {"confirmation": ANN}, expect_errors=True)
    assert refused.status_code == 400
    assert reader(ANN) is not None and signed_in(web)


def test_a_deleted_readers_old_emailed_links_do_not_sign_in(web, app, app_ctx, mailbox):
    ReaderFactory(email=ANN)
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = ANN
    form.submit()
    link = path_of(mailbox.link_to(ANN, "/signin/link/"))
    signed = browser_for(app)
    sign_in(signed, ANN)
    delete_with(signed, ANN)
    assert web.get(link, expect_errors=True).status_code == 400


def test_the_staff_readers_list_leaves_deleted_accounts_out(web, app, app_ctx):
    ReaderFactory(email=ANN)
    EditorFactory(email="ed@example.com")
    sign_in(web, ANN)
    delete_with(web, ANN)
    staff = browser_for(app)
    sign_in(staff, "ed@example.com")
    listed = text(staff.get("/admin/readers"))
    assert "ed@example.com" in listed
    assert "deleted.invalid" not in listed and ANN not in listed


def test_a_link_or_code_asked_for_after_signing_in_dies_with_the_account(
    web, app, app_ctx, mailbox
):
    """Signed in on one browser, the reader asks for a sign-in email on another, then
    deletes the account: neither the link nor the code in that email signs in."""
    ReaderFactory(email=ANN)
    signed = browser_for(app)
    sign_in(signed, ANN)
    form = web.get("/signin/link").forms["request-link-form"]
    form["email"] = ANN
    code_page = form.submit()
    message = mailbox.text_of(mailbox.last_to(ANN))
    link = path_of(mailbox.link_to(ANN, "/signin/link/"))
    code = re.search(r"^(\d{6})\r?$", message, re.MULTILINE).group(1)  # type: ignore[union-attr]
    delete_with(signed, ANN)

    web.get(link).forms["confirm-link-form"].submit(expect_errors=True)
    assert "Sign out" not in web.get("/").text
    form = code_page.forms["sign-in-code-form"]
    form["code"] = code
    form.submit(expect_errors=True)
    home = web.get("/").text
    assert "Sign out" not in home and "Sign in" in home

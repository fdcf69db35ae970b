"""Passwords anyone could guess are refused wherever a password is chosen (NIST SP
800-63B): common and breached ones, repetitive and sequential ones, and ones made of the
reader's own email or name. The minimum length stays."""

from __future__ import annotations

import pytest

from paywall.accounts import signin
from paywall.accounts.lookup import find_by_email
from paywall.accounts.passwords import password_weakness
from paywall.accounts.tokens import Purpose, make_token
from paywall.extensions import db
from tests.factories import DEFAULT_PASSWORD, ReaderFactory
from tests.helpers import sign_in, text

WEAK = [
    "aaaaaaaaaa",  # repetitive
    "1234567890",  # sequential (and among the most common)
    "abcdefghijk",  # sequential letters
    "qwertyuiop",  # a keyboard row
    "password123",  # common, breached everywhere
    "Password1!",  # a common password dressed up
    "iloveyou12",  # breached-list favourite
    "trustno1trustno1",  # a breached password, repeated
    "nia.reader@example.com",  # the reader's own email
    "niareader2026",  # the reader's name run together, and a year
]
STRONG = ["correct horse battery", "a long enough password", "tangerine umbrella quartz"]


@pytest.mark.parametrize("password", WEAK)
def test_guessable_passwords_are_refused_with_a_reason(password):
    weakness = password_weakness(password, ["nia.reader@example.com", "Nia Reader"])
    assert weakness is not None and weakness.startswith("That password is too easy to guess.")


@pytest.mark.parametrize("password", STRONG)
def test_passphrases_are_accepted(password):
    assert password_weakness(password, ["nia.reader@example.com", "Nia Reader"]) is None


def test_too_short_stays_its_own_reason():
    assert password_weakness("Xq7#vL2!p") == "Use at least 10 characters."


def test_a_long_password_is_judged_quickly_by_its_start():
    assert password_weakness("a" * 200) is not None
    assert password_weakness("tangerine umbrella quartz " + "z" * 200) is None


def assert_refused_on_the_form(page, form_id: str) -> None:  # type: ignore[no-untyped-def]
    assert page.status_code == 200
    assert "That password is too easy to guess." in text(page)
    assert 'id="password-errors"' in page.text and page.forms[form_id]


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "password123"])
def test_sign_up_refuses_a_guessable_password(web, app_ctx, mailbox, password):
    form = web.get("/signup").forms["sign-up-form"]
    form["email"] = "nia.reader@example.com"
    form["password"] = password
    assert_refused_on_the_form(form.submit(), "sign-up-form")
    assert find_by_email("nia.reader@example.com") is None
    assert mailbox.messages == []


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "password123"])
def test_reset_refuses_a_guessable_password_and_the_link_still_works(web, app_ctx, password):
    reader = ReaderFactory(email="ann@example.com")
    with web.app.test_request_context():
        token = make_token(Purpose.RESET_PASSWORD, {"id": reader.id, "stamp": 0})
    form = web.get(f"/password/reset/{token}").forms["reset-password-form"]
    form["password"] = form["confirm"] = password
    assert_refused_on_the_form(form.submit(), "reset-password-form")
    db.session.refresh(reader)
    assert reader.security_stamp == 0  # nothing changed, the link is unspent
    assert signin.authenticate("ann@example.com", DEFAULT_PASSWORD) is not None

    form = web.get(f"/password/reset/{token}").forms["reset-password-form"]
    form["password"] = form["confirm"] = "tangerine umbrella quartz"
    assert form.submit().status_code == 302


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "password123"])
def test_change_password_refuses_a_guessable_password(web, app_ctx, password):
    reader = ReaderFactory(email="ann@example.com")
    sign_in(web, "ann@example.com")
    form = web.get("/account").forms["change-password-form"]
    form["current_password"] = DEFAULT_PASSWORD
    form["password"] = form["confirm"] = password
    assert_refused_on_the_form(form.submit(), "change-password-form")
    db.session.refresh(reader)
    assert reader.security_stamp == 0
    assert signin.authenticate("ann@example.com", DEFAULT_PASSWORD) is not None


def test_create_admin_refuses_a_guessable_password(runner, app_ctx):
    result = runner.invoke(args=["create-admin", "boss@example.com", "--password", "1234567890"])
    assert result.exit_code != 0 and "too easy to guess" in result.output
    assert find_by_email("boss@example.com") is None

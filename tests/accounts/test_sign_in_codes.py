"""The 6-digit code in the sign-in email signs in the browser that asked for it, once,
for a short while, and only after few enough wrong tries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from paywall.accounts.models import SignInCode
from paywall.extensions import db
from tests.conftest import browser_for
from tests.factories import ReaderFactory
from tests.helpers import path_of, sign_in, text

WRONG = "That isn't the code we sent."
GONE = "This code can't be used any more."
TOO_MANY = "This code was tried too many times and no longer works."


def ask_for_email(web, email: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    """Ask for a sign-in email on the real form; the page that answers (the code form)."""
    form = web.get("/signin/link", params={"next": next_url} if next_url else {}).forms[
        "request-link-form"
    ]
    form["email"] = email
    return form.submit()


def emailed_code(mailbox, address: str) -> str:  # type: ignore[no-untyped-def]
    """The code in the newest email to ``address``."""
    found = re.search(r"^(\d{6})\r?$", mailbox.text_of(mailbox.last_to(address)), re.MULTILINE)
    assert found, "no code in the email"
    return found.group(1)


def type_code(page, code: str):  # type: ignore[no-untyped-def]
    form = page.forms["sign-in-code-form"]
    form["code"] = code
    return form.submit()


def signed_in(web) -> bool:  # type: ignore[no-untyped-def]
    return web.get("/account").status_code == 200


def wrong(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def copy_of(web):  # type: ignore[no-untyped-def]
    """Another browser holding the same cookies (a second tab, or someone with a copy)."""
    other = browser_for(web.app)
    for cookie in web.cookiejar:
        other.cookiejar.set_cookie(cookie)
    return other


def test_the_emailed_code_signs_in_this_browser_and_goes_on(web, app_ctx, mailbox):
    reader = ReaderFactory(email="code@example.com", email_verified_at=None)
    page = ask_for_email(web, "code@example.com", "/articles/a-story")
    assert "If an account exists for code@example.com" in text(page)
    assert "type its 6-digit code here" in text(page)
    field = page.html.find(id="code")
    assert field["inputmode"] == "numeric" and field["autocomplete"] == "one-time-code"

    email = mailbox.text_of(mailbox.last_to("code@example.com"))
    assert "/signin/link/" in email and "Or type this code" in email
    code = emailed_code(mailbox, "code@example.com")
    landed = type_code(page, f" {code[:3]} - {code[3:]} ")  # as a reader might type it
    assert landed.headers["Location"].endswith("/articles/a-story")
    assert "You're signed in." in text(landed.follow(expect_errors=True))  # (no such article)
    assert signed_in(web)
    db.session.refresh(reader)
    assert reader.email_verified  # the code proved the mailbox, as the link does
    assert db.session.scalar(select(func.count()).select_from(SignInCode)) == 0


def test_a_wrong_code_is_a_field_error_and_the_right_one_still_works(web, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")

    refused = type_code(page, wrong(code))
    assert refused.status_code == 200
    assert f"{WRONG} Check the newest sign-in email (4 tries left)." in text(refused)
    assert refused.html.find(id="code")["aria-invalid"] == "true"
    assert not signed_in(web)

    not_a_code = type_code(refused, "12345")  # not six digits: no try is spent
    assert "Enter the 6 digits from the email." in text(not_a_code)
    assert type_code(not_a_code, code).status_code == 302
    assert signed_in(web)


def test_after_five_wrong_codes_even_the_right_one_is_refused(web, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")
    for left in (4, 3, 2, 1):
        page = type_code(page, wrong(code))
        assert f"({left} {'try' if left == 1 else 'tries'} left)" in text(page)
    page = type_code(page, wrong(code))
    assert "that was the last try" in text(page)

    page = type_code(page, code)
    assert TOO_MANY in text(page) and "Ask for a new sign-in email." in text(page)
    assert not signed_in(web)

    # A new email brings a new code, with its own tries.
    page = ask_for_email(web, "code@example.com")
    assert type_code(page, emailed_code(mailbox, "code@example.com")).status_code == 302


def test_an_expired_code_is_refused(make_app, mailbox):
    app = make_app(SIGNIN_LINK_MAX_AGE=0)  # every code has expired by the time it is typed
    web = browser_for(app)
    with app.app_context():
        ReaderFactory(email="slow@example.com")
    page = ask_for_email(web, "slow@example.com")
    refused = type_code(page, emailed_code(mailbox, "slow@example.com"))
    assert "This code has expired. Ask for a new sign-in email." in text(refused)
    assert not signed_in(web)


def test_a_code_works_once(web, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")
    replay = copy_of(web)  # holds the request as it was before the code was used
    assert type_code(page, code).status_code == 302

    refused = type_code(replay.get("/signin/code"), code)
    assert GONE in text(refused)
    assert not signed_in(replay)


def test_using_the_link_ends_the_code(web, app, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")
    link = path_of(mailbox.link_to("code@example.com", "/signin/link/"))
    elsewhere = browser_for(app)  # where the mail app opened the link
    elsewhere.get(link).forms["confirm-link-form"].submit()
    assert signed_in(elsewhere)

    assert GONE in text(type_code(page, code))
    assert not signed_in(web)


def test_using_the_code_ends_the_link(web, app, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")
    link = path_of(mailbox.link_to("code@example.com", "/signin/link/"))
    assert type_code(page, code).status_code == 302

    elsewhere = browser_for(app)
    spent = elsewhere.get(link, expect_errors=True)
    assert spent.status_code == 400 and "This link can't be used" in text(spent)


def test_a_code_signs_in_only_the_browser_that_asked(web, app, app_ctx, mailbox):
    ReaderFactory(email="victim@example.com")
    ReaderFactory(email="other@example.com")
    ask_for_email(web, "victim@example.com")
    code = emailed_code(mailbox, "victim@example.com")

    stranger = browser_for(app)  # asked for nothing, posts the code form anyway
    csrf = stranger.get("/signin/link").forms["request-link-form"]["csrf_token"].value
    refused = stranger.post("/signin/code", {"code": code, "csrf_token": csrf})
    assert "a code works only in the browser that asked for it" in text(refused)
    assert not signed_in(stranger)

    # A browser that asked for its own email cannot use another browser's code either.
    page = ask_for_email(stranger, "other@example.com")
    assert WRONG in text(type_code(page, code))
    assert not signed_in(stranger)
    assert type_code(web.get("/signin/code"), code).status_code == 302  # still the asker's


def test_a_new_request_supersedes_the_earlier_code(web, app, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    ask_for_email(web, "code@example.com")
    first = emailed_code(mailbox, "code@example.com")
    mailbox.clear()
    page = ask_for_email(web, "code@example.com")
    second = emailed_code(mailbox, "code@example.com")
    if first != second:  # one in a million they match
        assert WRONG in text(type_code(page, first))

    # A request from another browser for the same address ends this one's code too.
    other = browser_for(app)
    ask_for_email(other, "code@example.com")
    assert GONE in text(type_code(page, second))
    assert not signed_in(web)


def test_an_address_without_an_account_gets_the_same_answers(web, app, app_ctx, mailbox):
    ReaderFactory(email="known@example.com")

    def answers(browser, email: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
        """What the reader reads after asking, then after each of six wrong codes."""
        page = ask_for_email(browser, email)
        said = [messages(page, email)]
        for _ in range(6):
            page = type_code(page, "000000")
            said.append(messages(page, email))
        return said

    unknown = answers(web, "nobody@example.com")
    assert mailbox.to("nobody@example.com") == []
    known = answers(browser_for(app), "known@example.com")
    if emailed_code(mailbox, "known@example.com") != "000000":  # one in a million
        assert known == unknown
    assert any(TOO_MANY in message for message in known[-1])


def messages(page, email: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's paragraphs and field errors, with the address typed blanked out."""
    return [
        element.get_text(" ", strip=True).replace(email, "EMAIL")
        for element in page.html.select("main p, main li")
    ]


def test_the_code_page_without_a_request_leads_to_asking_for_one(web, app_ctx):
    answer = web.get("/signin/code", params={"next": "/articles/a-story"})
    assert answer.status_code == 302
    assert path_of(answer.headers["Location"]) == "/signin/link?next=/articles/a-story"


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example"])
def test_the_code_form_ignores_an_off_site_next(web, app_ctx, mailbox, target):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com", target)
    form = page.forms["sign-in-code-form"]
    form["next"] = target  # hand-edited
    form["code"] = emailed_code(mailbox, "code@example.com")
    assert path_of(form.submit().headers["Location"]) == "/"


def test_typing_codes_is_rate_limited(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="3 per minute")
    web = browser_for(app)
    page = ask_for_email(web, "someone@example.com")
    statuses = []
    for _ in range(4):
        answer = page.forms["sign-in-code-form"]
        answer["code"] = "123456"
        page = answer.submit(expect_errors=True)
        statuses.append(page.status_code)
        if page.status_code == 429:
            break
    assert statuses == [200, 200, 200, 429]
    assert "Too many attempts" in text(page)


def test_signing_in_by_password_ends_a_pending_code(web, app, app_ctx, mailbox):
    ReaderFactory(email="code@example.com")
    page = ask_for_email(web, "code@example.com")
    code = emailed_code(mailbox, "code@example.com")
    sign_in(browser_for(app), "code@example.com")
    assert GONE in text(type_code(page, code))

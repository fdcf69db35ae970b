"""An emailed link works once even when it is used many times at the same moment.

Against a live server with a thread per request, as a reader double-clicking (or an
attacker replaying a link) would hit it; run on PostgreSQL too.
"""

from __future__ import annotations

import html
import re
from functools import partial

from sqlalchemy import select

from paywall.accounts.models import Reader
from paywall.accounts.passwords import verify_password
from paywall.extensions import db
from tests.factories import ReaderFactory
from tests.helpers import path_of
from tests.live import LiveBrowser, at_once, served

TIMES = 4
ROUNDS = 5
# Production's argon2 cost: the hashing sits between reading the link's state and saving.
PRODUCTION_HASHING = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_COST": 64 * 1024}


def test_a_reset_link_used_four_times_at_once_changes_the_password_once(make_app, mailbox):
    app = make_app(**PRODUCTION_HASHING)
    with app.app_context():
        ReaderFactory(email="race@example.com")
    with served(app) as base:
        LiveBrowser(base).submit("/password/forgot", {"email": "race@example.com"})
        link = path_of(mailbox.link_to("race@example.com", "/password/reset/"))
        browsers = [LiveBrowser(base) for _ in range(TIMES)]
        tokens = [browser.csrf_token(link) for browser in browsers]
        passwords = [f"new password number {n}" for n in range(TIMES)]
        answers = at_once(
            [
                lambda b=browser, t=token, p=password: b.request(
                    link, {"csrf_token": t, "password": p, "confirm": p}
                )
                for browser, token, password in zip(browsers, tokens, passwords, strict=True)
            ]
        )
    statuses = [status for status, _, _ in answers]
    assert sorted(statuses) == [302] + [400] * (TIMES - 1), statuses
    winner = passwords[statuses.index(302)]
    with app.app_context():
        reader = db.session.scalar(select(Reader).where(Reader.email == "race@example.com"))
        assert verify_password(reader.password_hash, winner)
        assert reader.security_stamp == 1


def test_a_sign_in_link_used_four_times_at_once_signs_in_once(make_app, mailbox):
    app = make_app()
    with app.app_context():
        ReaderFactory(email="race@example.com")
    with served(app) as base:
        for _ in range(ROUNDS):
            LiveBrowser(base).submit("/signin/link", {"email": "race@example.com"})
            link = path_of(mailbox.link_to("race@example.com", "/signin/link/"))
            browsers = [LiveBrowser(base) for _ in range(TIMES)]
            tokens = [browser.csrf_token(link) for browser in browsers]
            answers = at_once(
                [
                    lambda b=browser, t=token, link=link: b.request(link, {"csrf_token": t})
                    for browser, token in zip(browsers, tokens, strict=True)
                ]
            )
            statuses = [status for status, _, _ in answers]
            assert sorted(statuses) == [302] + [400] * (TIMES - 1), statuses
            signed_in = [browser.get("/account")[0] == 200 for browser in browsers]
            assert signed_in == [status == 302 for status in statuses]


def test_a_sign_up_link_used_four_times_at_once_signs_in_once(make_app, mailbox):
    app = make_app()
    with served(app) as base:
        LiveBrowser(base).submit(
            "/signup", {"email": "race@example.com", "password": "a long enough password"}
        )
        link = path_of(mailbox.link_to("race@example.com", "/signup/confirm/"))
        browsers = [LiveBrowser(base) for _ in range(TIMES)]
        tokens = [browser.csrf_token(link) for browser in browsers]
        answers = at_once(
            [
                lambda b=browser, t=token: b.request(link, {"csrf_token": t})
                for browser, token in zip(browsers, tokens, strict=True)
            ]
        )
        statuses = [status for status, _, _ in answers]
        assert sorted(statuses) == [302] + [400] * (TIMES - 1), statuses
        signed_in = [browser.get("/account")[0] == 200 for browser in browsers]
        assert signed_in == [status == 302 for status in statuses]


def emailed_code(mailbox, address: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r"^(\d{6})\r?$", mailbox.text_of(mailbox.last_to(address)), re.MULTILINE)
    assert found, "no code in the email"
    return found.group(1)


def copies_of(browser: LiveBrowser, times: int) -> list[LiveBrowser]:
    """Browsers holding ``browser``'s cookies: its tabs, or whoever copied them."""
    copies = [LiveBrowser(browser.base) for _ in range(times)]
    for copy in copies:
        for cookie in browser.cookies:
            copy.cookies.set_cookie(cookie)
    return copies


def test_a_sign_in_code_sent_four_times_at_once_signs_in_once(make_app, mailbox):
    app = make_app()
    with app.app_context():
        ReaderFactory(email="race@example.com")
    with served(app) as base:
        for _ in range(ROUNDS):
            mailbox.clear()
            asker = LiveBrowser(base)
            asker.submit("/signin/link", {"email": "race@example.com"})
            code = emailed_code(mailbox, "race@example.com")
            browsers = copies_of(asker, TIMES)
            fields = {"csrf_token": asker.csrf_token("/signin/code"), "code": code}
            answers = at_once([partial(b.request, "/signin/code", fields) for b in browsers])
            statuses = [status for status, _, _ in answers]
            assert sorted(statuses) == [200] * (TIMES - 1) + [302], statuses
            refused = [page for status, page, _ in answers if status == 200]
            assert all("can't be used any more" in html.unescape(page) for page in refused)
            signed_in = [browser.get("/account")[0] == 200 for browser in browsers]
            assert signed_in == [status == 302 for status in statuses]


def test_a_sign_in_code_and_its_link_used_at_once_sign_in_once(make_app, mailbox):
    app = make_app()
    with app.app_context():
        ReaderFactory(email="race@example.com")
    with served(app) as base:
        for _ in range(ROUNDS):
            mailbox.clear()
            asker = LiveBrowser(base)
            asker.submit("/signin/link", {"email": "race@example.com"})
            code = emailed_code(mailbox, "race@example.com")
            link = path_of(mailbox.link_to("race@example.com", "/signin/link/"))
            elsewhere = LiveBrowser(base)  # where the mail app opened the link
            with_code = {"csrf_token": asker.csrf_token("/signin/code"), "code": code}
            with_link = {"csrf_token": elsewhere.csrf_token(link)}
            answers = at_once(
                [
                    partial(asker.request, "/signin/code", with_code),
                    partial(elsewhere.request, link, with_link),
                ]
            )
            won = [status == 302 for status, _, _ in answers]
            assert sorted(won) == [False, True], answers
            assert [browser.get("/account")[0] == 200 for browser in (asker, elsewhere)] == won

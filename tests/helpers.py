"""Small helpers shared by tests: act like a person using the site."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from webtest import TestApp

from tests.factories import DEFAULT_PASSWORD


def text(page) -> str:  # type: ignore[no-untyped-def]
    """A page's HTML with entities decoded, for asserting on what a reader reads."""
    return html.unescape(page.text)


def path_of(url: str) -> str:
    """``/path?query`` of an absolute URL from an email."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(web: TestApp, email: str, password: str = DEFAULT_PASSWORD, **extra: object):
    """Fill in and submit the real sign-in form; returns the response."""
    page = web.get("/signin")
    form = page.forms["sign-in-form"]
    form["email"] = email
    form["password"] = password
    for name, value in extra.items():
        form[name] = value
    return form.submit()


def session_identity(reader) -> str:  # type: ignore[no-untyped-def]
    """A new live session for ``reader`` (needs an app context): the identity its cookies
    carry, as signing in would make it."""
    from paywall.accounts.sessions import open_session

    return open_session(reader.id).token


def sign_in_client(client, reader) -> None:  # type: ignore[no-untyped-def]
    """Put ``reader`` in a Flask test client's session, as a signed-in browser would have.

    A ``Reader`` row gets a new session (in an app context); anything else is taken to
    hold one already (``get_id()``: its identity).
    """
    from paywall.accounts.models import Reader

    identity = session_identity(reader) if isinstance(reader, Reader) else reader.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = identity
        session["_fresh"] = True

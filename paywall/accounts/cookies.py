"""The session cookie: Flask's signed cookie, which names a server-side session.

What makes a session valid is its :class:`~paywall.accounts.models.LoginSession` row
(see ``sessions``); the cookie only carries the token naming it, plus the CSRF secret
and flashed messages. The signing serializer is built once per app instead of on every
request; the cookie is verified on every request (about 25 µs, too little to be worth
a cache).

The JSON API (``/api/``) never opens the cookie at all: it speaks for whoever its keys and
Bearer tokens name, so a cookie the browser sends along cannot act for a reader there
(which is also why the API needs no CSRF token), and it saves the work on the reader
API's every call.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

SERIALIZER = "paywall.session_serializer"
API_PREFIX = "/api/"


class ApiSession(NullSession):
    """The empty, read-only session of a JSON API request (never saved: a null session)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("The JSON API never reads or writes the session cookie.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse  # type: ignore[assignment]


class ReaderSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions with one serializer per app and none on the JSON API."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built = app.extensions.get(SERIALIZER)
        if built is None or built[0] != keys:
            built = (keys, super().get_signing_serializer(app))
            app.extensions[SERIALIZER] = built
        return built[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return ApiSession()
        return super().open_session(app, request)

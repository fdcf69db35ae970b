"""The session cookie: Flask's signed cookie, which names a server-side session.

What makes a session valid is its :class:`~paywall.accounts.models.LoginSession` row
(see ``sessions``); the cookie only carries the token naming it, plus the CSRF secret
and flashed messages. The signing serializer is built once per app instead of on every
request, and each worker keeps what a cookie it verified holds, keyed by the whole
signed cookie: the same cookie always holds the same values, and a cookie that does not
verify is never kept. Verifying (base64, HMAC, zlib, tagged JSON) was a fifth of a
signed-in reader's article page in process (50 of 270 µs); the cookie's own timestamp
still ends it when the session's lifetime is up.

The JSON API (``/api/``) never opens the cookie at all: it speaks for whoever its keys and
Bearer tokens name, so a cookie the browser sends along cannot act for a reader there
(which is also why the API needs no CSRF token), and it saves the work on the reader
API's every call.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from flask import Flask, Request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from paywall.caching import cache

SERIALIZER = "paywall.session_serializer"
VERIFIED, VERIFIED_ENTRIES = "paywall.verified_session_cookies", 8192
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
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        lifetime = app.permanent_session_lifetime.total_seconds()
        verified = cache(VERIFIED, (), VERIFIED_ENTRIES).fetch(
            cookie, lambda: self._verify(app, cookie, lifetime)
        )
        if verified is None or time.time() - verified[1] > lifetime:
            return self.session_class()
        # A fresh copy: the request may change its session (flash() appends to a list).
        return self.session_class({key: copy.copy(value) for key, value in verified[0].items()})

    def _verify(
        self, app: Flask, cookie: str, lifetime: float
    ) -> tuple[dict[str, Any], float] | None:
        """The cookie's values and when it was signed, or None if it does not verify."""
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # the app has a secret key: create_app requires it
        try:
            values, signed_at = serializer.loads(
                cookie, max_age=int(lifetime), return_timestamp=True
            )
        except BadSignature:
            return None
        return values, signed_at.timestamp()

"""The session cookie: Flask's signed cookie, minus the work every request repeated.

Flask builds a signing serializer and verifies and decodes the cookie on each request;
a signed-in reader sends the same cookie page after page. Here the serializer is built
once per app, and a cookie this worker has already verified is found by its exact value
(only a value whose signature checked out is ever stored) and its age checked against
the session lifetime as Flask does. Only flat sessions (plain values, which is what a
signed-in reader's session holds between pages) are kept; each request gets its own copy.

The JSON API (``/api/``) never opens the cookie at all: it speaks for whoever its keys and
Bearer tokens name, so a cookie the browser sends along cannot act for a reader there
(which is also why the API needs no CSRF token), and it saves the work on the reader
API's every call.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from paywall.extensions import LocalCache, local_cache

CACHE = "paywall.session_cookies"
CACHE_SECONDS = 300
CACHE_ENTRIES = 10_000
SERIALIZER = "paywall.session_serializer"
PLAIN = (str, int, float, bool, type(None))
API_PREFIX = "/api/"


class ApiSession(NullSession):
    """The empty, read-only session of a JSON API request (never saved: a null session)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("The JSON API never reads or writes the session cookie.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse  # type: ignore[assignment]


class ReaderSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions, each cookie verified once per worker (see the module)."""

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
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        cache: LocalCache[str, tuple[dict[str, Any], float]]
        cache = local_cache(CACHE, CACHE_SECONDS, CACHE_ENTRIES, app)
        known = cache.get(value)
        if known is not None and 0 <= time.time() - known[1] <= max_age:
            return self.session_class(known[0])
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, PLAIN) for v in data.values()):
            cache.put(value, (dict(data), signed_at.timestamp()))
        return self.session_class(data)

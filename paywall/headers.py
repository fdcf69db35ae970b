"""Security and caching headers on every response.

The values never change while the app runs, so they are built once in ``init_app`` and
added by a WSGI middleware to the header list each response starts with: this sits on
the reading path, which is measured (an after-request hook copying them into the
response's ``Headers`` cost 25 µs of a 250 µs article page; the list costs about 2).

Caching is decided here, once, for the whole app: a response whose view did not set
``Cache-Control`` itself is ``private, no-store``. Pages say who is signed in (the
masthead) and carry CSRF tokens; account, billing and staff pages, articles in full
and the API's answers carry one reader's data or text past the gate. Only responses
whose view declares them shareable (the JWKS, ``embed.js``, static files) may be kept.

One exception, for shared caches (a CDN, Varnish: ``docs/edge-cache.md``): a page that
is the same for every anonymous reader (an article's teaser, a free article, the front
page) is offered with :func:`share_with_anonymous`, and becomes ``public`` with
``s-maxage`` only if, once the response is complete, it still qualifies: a GET or HEAD
that carried neither the session nor the remember-me cookie, answered 200 (or 304) with
no ``Set-Cookie``. Anything else stays ``private, no-store``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

# Our own assets, plus what Stripe.js needs for card forms.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' https://js.stripe.com",
    "frame-src": "https://js.stripe.com https://hooks.stripe.com",
    "connect-src": "'self' https://api.stripe.com",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
}


def origin_of(url: str) -> str:
    """``http://127.0.0.1:8420/endive/stripe.js`` → ``http://127.0.0.1:8420``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(extra_origins: tuple[str, ...] = ()) -> str:
    """The CSP; ``extra_origins`` (where STRIPE_JS_URL and STRIPE_API_BASE point, when not
    Stripe itself) may serve scripts and API calls."""
    policy = dict(CONTENT_SECURITY_POLICY)
    for origin in extra_origins:
        for directive in ("script-src", "connect-src"):
            policy[directive] = f"{policy[directive]} {origin}"
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def security_headers(secure: bool, extra_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers every response carries; HSTS only when the site is served over https."""
    headers = {
        "Content-Security-Policy": content_security_policy(extra_origins),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


PRIVATE = "private, no-store"
CSP = "Content-Security-Policy"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Where a view offering its response to shared caches leaves the page's keys (environ).
SHARED_KEYS = "paywall.shared_keys"
SHAREABLE_STATUSES = ("200", "304")  # a 304 repeats the headers its 200 had
REMEMBER_COOKIE_DEFAULT = "remember_token"  # Flask-Login's, when the config names none


def shared_cache_control(max_age: int, stale_seconds: int) -> str:
    """``Cache-Control`` of a page every anonymous reader gets alike: kept by shared
    caches for ``max_age`` seconds, revalidated by browsers on every use (a reader who
    signs in must not see the anonymous copy: ``Vary: Cookie`` says so too)."""
    return f"public, max-age=0, s-maxage={max_age}, stale-while-revalidate={stale_seconds}"


def carries_reader_cookie(cookies: Any, config: Any) -> bool:
    """Whether a request's cookies include the session or the remember-me cookie."""
    names = (
        config.get("SESSION_COOKIE_NAME") or "session",
        config.get("REMEMBER_COOKIE_NAME") or REMEMBER_COOKIE_DEFAULT,
    )
    return any(name in cookies for name in names)


def share_with_anonymous(response: BaseResponse, keys: Iterable[str]) -> BaseResponse:
    """Offer ``response`` to shared caches as a page every anonymous reader gets alike.

    Call it only for a page rendered for nobody signed in, from nothing of the request
    but its URL. It gets a validator (``ETag``: a digest of the page, so any change to
    what it shows changes it) and answers ``If-None-Match`` with 304; the response
    becomes ``public`` only if it still qualifies once complete (see the module
    docstring). ``keys`` name what the page shows (``article-<id>``, ``lists``), for
    purges (:mod:`paywall.purging`).
    """
    config = current_app.config
    if config["EDGE_MAX_AGE"] <= 0 or request.method not in ("GET", "HEAD"):
        return response
    if carries_reader_cookie(request.cookies, config):
        return response
    request.environ[SHARED_KEYS] = " ".join(("all", *keys))
    response.vary.add("Cookie")
    # Werkzeug's add_etag and make_conditional on every page cost 25 µs of CPU on a 12 KB
    # page; the digest alone, and the comparison only when asked, cost 10.
    response.set_etag(hashlib.sha1(response.get_data(), usedforsecurity=False).hexdigest())
    if "HTTP_IF_NONE_MATCH" in request.environ:
        response.make_conditional(request)
    return response


class ResponseHeaders:
    """WSGI middleware: ``always`` on every response, ``defaults`` where the app did not
    set a header of that name itself, and ``shared`` (instead of the private default)
    on a response offered to shared caches that still qualifies."""

    def __init__(
        self,
        app: WSGIApp,
        always: list[tuple[str, str]],
        defaults: list[tuple[str, str]],
        shared: list[tuple[str, str]] | None = None,
    ) -> None:
        self.app = app
        self.always = always
        self.defaults = [(name.lower(), (name, value)) for name, value in defaults]
        self.shared = [(name.lower(), (name, value)) for name, value in shared or ()]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(self.always)
            keys = environ.get(SHARED_KEYS)
            if keys is not None and self._may_share(status, present):
                headers.extend(header for name, header in self.shared if name not in present)
                headers.append(("Surrogate-Key", keys))
                present.update(name for name, _ in self.shared)
            headers.extend(header for name, header in self.defaults if name not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def _may_share(self, status: str, present: set[str]) -> bool:
        """The last check, on the complete response: nothing of a reader was set."""
        return (
            bool(self.shared)
            and status[:3] in SHAREABLE_STATUSES
            and "set-cookie" not in present
            and "cache-control" not in present
        )


def init_app(app: Flask) -> None:
    """Add the headers to every response, and redirect http to https when asked to."""
    stripe_origins = {origin_of(app.config["STRIPE_JS_URL"])}
    if app.config.get("STRIPE_API_BASE"):
        stripe_origins.add(origin_of(app.config["STRIPE_API_BASE"]))
    extra = tuple(sorted(o for o in stripe_origins if not o.endswith(".stripe.com")))
    headers = security_headers(secure=app.config["SESSION_COOKIE_SECURE"], extra_origins=extra)
    # Views never set these themselves, except the opener policy, which the embed's
    # sign-in popup relaxes, the CSP, to which the popup adds its site's logo (and
    # nothing else), and caching, which shareable responses declare.
    opener_policy = ("Cross-Origin-Opener-Policy", headers.pop("Cross-Origin-Opener-Policy"))
    policy = (CSP, headers.pop(CSP))
    app.extensions[CSP] = policy[1]
    shared = []
    if app.config["EDGE_MAX_AGE"] > 0:
        max_age, stale = app.config["EDGE_MAX_AGE"], max(app.config["EDGE_STALE_SECONDS"], 0)
        shared = [("Cache-Control", shared_cache_control(max_age, stale))]
    app.wsgi_app = ResponseHeaders(  # type: ignore[method-assign]
        app.wsgi_app,
        list(headers.items()),
        [opener_policy, policy, ("Cache-Control", PRIVATE)],
        shared,
    )

    if app.config["FORCE_HTTPS"]:

        @app.before_request
        def redirect_to_https() -> BaseResponse | None:
            if request.scheme != "https":
                return redirect(request.url.replace("http://", "https://", 1), code=301)
            return None

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, request
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


class ResponseHeaders:
    """WSGI middleware: ``always`` on every response, ``defaults`` where the app did not
    set a header of that name itself."""

    def __init__(
        self,
        app: WSGIApp,
        always: list[tuple[str, str]],
        defaults: list[tuple[str, str]],
    ) -> None:
        self.app = app
        self.always = always
        self.defaults = [(name.lower(), (name, value)) for name, value in defaults]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(self.always)
            headers.extend(header for name, header in self.defaults if name not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


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
    app.wsgi_app = ResponseHeaders(  # type: ignore[method-assign]
        app.wsgi_app, list(headers.items()), [opener_policy, policy, ("Cache-Control", PRIVATE)]
    )

    if app.config["FORCE_HTTPS"]:

        @app.before_request
        def redirect_to_https() -> BaseResponse | None:
            if request.scheme != "https":
                return redirect(request.url.replace("http://", "https://", 1), code=301)
            return None

"""Security headers on every response.

The values never change while the app runs, so they are built once in ``init_app`` and
copied onto each response: this sits on the reading path, which is measured.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request
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


def security_headers(secure: bool) -> dict[str, str]:
    """The headers every response carries; HSTS only when the site is served over https."""
    headers = {
        "Content-Security-Policy": "; ".join(
            f"{k} {v}" for k, v in CONTENT_SECURITY_POLICY.items()
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def init_app(app: Flask) -> None:
    """Add the headers to every response, and redirect http to https when asked to."""
    headers = list(security_headers(secure=app.config["SESSION_COOKIE_SECURE"]).items())

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.extend(headers)  # views never set these themselves
        return response

    if app.config["FORCE_HTTPS"]:

        @app.before_request
        def redirect_to_https() -> BaseResponse | None:
            if request.scheme != "https":
                return redirect(request.url.replace("http://", "https://", 1), code=301)
            return None

"""Cross-origin access to the reader API: only a site's registered origins, no cookies.

A per-site allow-list, so a few lines here rather than a CORS extension configured with
one global list. Credentials are never allowed: the API reads Bearer tokens, not cookies.
"""

from __future__ import annotations

from flask import Response, request

from paywall.embed.errors import origin_not_allowed
from paywall.embed.sites import SiteRecord

ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "WWW-Authenticate"
MAX_AGE = "600"


def request_origin() -> str | None:
    """The page origin a browser names in the request (None from a server)."""
    return request.headers.get("Origin")


def check_origin(site: SiteRecord) -> str:
    """The calling origin if the site allows it (no Origin: a server, not a browser)."""
    origin = request_origin()
    if origin is None:
        return site.first_origin
    if not site.allows(origin):
        raise origin_not_allowed()
    return origin


def allow(response: Response, origin: str, methods: str) -> Response:
    """Let ``origin`` read ``response`` (and, for a preflight, make the call).

    API responses carry no CORS or Vary headers of their own, so these are appended as
    one list (this sits on the decision API's measured path).
    """
    response.headers.extend(
        (
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", methods),
            ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
            ("Access-Control-Max-Age", MAX_AGE),
            ("Vary", "Origin"),
        )
    )
    return response


def allow_anyone(response: Response) -> Response:
    """Public documents (the JWKS, the OpenAPI document) may be read from anywhere."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

"""The reader API that ``embed.js`` calls from a publisher's page (publishable site key).

Every route is under ``/api/v1/sites/<site_key>/``: the site is known first, so CORS is
granted to its registered origins only, on answers and errors alike (the script must be
able to read ``invalid_token``). The reader is whoever the Bearer token speaks for;
cookies are never read.
"""

from __future__ import annotations

import json

from flask import Response, g, jsonify, request
from werkzeug.wrappers import Response as BaseResponse

from paywall.embed import api_bp
from paywall.embed.api import bearer, entitlements_body
from paywall.embed.cors import allow, check_origin, request_origin
from paywall.embed.decisions import decision_json
from paywall.embed.errors import ApiError, invalid_token, unknown_site
from paywall.embed.keys import READER_TOKEN_PREFIX
from paywall.embed.operations import READER_TOKEN, READER_TOKEN_OR_NONE, operation
from paywall.embed.schemas import Decision, Entitlement, FreshQuery, SiteArticlePath, SitePath
from paywall.embed.sites import SiteRecord, active_site
from paywall.embed.tokens import (
    TokenReader,
    not_a_reader_token,
    reader_for_token,
    revoke_token,
)

SITE_PREFIX = "/api/v1/sites/"
METHODS = "GET, DELETE, OPTIONS"
CORS_ORIGIN = "embed_cors_origin"
SITE = "embed_site"
ORIGIN_NOT_ALLOWED = "origin_not_allowed"
SITE_ERRORS = {403: ORIGIN_NOT_ALLOWED, 404: "unknown_site"}


def request_site() -> SiteRecord:
    """The site named in the path, if it is active and the calling origin is its own."""
    site = active_site((request.view_args or {}).get("site_key", ""))
    if site is None:
        raise unknown_site()
    origin = check_origin(site)
    if request_origin() is not None:
        g.setdefault(CORS_ORIGIN, origin)
    return site


def request_reader(site: SiteRecord, required: bool = False) -> TokenReader | None:
    """The reader the Bearer token speaks for (None without a token, unless ``required``)."""
    token = bearer()
    if token is None:
        if required:
            raise invalid_token()
        return None
    return reader_for_token(token, site.id)


@api_bp.before_request
def site_first() -> BaseResponse | None:
    """Know the site before anything else, so every answer can carry its CORS headers.

    Preflights are answered here for the site's origins (their errors are plain JSON,
    which a browser does not let the page read). An origin the site does not allow may
    read the ``origin_not_allowed`` refusal, and nothing else.
    """
    if not request.path.startswith(SITE_PREFIX):
        return None
    try:
        g.setdefault(SITE, request_site())
    except ApiError as error:
        if error.code == ORIGIN_NOT_ALLOWED:
            # Let the page read why: a refusal the browser hides looks like a dead script.
            # The preflight passes so the call itself can answer ``origin_not_allowed``.
            g.setdefault(CORS_ORIGIN, request_origin())
            if request.method == "OPTIONS":
                return Response(status=204)
        elif request.method == "OPTIONS":
            return error.response()
        raise
    return Response(status=204) if request.method == "OPTIONS" else None


@api_bp.after_request
def cors(response: Response) -> Response:
    """Let the site's own origin read the answer, errors included (``invalid_token``)."""
    origin = g.get(CORS_ORIGIN)
    return allow(response, origin, METHODS) if origin else response


@api_bp.get("/api/v1/sites/<site_key>/decisions/<external_id>")
@operation(
    path=SiteArticlePath,
    query=FreshQuery,
    responses={200: (Decision, "The decision")},
    errors={**SITE_ERRORS, 401: "invalid_token", 404: "unknown_site, unknown_article"},
    security=READER_TOKEN_OR_NONE,
)
def decision(site_key: str, external_id: str, query: FreshQuery) -> Response:
    """The decision for the token's reader (or an anonymous one): what embed.js asks."""
    site: SiteRecord = g.get(SITE)
    reader = request_reader(site)
    origin = g.get(CORS_ORIGIN) or site.first_origin
    decision = decision_json(site, external_id, reader, origin)
    body = json.dumps(decision, separators=(",", ":"))
    return Response(body, mimetype="application/json")


@api_bp.delete("/api/v1/sites/<site_key>/token")
@operation(
    path=SitePath,
    responses={204: (None, "Revoked")},
    errors={**SITE_ERRORS, 401: "invalid_token"},
    security=READER_TOKEN,
)
def sign_out(site_key: str) -> tuple[str, int]:
    """Revoke the reader token (sign out of the site)."""
    site: SiteRecord = g.get(SITE)
    token = bearer()
    if token is not None and not token.startswith(READER_TOKEN_PREFIX):
        raise not_a_reader_token(token)
    if token is None or not revoke_token(token, site.id):
        raise invalid_token()
    return "", 204


@api_bp.get("/api/v1/sites/<site_key>/entitlements")
@operation(
    path=SitePath,
    responses={200: (Entitlement, "A JWT")},
    errors={**SITE_ERRORS, 401: "invalid_token", 503: "signing_key_unreadable"},
    security=READER_TOKEN,
)
def entitlements(site_key: str) -> Response:
    """A signed entitlement token for the token's reader, for the site's own servers."""
    site: SiteRecord = g.get(SITE)
    return jsonify(entitlements_body(site, request_reader(site, required=True)))

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
from paywall.embed.api import bearer, entitlements_body, fresh_after
from paywall.embed.articles import check_external_id
from paywall.embed.cors import allow, check_origin, request_origin
from paywall.embed.decisions import decision_json
from paywall.embed.errors import ApiError, invalid_token, unknown_site
from paywall.embed.sites import SiteRecord, active_site
from paywall.embed.tokens import TokenReader, reader_for_token, revoke_token

SITE_PREFIX = "/api/v1/sites/"
METHODS = "GET, DELETE, OPTIONS"
CORS_ORIGIN = "embed_cors_origin"


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
def preflight() -> BaseResponse | None:
    """Answer CORS preflights for the site's origins (errors are plain JSON, unreadable)."""
    if request.method != "OPTIONS" or not request.path.startswith(SITE_PREFIX):
        return None
    try:
        request_site()
    except ApiError as error:
        return error.response()
    return Response(status=204)


@api_bp.after_request
def cors(response: Response) -> Response:
    """Let the site's own origin read the answer, errors included (``invalid_token``)."""
    origin = g.get(CORS_ORIGIN)
    return allow(response, origin, METHODS) if origin else response


@api_bp.get("/api/v1/sites/<site_key>/decisions/<external_id>")
def decision(site_key: str, external_id: str) -> Response:
    """The decision for the token's reader (or an anonymous one) on one of the site's articles."""
    site = request_site()
    check_external_id(external_id)
    reader = request_reader(site)
    origin = g.get(CORS_ORIGIN) or site.first_origin
    decision = decision_json(site, external_id, reader, origin, fresh_after())
    body = json.dumps(decision, separators=(",", ":"))
    return Response(body, mimetype="application/json")


@api_bp.delete("/api/v1/sites/<site_key>/token")
def sign_out(site_key: str) -> tuple[str, int]:
    """Revoke the Bearer token (the reader signs out of this site)."""
    site = request_site()
    token = bearer()
    if token is None or not revoke_token(token, site.id):
        raise invalid_token()
    return "", 204


@api_bp.get("/api/v1/sites/<site_key>/entitlements")
def entitlements(site_key: str) -> Response:
    """A signed entitlement token for the token's reader, for the site's own servers."""
    site = request_site()
    return jsonify(entitlements_body(site, request_reader(site, required=True)))

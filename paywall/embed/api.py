"""The JSON API for a site's servers (secret key): content, decisions, entitlements.

Also the blueprint's shared plumbing: error bodies, public documents (JWKS, OpenAPI).
"""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.blueprints import BlueprintSetupState

from paywall.embed import api_bp, settings
from paywall.embed.articles import article_json as _article_json
from paywall.embed.articles import (
    check_external_id,
    delete_article,
    find_site_article,
    list_articles,
    parse_article_input,
    put_article,
)
from paywall.embed.cors import allow_anyone
from paywall.embed.decisions import decision_json, iso
from paywall.embed.entitlements import entitlement_token
from paywall.embed.errors import ApiError, invalid_key, invalid_request, unknown_article
from paywall.embed.openapi import openapi_document
from paywall.embed.signing import SigningKeyUnreadable, published_keys
from paywall.embed.sites import SiteRecord, site_for_secret_key
from paywall.embed.tokens import TokenReader, reader_for_token
from paywall.extensions import csrf

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_CURSOR = 999_999_999  # row ids are 32-bit integers on PostgreSQL
READER_TOKEN_HEADER = "X-Reader-Token"  # noqa: S105  (a header name)


@api_bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """The API reads keys and Bearer tokens, never cookies: no CSRF token to ask for."""
    csrf.exempt(api_bp)
    settings.init_app(state.app)


@api_bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    """An API error as its JSON body and status."""
    return error.response()


def bearer() -> str | None:
    """The Bearer credential of the request, if any."""
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def secret_key_site() -> SiteRecord:
    """The site whose live secret key authorises this call."""
    key = bearer()
    site = site_for_secret_key(key) if key else None
    if site is None:
        raise invalid_key()
    return site


def json_body() -> object:
    """The request's JSON (2 MB at most), else ``invalid_request``."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "Send at most 2 MB.")
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise invalid_request("Send a JSON object with Content-Type: application/json.")
    return body


def fresh_after() -> float:
    """The ``fresh`` argument: reuse no billing snapshot older than this (unix time)."""
    raw = request.args.get("fresh")
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e11:
        raise invalid_request("fresh must be a unix time in seconds.", "fresh")
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_request(f"{name} must be a whole number from {low} to {high}.", name)
    return int(raw)


# --- content --------------------------------------------------------------------------


@api_bp.get("/api/v1/articles")
def articles() -> Response:
    """The site's articles, oldest first, a page at a time."""
    site = secret_key_site()
    limit = _int_arg("limit", 50, 1, 100)
    cursor = _int_arg("cursor", 0, 0, MAX_CURSOR)
    items, next_cursor = list_articles(site, limit, cursor)
    return jsonify(
        articles=items, next_cursor=str(next_cursor) if next_cursor is not None else None
    )


@api_bp.get("/api/v1/articles/<external_id>")
def article(external_id: str) -> Response:
    """One of the site's articles, body included."""
    site = secret_key_site()
    found = find_site_article(site, check_external_id(external_id))
    if found is None:
        raise unknown_article()
    return jsonify(_article_json(*found))


@api_bp.put("/api/v1/articles/<external_id>")
def put(external_id: str) -> tuple[Response, int]:
    """Create or update the site's article ``external_id``."""
    site = secret_key_site()
    check_external_id(external_id)
    saved, created = put_article(site, external_id, parse_article_input(json_body()))
    return jsonify(saved), 201 if created else 200


@api_bp.delete("/api/v1/articles/<external_id>")
def delete(external_id: str) -> tuple[str, int]:
    """Remove the site's article."""
    site = secret_key_site()
    delete_article(site, check_external_id(external_id))
    return "", 204


# --- decisions and entitlements for a site's servers ----------------------------------


def _server_reader(site: SiteRecord) -> TokenReader | None:
    token = request.headers.get(READER_TOKEN_HEADER, "").strip()
    return reader_for_token(token, site.id) if token else None


@api_bp.get("/api/v1/decisions/<external_id>")
def server_decision(external_id: str) -> Response:
    """The decision for the reader of ``X-Reader-Token`` (or nobody), asked by a server."""
    site = secret_key_site()
    check_external_id(external_id)
    reader = _server_reader(site)
    return jsonify(decision_json(site, external_id, reader, site.first_origin, fresh_after()))


@api_bp.get("/api/v1/entitlements")
def server_entitlements() -> Response:
    """A signed entitlement token for the reader of ``X-Reader-Token``, asked by a server."""
    site = secret_key_site()
    token = _server_reader(site)
    return jsonify(entitlements_body(site, token))


def entitlements_body(site: SiteRecord, token: TokenReader | None) -> dict[str, object]:
    """A fresh entitlement token for the token's reader (or nobody) and its expiry."""
    try:
        jwt_token, expires_at = entitlement_token(site, token.reader if token else None)
    except SigningKeyUnreadable as error:
        raise ApiError(503, "signing_key_unreadable", str(error)) from error
    return {"token": jwt_token, "expires_at": iso(expires_at)}


# --- public documents ------------------------------------------------------------------


@api_bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that verify entitlement tokens."""
    response = allow_anyone(jsonify(published_keys()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@api_bp.get("/api/openapi.json")
def openapi() -> Response:
    """This API described as an OpenAPI 3.1 document."""
    document = openapi_document(request.host_url.rstrip("/"))
    return allow_anyone(jsonify(document))

"""The JSON API for a site's servers (secret key): content, decisions, entitlements.

Also the blueprint's shared plumbing: error bodies, public documents (JWKS, OpenAPI).
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from paywall.embed import api_bp
from paywall.embed.articles import (
    article_json,
    delete_article,
    find_site_article,
    list_articles,
    put_article,
)
from paywall.embed.cors import allow_anyone
from paywall.embed.decisions import decision_json, iso
from paywall.embed.entitlements import entitlement_token
from paywall.embed.errors import ApiError, invalid_key, unknown_article
from paywall.embed.openapi import openapi_document
from paywall.embed.operations import SECRET_KEY, operation
from paywall.embed.schemas import (
    JWKS,
    Article,
    ArticleInput,
    ArticleList,
    ArticleListQuery,
    ArticlePath,
    Decision,
    Entitlement,
    FreshQuery,
    ReaderTokenHeader,
)
from paywall.embed.signing import SigningKeyUnreadable, published_keys
from paywall.embed.sites import SiteRecord, site_for_secret_key
from paywall.embed.tokens import TokenReader, reader_for_token


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


# --- content --------------------------------------------------------------------------


@api_bp.get("/api/v1/articles")
@operation(
    query=ArticleListQuery,
    responses={200: (ArticleList, "A page of articles")},
    errors={401: "invalid_key"},
    security=SECRET_KEY,
)
def articles(query: ArticleListQuery) -> Response:
    """List the site's articles, newest first, a page at a time."""
    site = secret_key_site()
    items, next_cursor = list_articles(site, query.limit, query.cursor or None)
    return jsonify(articles=items, next_cursor=next_cursor)


@api_bp.get("/api/v1/articles/<external_id>")
@operation(
    path=ArticlePath,
    responses={200: (Article, "The article")},
    errors={401: "invalid_key", 404: "unknown_article"},
    security=SECRET_KEY,
)
def article(external_id: str) -> Response:
    """One of the site's articles, body included."""
    site = secret_key_site()
    found = find_site_article(site, external_id)
    if found is None:
        raise unknown_article()
    return jsonify(article_json(*found))


@api_bp.put("/api/v1/articles/<external_id>")
@operation(
    path=ArticlePath,
    body=ArticleInput,
    responses={200: (Article, "Updated"), 201: (Article, "Created")},
    errors={401: "invalid_key", 422: "invalid_article"},
    security=SECRET_KEY,
)
def put(external_id: str, body: ArticleInput) -> tuple[Response, int]:
    """Create or update an article (sanitised and split like an editor's)."""
    site = secret_key_site()
    saved, created = put_article(site, external_id, body)
    return jsonify(saved), 201 if created else 200


@api_bp.delete("/api/v1/articles/<external_id>")
@operation(
    path=ArticlePath,
    responses={204: (None, "Removed")},
    errors={401: "invalid_key", 404: "unknown_article"},
    security=SECRET_KEY,
)
def delete(external_id: str) -> tuple[str, int]:
    """Remove an article."""
    site = secret_key_site()
    delete_article(site, external_id)
    return "", 204


# --- decisions and entitlements for a site's servers ----------------------------------


def _server_reader(site: SiteRecord, headers: ReaderTokenHeader) -> TokenReader | None:
    token = headers.reader_token.strip()
    return reader_for_token(token, site.id) if token else None


@api_bp.get("/api/v1/decisions/<external_id>")
@operation(
    path=ArticlePath,
    query=FreshQuery,
    headers=ReaderTokenHeader,
    responses={200: (Decision, "The decision")},
    errors={401: "invalid_key, invalid_token", 404: "unknown_article"},
    security=SECRET_KEY,
)
def server_decision(external_id: str, query: FreshQuery, headers: ReaderTokenHeader) -> Response:
    """The decision for a reader, asked by the site's server.

    The reader is the one of `X-Reader-Token` (none: an anonymous reader; a token that
    is not live: `invalid_token`).
    """
    site = secret_key_site()
    reader = _server_reader(site, headers)
    return jsonify(decision_json(site, external_id, reader, site.first_origin))


@api_bp.get("/api/v1/entitlements")
@operation(
    headers=ReaderTokenHeader,
    responses={200: (Entitlement, "A JWT")},
    errors={401: "invalid_key, invalid_token", 503: "signing_key_unreadable"},
    security=SECRET_KEY,
)
def server_entitlements(headers: ReaderTokenHeader) -> Response:
    """A signed entitlement token for a reader, asked by the site's server."""
    site = secret_key_site()
    return jsonify(entitlements_body(site, _server_reader(site, headers)))


def entitlements_body(site: SiteRecord, token: TokenReader | None) -> dict[str, object]:
    """A fresh entitlement token for the token's reader (or nobody) and its expiry."""
    try:
        jwt_token, expires_at = entitlement_token(site, token.reader if token else None)
    except SigningKeyUnreadable as error:
        raise ApiError(503, "signing_key_unreadable", str(error)) from error
    return {"token": jwt_token, "expires_at": iso(expires_at)}


# --- public documents ------------------------------------------------------------------


@api_bp.get("/.well-known/jwks.json")
@operation(responses={200: (JWKS, "The JSON Web Key Set")})
def jwks() -> Response:
    """Public keys that verify entitlement tokens."""
    response = allow_anyone(jsonify(published_keys()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@api_bp.get("/api/openapi.json")
def openapi() -> Response:
    """This API described as an OpenAPI 3.1 document."""
    document = openapi_document(current_app, request.host_url.rstrip("/"))
    return allow_anyone(jsonify(document))

"""The JSON API described as an OpenAPI 3 document, served at ``/api/openapi.json``.

Written as data beside the routes; tests keep the two in step (every API route is
described, every described path answers) and fuzz the live app against it.
"""

from __future__ import annotations

from typing import Any

from paywall.access import Action, Reason
from paywall.embed.articles import ACCESS_LEVELS, CANONICAL_URL, EXTERNAL_ID, MAX_TIERS, TIER

ERROR_CODES = (
    "invalid_request, invalid_key, invalid_token, unknown_site, unknown_article, "
    "origin_not_allowed, invalid_article, payload_too_large, not_found, method_not_allowed"
)

# Text with something besides (Python's and ECMAScript's) white space, and any text:
# never NUL, which no database keeps.
SOME_TEXT = "^[^\\x00]*[^\\s\\x00\\x1c-\\x1f\\x85][^\\x00]*$"
ANY_TEXT = "^[^\\x00]*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}


EXTERNAL_ID_PARAM = {
    "name": "external_id",
    "in": "path",
    "required": True,
    "description": "The site's own id for the article.",
    "schema": {"type": "string", "pattern": f"^{EXTERNAL_ID.pattern}$"},
}
SITE_KEY_PARAM = {
    "name": "site_key",
    "in": "path",
    "required": True,
    "description": "The site's publishable key (from its script tag).",
    "schema": {"type": "string"},
}
FRESH_PARAM = {
    "name": "fresh",
    "in": "query",
    "required": False,
    "description": "Unix time: decide on no billing state read before it (after a change).",
    "schema": {"type": "number", "minimum": 0, "maximum": 99_999_999_999},
}
READER_TOKEN_HEADER = {
    "name": "X-Reader-Token",
    "in": "header",
    "required": False,
    "description": "A reader token the reader's browser holds for this site.",
    "schema": {"type": "string"},
}
SECRET = [{"secretKey": []}]
READER = [{"readerToken": []}, {}]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": f"One of: {ERROR_CODES}."},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            }
        },
    },
    "ArticleInput": {
        "allOf": [
            {
                "type": "object",
                "required": ["title", "body_html"],
                "properties": {
                    "title": {"type": "string", "maxLength": 300, "pattern": SOME_TEXT},
                    "body_html": {
                        "type": "string",
                        "maxLength": 1_000_000,
                        "pattern": SOME_TEXT,
                        "description": "HTML; the teaser ends at <!-- more --> or after "
                        "teaser_paragraphs paragraphs.",
                    },
                    "teaser_paragraphs": {"type": "integer", "minimum": 0, "maximum": 50},
                    "canonical_url": {"type": "string", "pattern": f"^{CANONICAL_URL.pattern}$"},
                    "author": {"type": "string", "maxLength": 200, "pattern": ANY_TEXT},
                    "dek": {"type": "string", "maxLength": 500, "pattern": ANY_TEXT},
                    "published_at": {"type": "string", "format": "date-time"},
                },
            },
            {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "access": {
                                "type": "string",
                                "enum": ["free", "registered", "paid"],
                                "default": "paid",
                            },
                            "tiers": {"type": "array", "maxItems": 0},
                        },
                    },
                    {
                        "type": "object",
                        "required": ["access", "tiers"],
                        "properties": {
                            "access": {"type": "string", "enum": ["tiers"]},
                            "tiers": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_TIERS,
                                "items": {"type": "string", "pattern": f"^{TIER.pattern}$"},
                            },
                        },
                    },
                ]
            },
        ]
    },
    "Article": {
        "type": "object",
        "required": ["id", "title", "access", "teaser_html", "full_html"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "author": {"type": "string"},
            "dek": {"type": "string"},
            "access": {"type": "string", "enum": list(ACCESS_LEVELS)},
            "tiers": {"type": "array", "items": {"type": "string"}},
            "canonical_url": {"type": "string"},
            "teaser_paragraphs": {"type": "integer", "nullable": True},
            "teaser_html": {"type": "string"},
            "full_html": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time", "nullable": True},
            "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "ArticleList": {
        "type": "object",
        "required": ["articles", "next_cursor"],
        "properties": {
            "articles": {"type": "array", "items": _ref("Article")},
            "next_cursor": {"type": "string", "nullable": True},
        },
    },
    "Decision": {
        "type": "object",
        "required": ["article", "access", "reason", "actions", "notices", "html", "reader"],
        "properties": {
            "article": {"type": "string"},
            "access": {"type": "string", "enum": ["full", "teaser"]},
            "reason": {"type": "string", "enum": [r.value for r in Reason]},
            "title": {"type": "string"},
            "message": {"type": "string"},
            "actions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["action", "label", "url"],
                    "properties": {
                        "action": {"type": "string", "enum": [a.value for a in Action]},
                        "label": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                    },
                },
            },
            "notices": {"type": "array", "items": {"type": "string"}},
            "html": {
                "type": "string",
                "description": "The full text when access is full, else the teaser only.",
            },
            "reader": {
                "type": "object",
                "nullable": True,
                "required": ["email", "token_expires_at"],
                "properties": {
                    "email": {"type": "string"},
                    "token_expires_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "Entitlement": {
        "type": "object",
        "required": ["token", "expires_at"],
        "properties": {
            "token": {"type": "string", "description": "A JWT (EdDSA) to verify with the JWKS."},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "JWKS": {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
    },
}


def _operation(
    summary: str, responses: dict[str, Any], security: list[Any] | None = None, **more: Any
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **more}
    operation["security"] = security if security is not None else []
    return operation


PATHS: dict[str, Any] = {
    "/api/v1/articles": {
        "get": _operation(
            "List the site's articles, oldest first",
            {"200": _json(_ref("ArticleList"), "A page of articles"), **_errors(400, 401)},
            SECRET,
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"},
                },
            ],
        )
    },
    "/api/v1/articles/{external_id}": {
        "parameters": [EXTERNAL_ID_PARAM],
        "get": _operation(
            "One of the site's articles",
            {"200": _json(_ref("Article"), "The article"), **_errors(400, 401, 404)},
            SECRET,
        ),
        "put": _operation(
            "Create or update an article (sanitised and split like an editor's)",
            {
                "200": _json(_ref("Article"), "Updated"),
                "201": _json(_ref("Article"), "Created"),
                **_errors(400, 401, 404, 413, 422),
            },
            SECRET,
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("ArticleInput")}},
            },
        ),
        "delete": _operation(
            "Remove an article",
            {"204": {"description": "Removed"}, **_errors(400, 401, 404)},
            SECRET,
        ),
    },
    "/api/v1/decisions/{external_id}": {
        "parameters": [EXTERNAL_ID_PARAM, READER_TOKEN_HEADER, FRESH_PARAM],
        "get": _operation(
            "The decision for a reader, asked by the site's server",
            {"200": _json(_ref("Decision"), "The decision"), **_errors(400, 401, 404)},
            SECRET,
        ),
    },
    "/api/v1/entitlements": {
        "parameters": [READER_TOKEN_HEADER],
        "get": _operation(
            "A signed entitlement token for a reader, asked by the site's server",
            {"200": _json(_ref("Entitlement"), "A JWT"), **_errors(401)},
            SECRET,
        ),
    },
    "/api/v1/sites/{site_key}/decisions/{external_id}": {
        "parameters": [SITE_KEY_PARAM, EXTERNAL_ID_PARAM, FRESH_PARAM],
        "get": _operation(
            "The decision for the token's reader (or an anonymous one): what embed.js asks",
            {"200": _json(_ref("Decision"), "The decision"), **_errors(400, 401, 403, 404)},
            READER,
        ),
    },
    "/api/v1/sites/{site_key}/token": {
        "parameters": [SITE_KEY_PARAM],
        "delete": _operation(
            "Revoke the reader token (sign out of the site)",
            {"204": {"description": "Revoked"}, **_errors(401, 403, 404)},
            [{"readerToken": []}],
        ),
    },
    "/api/v1/sites/{site_key}/entitlements": {
        "parameters": [SITE_KEY_PARAM],
        "get": _operation(
            "A signed entitlement token for the token's reader",
            {"200": _json(_ref("Entitlement"), "A JWT"), **_errors(401, 403, 404)},
            [{"readerToken": []}],
        ),
    },
    "/.well-known/jwks.json": {
        "get": _operation(
            "Public keys that verify entitlement tokens",
            {"200": _json(_ref("JWKS"), "The JSON Web Key Set")},
        )
    },
}


def openapi_document(server: str) -> dict[str, Any]:
    """The document, with ``server`` as the base address."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Paywall embed API",
            "version": "1",
            "description": "Content API for publishers' CMSs (secret key), the reader API "
            "embed.js calls (publishable site key, reader token) and entitlement tokens. "
            "Errors are JSON bodies with a stable code.",
        },
        "servers": [{"url": server}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Error": _json(_ref("Error"), "An error with a stable code")},
            "securitySchemes": {
                "secretKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The site's secret API key (pw_sk_...): servers only.",
                },
                "readerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A reader token (pw_rt_...) from the sign-in popup.",
                },
            },
        },
    }

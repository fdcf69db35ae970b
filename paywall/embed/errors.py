"""API errors as values: an HTTP status, a stable code and a message for people."""

from __future__ import annotations

from flask import Response, jsonify

from paywall.embed.schemas import Error, ErrorDetail


class ApiError(Exception):
    """An API call that cannot be answered; rendered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def response(self) -> Response:
        """The error as a JSON response (401s also name the Bearer scheme)."""
        detail = ErrorDetail(code=self.code, message=self.message, field=self.field or None)
        response = jsonify(Error(error=detail).model_dump(exclude_none=True))
        response.status_code = self.status
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="paywall"'
        return response


def invalid_token() -> ApiError:
    return ApiError(401, "invalid_token", "The reader token is missing, expired or revoked.")


def invalid_key() -> ApiError:
    return ApiError(401, "invalid_key", "Send a live secret API key as a Bearer token.")


def unknown_site() -> ApiError:
    return ApiError(404, "unknown_site", "No active site has this key.")


def unknown_article() -> ApiError:
    return ApiError(404, "unknown_article", "This site has no article with that id.")


def origin_not_allowed() -> ApiError:
    return ApiError(403, "origin_not_allowed", "This origin is not registered for the site.")


def invalid_request(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, field)

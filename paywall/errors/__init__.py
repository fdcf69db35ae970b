"""Error pages and JSON error bodies, chosen by what the client accepts."""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy.exc
from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from paywall.extensions import db

log = logging.getLogger(__name__)

# Stable machine-readable codes for the JSON bodies.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
RETRY_AFTER_SECONDS = 10
DATABASE_UNAVAILABLE = "We can't reach our database just now. Please try again in a moment."
# SQLite's words for "someone else holds the lock" and "the file is not there for us".
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON; browsers get a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, message: str, code: str | None = None
) -> tuple[Response | str, int]:
    """One error, as JSON ``{"error": {"code", "message"}}`` or as the error page."""
    code = code or ERROR_CODES.get(status, "error")
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    try:
        page = render_template("errors/error.html", status=status, message=message, code=code)
    except Exception:  # the error page itself failed: answer plainly rather than not at all
        log.exception("error page failed to render")
        return Response(f"{status}: {message}", status=status, mimetype="text/plain"), status
    return page, status


def database_unavailable(error: Exception) -> bool:
    """The database is locked, down, out of reach or too slow (not a bug in a query).

    A pool that stays empty, a connection that could not be made or was lost, and on
    PostgreSQL the error classes of connections (08), resources (53), a lock not got
    in time (55P03) and cancelled statements or shutdowns (57).
    """
    if isinstance(error, sqlalchemy.exc.TimeoutError):
        return True
    if not isinstance(error, sqlalchemy.exc.OperationalError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate[:2] in {"08", "53", "57"} or sqlstate == "55P03"
    message = str(error.orig).lower()
    return "connection" in message or any(words in message for words in SQLITE_UNAVAILABLE)


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.TimeoutError)
    def database_error(error: Exception) -> Response | tuple[Response | str, int]:
        if not database_unavailable(error):
            return unexpected_error(error)
        log.error("database unavailable on %s %s: %s", request.method, request.path, error)
        with contextlib.suppress(Exception):
            db.session.rollback()
        response = make_response(error_response(503, DATABASE_UNAVAILABLE, "database_unavailable"))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        return error_response(
            400, "This form has expired. Go back, reload the page and try again.", "csrf_failed"
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if error.code is None or error.code < 400:
            return error
        response = make_response(error_response(error.code, error.description or error.name))
        # Keep what the exception says about retrying: Retry-After (429), Allow (405).
        response.headers.extend(
            (name, value) for name, value in error.get_headers() if name.lower() != "content-type"
        )
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        if isinstance(error, HTTPException):
            return http_error(error)  # type: ignore[return-value]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, InternalServerError.description)

"""Rate limits on the form posts that guess at accounts or send email.

Built on ``limits`` (the library under Flask-Limiter): in memory by default, in Redis
when ``REDIS_URL`` is set, so every worker and host shares the counts. Only decorated
views pay for it; the reading path carries no limiter hooks at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many, storage, strategies
from werkzeug.exceptions import TooManyRequests

F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "paywall.ratelimit"


def init_app(app: Flask) -> None:
    """Connect the configured storage (``RATELIMIT_STORAGE_URI``) to ``app``."""
    backend = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = strategies.MovingWindowRateLimiter(backend)


def _limits(setting: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[setting])


def client_address() -> str:
    """The client's address (behind proxies, PAYWALL_PROXY_HOPS makes this the real one)."""
    return request.remote_addr or "unknown"


def enforce_rate_limit(setting: str, endpoint: str) -> None:
    """Count one request to ``endpoint`` from this client; 429 past ``app.config[setting]``."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    limiter: strategies.RateLimiter = current_app.extensions[EXTENSION]
    key = (endpoint, client_address())
    for item in _limits(setting):
        if not limiter.hit(item, *key):
            reset = limiter.get_window_stats(item, *key).reset_time
            raise TooManyRequests(
                "Too many attempts. Please wait a minute and try again.",
                retry_after=max(int(reset - time.time()), 1),
            )


def rate_limited(setting: str) -> Callable[[F], F]:
    """Limit POSTs to the view per client address, with the rule in ``app.config[setting]``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                enforce_rate_limit(setting, request.endpoint or view.__name__)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator

"""The embed's settings: environment variables with defaults, kept beside the feature.

``create_app`` settings (tests, ``config``) win; these only fill what is not set.
"""

from __future__ import annotations

from flask import Flask

from config import env_int, env_str

ENVIRONMENT = {
    # Minutes a reader token lives after its last use (it slides on use) ...
    "EMBED_TOKEN_MINUTES": ("PAYWALL_EMBED_TOKEN_MINUTES", 30),
    # ... and hours after which it ends however often it is used.
    "EMBED_TOKEN_MAX_HOURS": ("PAYWALL_EMBED_TOKEN_MAX_HOURS", 12),
    # Minutes an entitlement token (JWT) is valid.
    "ENTITLEMENT_TOKEN_MINUTES": ("PAYWALL_ENTITLEMENT_TOKEN_MINUTES", 5),
}


def init_app(app: Flask) -> None:
    """Fill in the embed settings ``app`` was not given."""
    for name, (variable, default) in ENVIRONMENT.items():
        app.config.setdefault(name, env_int(variable, default))
    # Encrypts stored signing keys; unset: derived from SECRET_KEY (see entitlements).
    app.config.setdefault("SIGNING_KEYS_SECRET", env_str("PAYWALL_SIGNING_KEYS_SECRET"))

"""The publisher embed: sites and keys, the content API, the reader API with its popup
sign-in, entitlement tokens, ``embed.js`` and the OpenAPI document.

Two blueprints: ``embed`` for pages (staff forms and the popup, CSRF-protected like every
form) and ``embed_api`` for the JSON API, which is exempt from CSRF because it reads
keys and Bearer tokens only, never cookies.
"""

from flask import Blueprint

bp = Blueprint("embed", __name__, cli_group=None)
api_bp = Blueprint("embed_api", __name__)

from paywall.embed import admin, api, commands, popup, reader_api  # noqa: E402,F401

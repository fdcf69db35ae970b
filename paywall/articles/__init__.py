"""Articles: home page, article pages with the gate, the editor's form, import."""

from flask import Blueprint

bp = Blueprint("articles", __name__, cli_group=None)

from paywall.articles import routes  # noqa: E402,F401

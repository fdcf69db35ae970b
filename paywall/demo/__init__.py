"""The embedded demo: ``paywall demo`` migrates, seeds and serves."""

from flask import Blueprint

bp = Blueprint("demo", __name__, cli_group=None)

from paywall.demo import commands  # noqa: E402,F401

"""Gift subscriptions: buy months of a plan for someone, and redeem them by link."""

from flask import Blueprint

bp = Blueprint("gifts", __name__, cli_group=None)

from paywall.gifts import admin, routes  # noqa: E402,F401

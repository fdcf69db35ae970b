"""Subscriptions in the web layer: subscribe, card on file, account billing, webhooks."""

from flask import Blueprint

bp = Blueprint("billing", __name__, cli_group=None)

from paywall.billing import account, admin, checkout, commands, stripe_endpoint  # noqa: E402,F401

"""Reader accounts: sign up, verify email, sign in (password or emailed link), reset."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, cli_group=None)

from paywall.accounts import admin, data_rights_routes, routes  # noqa: E402,F401

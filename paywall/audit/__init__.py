"""The audit log: who changed money, access or keys, what, when, before and after."""

from flask import Blueprint

bp = Blueprint("audit", __name__, cli_group=None)

from paywall.audit import routes  # noqa: E402,F401

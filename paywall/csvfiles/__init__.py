"""CSV files of readers and subscribers: streamed exports, and the import of readers and
existing Stripe customers (staff pages and ``paywall export-readers`` / ``import-readers``)."""

from flask import Blueprint

bp = Blueprint("csvfiles", __name__, cli_group=None)

from paywall.csvfiles import commands, routes  # noqa: E402,F401

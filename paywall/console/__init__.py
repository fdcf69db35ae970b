"""The publisher's console: staff navigation, the overview, the dashboard with its
charts, the staff's articles list and the preview of an article as each reader sees it.

Gate views are counted here too (``gate_views``), off the reading path's database.
"""

from flask import Blueprint

bp = Blueprint("console", __name__, cli_group=None)

from paywall.console import routes  # noqa: E402,F401

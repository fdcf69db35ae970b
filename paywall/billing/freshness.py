"""When the signed-in reader last changed their own billing, kept in their session.

Workers keep billing snapshots for a few seconds; a snapshot taken before this moment
is not used. So after subscribing or updating a card, the next page (served by any
worker) is decided on fresh state, while other readers' pages stay cached.
"""

from __future__ import annotations

import time

from flask import session

SESSION_KEY = "billing_changed_at"


def billing_changed_at() -> float:
    """The moment (unix time) of the reader's last billing change, 0 if none."""
    value = session.get(SESSION_KEY, 0)
    return value if isinstance(value, int | float) else 0


def mark_billing_changed() -> None:
    """The reader just changed their billing: no worker may reuse an older snapshot."""
    session[SESSION_KEY] = time.time()

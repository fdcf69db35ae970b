"""When the signed-in reader last changed their own billing, kept in their session.

Caches no longer need it: every billing change is seen by every worker on its next
request (:mod:`paywall.invalidation`). Only the embed popup still hands the moment to
the host page's script, which sends it back as the decision API's ``fresh`` parameter;
both can go once that API drops the parameter.
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
    """Note in the session that the reader just changed their billing."""
    session[SESSION_KEY] = time.time()

"""The admins' page of the audit log."""

from __future__ import annotations

from flask import abort, render_template, request

from paywall.accounts.decorators import admin_required
from paywall.audit import bp
from paywall.audit.log import ACTIONS, AUDIT_ORDER, events_query
from paywall.pagination import requested_page


@bp.get("/admin/audit")
@admin_required
def audit_log() -> str:
    """Staff actions on money, access and keys, newest first, filtered by actor and action."""
    actor = request.args.get("actor", "").strip()[:254]
    action = request.args.get("action") or None
    if action is not None and action not in ACTIONS:
        abort(400, "There is no such action.")
    page = requested_page(
        events_query(actor=actor, action=action),
        AUDIT_ORDER,
        noun="events",
        shape=(int,),
        item=lambda row: row[0],
        key=lambda event: (event.id,),
    )
    return render_template("audit/log.html", page=page, actor=actor, action=action, actions=ACTIONS)

"""Writing the audit log, and the query its page reads.

:func:`record` adds a row to the session without committing: the use case that makes
the change commits both at once, so the log never shows a change that did not happen
nor misses one that did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, select

from paywall.audit.models import AuditEvent
from paywall.extensions import db

# Every action the log records, as its page words them.
ACTIONS: dict[str, str] = {
    "plan.create": "Plan added",
    "plan.update": "Plan changed",
    "plan.sync": "Plan synced to Stripe",
    "comp.grant": "Complimentary access granted",
    "comp.revoke": "Complimentary access ended",
    "site.create": "Site registered",
    "site.update": "Site settings changed",
    "site.enable": "Site enabled",
    "site.disable": "Site disabled",
    "key.rotate": "Secret key replaced",
    "key.revoke": "Secret keys revoked",
    "site_key.rotate": "Site key replaced",
    "role.change": "Role changed",
    "gift.resend": "Gift link sent again",
}

# The log is listed newest first, sought by id.
AUDIT_ORDER = (AuditEvent.id,)


def record(
    action: str,
    subject: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add a row for ``action`` on ``subject`` by the signed-in staff member (or the command
    line) to the session; the caller's commit writes it with the change."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}")
    actor = current_user if has_request_context() and current_user.is_authenticated else None
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        action=action,
        subject=subject[:200],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values: dates as ISO 8601, decimals as strings, tuples as lists."""
    return {key: _value(value) for key, value in values.items()}


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list | set | frozenset):
        return [_value(item) for item in value]
    return value


def events_query(*, actor: str = "", action: str | None = None) -> Select[tuple[AuditEvent]]:
    """Events by staff whose email contains ``actor``, of ``action`` (a key of
    :data:`ACTIONS`); unordered, for a pager by :data:`AUDIT_ORDER`."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor_email.contains(actor.lower(), autoescape=True))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return query

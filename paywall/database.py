"""Database connections: as few round trips as the reading path needs.

Pinged when idle: SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout,
one more round trip on every request, for a connection a busy worker used a few
milliseconds before. Here a connection is pinged on checkout only when it has been idle
for ``DATABASE_PING_AFTER_SECONDS`` (a restarted server, a dropped connection: the pool
then opens a new one, as with the pre-ping); one the worker has just used is trusted.
A connection lost in the few seconds since its last use still fails that one request
(a 503, "back in a moment"), and the pool replaces every connection it held.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

CHECKED_IN_AT = "paywall.checked_in_at"


def ping_when_idle(engine: Engine, after_seconds: float) -> None:
    """Ping ``engine``'s pooled connections on checkout once idle ``after_seconds``."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get(CHECKED_IN_AT)
        if idle_since is None or time.monotonic() - idle_since < after_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the pooled connection was lost") from error
            raise


def init_app(app: Flask) -> None:
    """Set up ``app``'s engine (Flask-SQLAlchemy's) as the module docstring says."""
    from paywall.extensions import db

    with app.app_context():
        ping_when_idle(db.engine, app.config["DATABASE_PING_AFTER_SECONDS"])

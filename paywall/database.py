"""Database connections for the reading path: as few round trips as the reads need.

Reads of their own: :func:`reads` gives the reading path's plain reads (the session's
reader, the article, the billing snapshot) a connection of their own per request, in
autocommit mode on PostgreSQL. A transaction there costs two round trips a statement
never needs: psycopg sends ``BEGIN`` on its own before the first statement, and the
pool's ``ROLLBACK`` when the session closes. Each read sees every commit made before it
starts (what :mod:`paywall.invalidation` asks), and the request's ORM session, with its
writes and transactions, is left as it was: a request that writes checks out a second
connection. On SQLite (in process, no round trips) the reads share the session's
connection, which also sees what the session wrote.

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

from flask import Flask, g
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

CHECKED_IN_AT = "paywall.checked_in_at"
READS = "paywall_reads"


def reads() -> Connection:
    """This app context's connection for plain reads (see the module docstring)."""
    from paywall.extensions import db

    if db.engine.dialect.name != "postgresql":
        return db.session.connection()
    found: Connection | None = g.get(READS)
    if found is None:
        found = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        setattr(g, READS, found)
    return found


def _close_reads(error: BaseException | None = None) -> None:
    found: Connection | None = g.pop(READS, None)
    if found is not None:
        found.close()


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
    app.teardown_appcontext(_close_reads)

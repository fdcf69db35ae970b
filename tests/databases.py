"""A PostgreSQL database of one's own on a shared server, for a test run or a benchmark.

Runs on the same server never collide: each creates ``paywall_<purpose>_<random>`` next to
the database the URL names (which is only used to connect, and never touched) and drops
it on the way out, connections and all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from config import normalise_database_url


@contextmanager
def scratch_postgres_database(server_url: str, purpose: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on ``server_url``'s server; drop it after."""
    url = sa.make_url(normalise_database_url(server_url))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL URLs are supported, not {url.get_backend_name()}")
    name = f"paywall_{purpose}_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

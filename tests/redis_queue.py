"""A Redis job queue of the test's own (a namespace removed afterwards)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("PAYWALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """(REDIS_URL, a namespace of this test's own), removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs one")
    namespace = "paywall-test-" + secrets.token_hex(4)
    yield REDIS_URL, namespace
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)

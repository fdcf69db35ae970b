"""Password hashing with argon2id; parameters come from the settings."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_DEFAULTS = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2}


def _hasher() -> PasswordHasher:
    if not has_app_context():
        return PasswordHasher(**_DEFAULTS)
    config = current_app.config
    return PasswordHasher(
        time_cost=config.get("ARGON2_TIME_COST", _DEFAULTS["time_cost"]),
        memory_cost=config.get("ARGON2_MEMORY_COST", _DEFAULTS["memory_cost"]),
        parallelism=config.get("ARGON2_PARALLELISM", _DEFAULTS["parallelism"]),
    )


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (False for accounts without one)."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)

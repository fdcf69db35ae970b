"""Passwords: which ones we accept (NIST SP 800-63B), and hashing them with argon2id
(parameters from the settings)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn

_DEFAULTS = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2}

MIN_PASSWORD_LENGTH = 10
# zxcvbn scores 0-4; 3 is about 10^8 guesses or more, beyond an online attacker's reach.
STRONG_ENOUGH_SCORE = 3
# zxcvbn's work grows steeply with length (a random 72-character password takes about a
# second, and it refuses longer ones): the first 40 characters decide. A weak start is a
# weak password; a strong one only gets stronger.
CHECKED_CHARACTERS = 40
# zxcvbn keeps each call's user inputs in a module-global dictionary.
_zxcvbn_lock = threading.Lock()
TOO_EASY = "That password is too easy to guess."
ADVICE = "Try three or four words that don't belong together."


def password_weakness(password: str, context: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be used, or None when it may.

    Refused, as NIST SP 800-63B (5.1.1.2) asks: fewer than ``MIN_PASSWORD_LENGTH``
    characters; common passwords and those known from breaches (zxcvbn's bundled
    lists, with their usual variations); repetitive or sequential ones (``aaaaaaaaaa``,
    ``1234567890``, keyboard rows); and ones made of ``context``, the words of this
    account and site (the reader's email and name, the site's name).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    words = _context_words(context)
    with _zxcvbn_lock:
        result = zxcvbn(password[:CHECKED_CHARACTERS], user_inputs=words)
    if result["score"] >= STRONG_ENOUGH_SCORE:
        return None
    return " ".join(part for part in (TOO_EASY, result["feedback"]["warning"], ADVICE) if part)


def _context_words(context: Iterable[str]) -> list[str]:
    """Each value whole, run together and in its parts: ``nia.reader@example.com`` gives
    ``niareaderexamplecom``, ``nia``, ``reader``, ``example``..."""
    words: list[str] = []
    for value in context:
        if value:
            parts = [part for part in re.split(r"[\W_]+", value) if len(part) > 2]
            words.extend([value, "".join(parts), *parts])
    return words


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

"""Random keys and their stored digests.

Every key is 32 random bytes, so a plain SHA-256 digest is enough to store it: nobody
can guess a key from its digest, and a digest lookup costs microseconds (these keys are
checked on every API call; a password hash such as argon2 is for low-entropy secrets).
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_KEY_PREFIX = "pw_sk_"  # noqa: S105  (a prefix, not a secret)
SITE_KEY_PREFIX = "pw_pk_"
READER_TOKEN_PREFIX = "pw_rt_"  # noqa: S105


def new_key(prefix: str, nbytes: int = 32) -> str:
    """A fresh random key: ``prefix`` then URL-safe base64 of ``nbytes`` random bytes."""
    return prefix + secrets.token_urlsafe(nbytes)


def digest(key: str) -> str:
    """The hex SHA-256 digest a key is stored and looked up by."""
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    """Enough of a key to tell it apart on a page (``pw_sk_AbCd``), never the key."""
    return key[: len(SECRET_KEY_PREFIX) + 4]

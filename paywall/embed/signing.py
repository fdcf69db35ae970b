"""Ed25519 signing keys for entitlement tokens: made, rotated, published as a JWKS.

Private keys are stored encrypted (Fernet, from ``cryptography``) under a key derived
with HKDF from ``PAYWALL_SIGNING_KEYS_SECRET`` or, when that is unset, from
``SECRET_KEY``. A copy of the database alone therefore cannot sign tokens. Every host
must share that secret: a host that cannot decrypt the active key logs an error and
refuses to sign (:class:`SigningKeyUnreadable`) rather than make a key of its own,
which would retire the key of every other host. After changing the secret on purpose,
``paywall rotate-signing-key`` makes a key under the new one.
There is at most one active key (a unique index); the first signature ever makes it,
once, however many instances ask at the same moment.
``paywall rotate-signing-key`` starts signing with a new key at once; the old one stays
in the JWKS for ``PUBLISH_RETIRED_FOR`` so tokens it signed keep verifying until they
expire, and verifiers refetch the JWKS when they meet an unknown ``kid``.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from billing import utcnow
from paywall.caching import FreshCache, cache
from paywall.embed.models import SigningKey
from paywall.extensions import db
from paywall.invalidation import SIGNING_KEYS

log = logging.getLogger(__name__)
ALGORITHM = "EdDSA"
PUBLISH_RETIRED_FOR = timedelta(days=1)
KEY_CACHE = "paywall.embed_signing_key"


@dataclass(frozen=True, slots=True)
class ActiveKey:
    kid: str
    private_key: Ed25519PrivateKey


def _fernet() -> Fernet:
    config = current_app.config
    secret = (config.get("SIGNING_KEYS_SECRET") or config["SECRET_KEY"]).encode()
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"paywall.embed.signing-keys"
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


class SigningKeyUnreadable(RuntimeError):
    """The active signing key was encrypted under another secret than this host's."""


def create_signing_key() -> SigningKey:
    """Make a new key pair, sign with it from now on, and retire the current one."""
    now = utcnow()
    db.session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )
    key = _new_key(now)
    db.session.add(key)
    db.session.commit()
    return key


def _first_key() -> SigningKey:
    """Make the first signing key, unless another instance made it a moment ago."""
    key = _new_key(utcnow())
    db.session.add(key)
    try:
        db.session.commit()
    except IntegrityError:  # the unique index on active keys: someone else's won
        db.session.rollback()
        found = _active_row()
        assert found is not None
        return found
    return key


def _new_key(now: datetime) -> SigningKey:
    """A new key pair as a row (not yet added), its private half encrypted."""
    private_key = Ed25519PrivateKey.generate()
    kid = secrets.token_urlsafe(12)
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg=ALGORITHM)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(
        kid=kid,
        public_jwk=json.dumps(jwk),
        private_key_encrypted=_fernet().encrypt(pem).decode(),
        created_at=now,
    )


def _active_row() -> SigningKey | None:
    return db.session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None)))


def active_key() -> ActiveKey:
    """The key to sign with (made on first use; kept per worker until a key changes).

    Raises :class:`SigningKeyUnreadable` (and logs why) when this host's secret cannot
    decrypt it.
    """
    keys: FreshCache[str, ActiveKey] = cache(KEY_CACHE, (SIGNING_KEYS,), 1)
    found = keys.fetch("active", _read_active_key)
    assert found is not None
    return found


def _read_active_key() -> ActiveKey:
    row = _active_row() or _first_key()
    private_key = _decrypt(row)
    if private_key is None:
        message = (
            f"The entitlement signing key {row.kid} cannot be decrypted on this host: its "
            "PAYWALL_SIGNING_KEYS_SECRET (or, when unset, SECRET_KEY) differs from the one "
            "the key was stored with. Give every host the same secret; if it changed on "
            "purpose, run `paywall rotate-signing-key`."
        )
        log.error(message)
        raise SigningKeyUnreadable(message)
    return ActiveKey(row.kid, private_key)


def _decrypt(row: SigningKey) -> Ed25519PrivateKey | None:
    """The private key of ``row``; None when it was encrypted under another secret."""
    try:
        pem = _fernet().decrypt(row.private_key_encrypted.encode())
    except InvalidToken:
        return None
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def published_keys() -> dict[str, list[dict[str, Any]]]:
    """The JWKS: the signing key and keys retired recently enough to verify live tokens."""
    since = utcnow() - PUBLISH_RETIRED_FOR
    rows = db.session.scalars(
        select(SigningKey)
        .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > since))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
    )
    return {"keys": [json.loads(row.public_jwk) for row in rows]}

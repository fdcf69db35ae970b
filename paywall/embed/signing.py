"""Ed25519 signing keys for entitlement tokens: made, rotated, published as a JWKS.

Private keys are stored encrypted (Fernet, from ``cryptography``) under a key derived
with HKDF from ``PAYWALL_SIGNING_KEYS_SECRET`` or, when that is unset, from
``SECRET_KEY``. A copy of the database alone therefore cannot sign tokens; changing the
secret makes stored keys unreadable, and the next signature then makes a fresh key.
``paywall rotate-signing-key`` starts signing with a new key at once; the old one stays
in the JWKS for ``PUBLISH_RETIRED_FOR`` so tokens it signed keep verifying until they
expire, and verifiers refetch the JWKS when they meet an unknown ``kid``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select, update

from billing.orm import utcnow
from paywall.embed.models import SigningKey
from paywall.extensions import db, local_cache

ALGORITHM = "EdDSA"
PUBLISH_RETIRED_FOR = timedelta(days=1)
KEY_CACHE = "paywall.embed_signing_key"
KEY_CACHE_SECONDS = 60


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


def create_signing_key() -> SigningKey:
    """Make a new key pair, sign with it from now on, and retire the current one."""
    private_key = Ed25519PrivateKey.generate()
    kid = secrets.token_urlsafe(12)
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg=ALGORITHM)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    now = utcnow()
    db.session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )
    key = SigningKey(
        kid=kid,
        public_jwk=json.dumps(jwk),
        private_key_encrypted=_fernet().encrypt(pem).decode(),
        created_at=now,
    )
    db.session.add(key)
    db.session.commit()
    local_cache(KEY_CACHE, KEY_CACHE_SECONDS, 1).forget("active")
    return key


def active_key() -> ActiveKey:
    """The key to sign with (made on first use; kept a minute per worker)."""
    cache = local_cache(KEY_CACHE, KEY_CACHE_SECONDS, 1)
    found: ActiveKey | None = cache.get("active")
    if found is not None:
        return found
    row = db.session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
    )
    private_key = _decrypt(row) if row is not None else None
    if row is None or private_key is None:
        row = create_signing_key()
        private_key = _decrypt(row)
        assert private_key is not None
    found = ActiveKey(row.kid, private_key)
    cache.put("active", found)
    return found


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

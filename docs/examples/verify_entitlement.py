"""Check a Paywall entitlement token at your own server or edge, without calling Paywall.

    pip install "pyjwt[crypto]"

``may_read(token, ...)`` is True when the token is genuine (signed by a key in Paywall's
JWKS, for your site, not expired) and its reader may read an article of that access level.
"""

import time
from functools import cache

import jwt

LOOKED_AGAIN: dict[str, float] = {}  # when each paywall's JWKS was last fetched for a new kid


@cache
def paywall_keys(paywall: str) -> jwt.PyJWKClient:
    """Paywall's public keys, fetched once and then at most every 5 minutes."""
    return jwt.PyJWKClient(f"{paywall}/.well-known/jwks.json", lifespan=300)


def signing_key(token: str, paywall: str) -> jwt.PyJWK:
    """The key that signed ``token``. A ``kid`` not seen yet (a key rotated a moment ago)
    fetches the JWKS again at once, but at most once a second, so junk cannot flood
    Paywall (PyJWKClient alone may wait out a cooldown of its own first)."""
    client = paywall_keys(paywall)
    kid = jwt.get_unverified_header(token).get("kid")
    try:
        return client.get_signing_key(kid)
    except jwt.PyJWKClientError:
        if time.monotonic() - LOOKED_AGAIN.get(paywall, float("-inf")) < 1:
            raise
        LOOKED_AGAIN[paywall] = time.monotonic()
        for key in client.get_signing_keys(refresh=True):
            if key.key_id == kid:
                return key
        raise


def may_read(token: str, *, paywall: str, site_key: str, access: str, tiers=()) -> bool:
    """May the token's reader read an article with this access level (and plan tiers)?

    Anything short of a genuine, current token for this site is "no": junk, an expired
    token, a ``kid`` the JWKS doesn't have, or the JWKS out of reach.
    """
    try:
        key = signing_key(token, paywall)
        claims = jwt.decode(
            token, key, algorithms=["EdDSA"], audience=site_key, issuer=paywall, leeway=30
        )
    except jwt.PyJWTError:
        return False
    granted_tiers = claims.get("tiers") or []
    if access == "tiers":
        return "*" in granted_tiers or bool(set(tiers) & set(granted_tiers))
    return access in (claims.get("access") or [])

"""Check a Paywall entitlement token at your own server or edge, without calling Paywall.

    pip install "pyjwt[crypto]"

``may_read(token, ...)`` is True when the token is genuine (signed by a key in Paywall's
JWKS, for your site, not expired) and its reader may read an article of that access level.
"""

from functools import cache

import jwt


@cache
def paywall_keys(paywall: str) -> jwt.PyJWKClient:
    """Paywall's public keys, fetched once and again whenever a token names a new ``kid``."""
    return jwt.PyJWKClient(f"{paywall}/.well-known/jwks.json", lifespan=300)


def may_read(token: str, *, paywall: str, site_key: str, access: str, tiers=()) -> bool:
    """May the token's reader read an article with this access level (and plan tiers)?"""
    key = paywall_keys(paywall).get_signing_key_from_jwt(token)
    try:
        claims = jwt.decode(
            token, key, algorithms=["EdDSA"], audience=site_key, issuer=paywall, leeway=30
        )
    except jwt.InvalidTokenError:
        return False
    if access == "tiers":
        return "*" in claims["tiers"] or bool(set(tiers) & set(claims["tiers"]))
    return access in claims["access"]

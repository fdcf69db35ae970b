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
    """May the token's reader read an article with this access level (and plan tiers)?

    Anything short of a genuine, current token for this site is "no": junk, an expired
    token, a ``kid`` the JWKS doesn't have, or the JWKS out of reach.
    """
    try:
        key = paywall_keys(paywall).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key, algorithms=["EdDSA"], audience=site_key, issuer=paywall, leeway=30
        )
    except jwt.PyJWTError:
        return False
    granted_tiers = claims.get("tiers") or []
    if access == "tiers":
        return "*" in granted_tiers or bool(set(tiers) & set(granted_tiers))
    return access in (claims.get("access") or [])

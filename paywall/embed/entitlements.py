"""Entitlement tokens: a signed statement of what a reader may read, for a site's edge.

A JWT signed with the active Ed25519 key (``kid`` in the header) for one site
(``aud`` = the site key), valid ``ENTITLEMENT_TOKEN_MINUTES``. Claims:

- ``access``: the access levels the reader reads in full (``free``, ``registered``, ``paid``);
- ``tiers``: plan tiers the reader reads, ``["*"]`` for every tier (comped readers, staff);
  a redeemed gift adds its plan's tier, a subscription its own;
- ``reason``: the decision's reason code for a paid article.

Metered views are not entitlements: a site that meters asks the decision API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from flask import current_app, request

from billing import utcnow
from paywall.access import AccessLevel, AccessRequest, ArticleAccess, Decision, Reason, decide
from paywall.accounts.models import SessionReader
from paywall.articles.reading import access_settings, reader_state
from paywall.embed.signing import ALGORITHM, active_key
from paywall.embed.sites import SiteRecord
from paywall.kept_billing import billing_snapshots, running_gift

EVERY_TIER = "*"
SUBSCRIPTION_REASONS = frozenset(
    {Reason.SUBSCRIBER, Reason.TRIALING, Reason.CANCELING, Reason.GRACE_PERIOD}
)


def issuer() -> str:
    """Who signs: the paywall's public address."""
    return (current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def entitlements_for(reader: SessionReader | None, now: datetime) -> dict[str, Any]:
    """What ``reader`` reads in full right now, decided by the same rules as any article."""
    state = reader_state(reader)
    subscription = card = gift = None
    if reader is not None and not state.is_staff:
        subscription, card = billing_snapshots(reader.id)
        gift = running_gift(reader.id, now)
    settings = access_settings()

    def decision(level: AccessLevel, *, with_gift: bool = True) -> Decision:
        return decide(
            AccessRequest(
                reader=state,
                article=ArticleAccess(level),
                now=now,
                subscription=subscription,
                card=card,
                gift=gift if with_gift else None,
                settings=settings,
            )
        )

    levels = [AccessLevel.FREE, AccessLevel.REGISTERED, AccessLevel.PAID]
    access = [level.value for level in levels if decision(level).is_full]
    paid = decision(AccessLevel.PAID)
    tiers: list[str] = []
    if paid.reason in (Reason.COMPED, Reason.STAFF):
        tiers = [EVERY_TIER]
    else:
        if paid.reason is Reason.GIFT and gift is not None:
            tiers.append(gift.tier)
            # The subscription's own tier too, as its decision without the gift says.
            paid_on_subscription = decision(AccessLevel.PAID, with_gift=False)
        else:
            paid_on_subscription = paid
        if paid_on_subscription.reason in SUBSCRIPTION_REASONS and subscription is not None:
            tiers.append(subscription.tier)
        tiers = sorted(set(tiers))
    return {"access": access, "tiers": tiers, "reason": paid.reason.value}


def entitlement_token(site: SiteRecord, reader: SessionReader | None) -> tuple[str, datetime]:
    """A signed entitlement token for ``reader`` on ``site``, and when it expires."""
    now = utcnow()
    expires_at = now + timedelta(minutes=current_app.config["ENTITLEMENT_TOKEN_MINUTES"])
    claims = {
        "iss": issuer(),
        "aud": site.public_key,
        "sub": f"reader:{reader.id}" if reader is not None else "anonymous",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        **entitlements_for(reader, now),
    }
    key = active_key()
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, expires_at

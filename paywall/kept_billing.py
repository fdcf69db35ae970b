"""The reading path's billing inputs, kept per worker: a reader's subscription and card
snapshot and their gifts, read from local tables only (never Stripe).

Its own module, below both the session loader (``paywall.accounts.sessions``, which reads
them along with the reader in one query) and the decision (``paywall.articles.reading``).
"""

from __future__ import annotations

from datetime import datetime

from billing import (
    CardSnapshot,
    GiftGrant,
    SubscriptionSnapshot,
    gift_grants_of,
    running_grant,
    snapshots_for_reader,
)
from paywall.caching import FreshCache, cache
from paywall.database import reads
from paywall.extensions import db
from paywall.invalidation import BILLING, GIFTS

BILLING_CACHE = "paywall.billing_snapshots"
GIFTS_CACHE = "paywall.gift_grants"
Snapshots = tuple[SubscriptionSnapshot | None, CardSnapshot | None]


def billing_snapshots(reader_id: int) -> tuple[SubscriptionSnapshot | None, CardSnapshot | None]:
    """The reader's subscription and default card, from local billing tables (never Stripe).

    Kept per worker until any billing row changes (:mod:`paywall.invalidation`): a
    webhook or a reader's own checkout is seen on every worker's next request.
    """
    found = _billing_cache().fetch(reader_id, lambda: snapshots_for_reader(reads(), reader_id))
    assert found is not None
    return found


def keep_billing_snapshots(reader_id: int, snapshots: Snapshots) -> None:
    """Keep snapshots read along with something else (the session's reader) this request."""
    _billing_cache().keep(reader_id, snapshots)


def _billing_cache() -> FreshCache[int, Snapshots]:
    return cache(BILLING_CACHE, (BILLING,), 20_000)


def _gifts_cache() -> FreshCache[int, tuple[GiftGrant, ...]]:
    return cache(GIFTS_CACHE, (GIFTS,), 20_000)


def keep_no_gifts(reader_id: int) -> None:
    """Note that the reader has no gift that has not ended, as read along with something
    else (the session's reader) this request."""
    _gifts_cache().keep(reader_id, ())


def running_gift(reader_id: int, now: datetime) -> GiftGrant | None:
    """The redeemed gift giving the reader access at ``now``, from the local gifts table.

    The reader's gifts not yet ended are kept per worker until any gift row changes (a
    gift kept here that ended since is simply no longer running at ``now``).
    """
    grants = _gifts_cache().fetch(reader_id, lambda: gift_grants_of(db.session, reader_id, now))
    return running_grant(grants or (), now)

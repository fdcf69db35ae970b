"""What the adapter holds itself: objects and states localstripe has no notion of.

The account, coupons and promotion codes, subscription schedules, and the pending
updates of subscriptions whose change waits for an invoice to be paid. Fields the
adapter shows on localstripe's own objects (a subscription's ``schedule``,
``pending_update`` or ``pause_collection``) are overlays
(:class:`devstripe.reshape.Overlays`); this is the rest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from devstripe.account import test_account
from devstripe.promotions import Promotions

Obj = dict[str, Any]


@dataclass
class PendingUpdate:
    """An item change (``payment_behavior=pending_if_incomplete``) waiting for its invoice."""

    subscription_id: str
    invoice_id: str
    item_id: str
    price_id: str
    quantity: int
    expires_at: int
    shown: Any = None  # the overlay showing it on the subscription
    # The overlay keeping the subscription active should this invoice's payment fail;
    # dropped when settled, and at the next renewal (whose own failure shows).
    guard: Any = None


@dataclass
class Schedule:
    """A subscription schedule and its own clock: how far its subscription was billed
    (localstripe keeps one period for ever, so renewals are counted here)."""

    obj: Obj  # the pinned SubscriptionSchedule, as answered
    billed_until: int  # the end of the last period the subscription was billed for
    overlay: Any = None  # the subscription's ``schedule`` while attached


@dataclass
class Held:
    account: Obj = field(default_factory=test_account)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    pending_updates: dict[str, PendingUpdate] = field(default_factory=dict)  # by invoice id
    promotions: Promotions = field(default_factory=Promotions)  # coupons, promotion codes
    # Held while pending updates are settled (see translations.settle_pending_updates).
    settling: asyncio.Lock = field(default_factory=asyncio.Lock)

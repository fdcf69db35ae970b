"""What the adapter holds itself: objects and states localstripe has no notion of.

Fields the adapter shows on localstripe's own objects are overlays
(:class:`devstripe.reshape.Overlays`); this is the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devstripe.account import test_account

Obj = dict[str, Any]


@dataclass
class Held:
    account: Obj = field(default_factory=test_account)

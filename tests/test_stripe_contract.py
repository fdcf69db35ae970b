"""The project against the pinned Stripe API version's contract (design §5).

The version the gateway sends is the one the pinned SDK ships, and every recorded payload
the billing tests read is an object of that version: no field it does not define, every
field it does (nested objects, expanded objects and list items included).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billing import gateway
from devstripe.contract import API_VERSION, check_object, missing_fields

PAYLOADS = Path(__file__).parent / "billing" / "payloads"
OLDER_VERSION = PAYLOADS / "shapes" / "old"  # 2020-03-02 on purpose


def recorded_events() -> list[Path]:
    return [
        path for path in sorted(PAYLOADS.rglob("*.json")) if not path.is_relative_to(OLDER_VERSION)
    ]


def test_the_gateway_sends_the_version_the_pinned_sdk_ships() -> None:
    assert gateway.API_VERSION == API_VERSION


def test_there_are_recorded_events_to_check() -> None:
    assert len(recorded_events()) >= 15


@pytest.mark.parametrize(
    "path", recorded_events(), ids=lambda path: str(path.relative_to(PAYLOADS))
)
def test_a_recorded_event_is_a_complete_object_of_the_pinned_version(path: Path) -> None:
    event: dict[str, Any] = json.loads(path.read_text())

    assert event["object"] == "event"
    assert event["api_version"] == API_VERSION
    assert check_object(event) == [], "fields the pinned version does not define"
    assert missing_fields(event) == [], "fields the pinned version defines"

"""Complete recorded payloads against the pinned API version's classes (a tool, not a test).

    python -m tests.billing.payloads.complete [FILE.json ...]

For each event (all of ``payloads/`` but ``shapes/old/`` when no file is named): fields the
pinned version does not define are removed, and fields it defines that are missing are
added with a default of their declared type (``null`` when the type allows it, ``{}``
for metadata, an empty list object, a nested object filled in turn). Existing values are
kept. Every default that is not ``null`` is printed, so a person can give it the value
Stripe would send; the file is rewritten in Stripe's key order (``id``, ``object``, then
alphabetical).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from devstripe.contract import check_object, empty_value, missing_fields

HERE = Path(__file__).parent
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def remove(document: dict[str, Any], path: str) -> None:
    """Delete the field at a dotted path such as ``event.data.object.lines.total_count``."""
    steps = [key if key else int(index) for key, index in _STEP.findall(path[path.index(".") :])]
    container: Any = document
    for step in steps[:-1]:
        container = container[step]
    del container[steps[-1]]


def stripe_order(value: Any) -> Any:
    """Keys as Stripe writes them: ``id``, ``object``, then alphabetical."""
    if isinstance(value, list):
        return [stripe_order(item) for item in value]
    if not isinstance(value, dict):
        return value
    first = [key for key in ("id", "object") if key in value]
    rest = sorted(key for key in value if key not in first)
    return {key: stripe_order(value[key]) for key in first + rest}


def complete(path: Path) -> None:
    event = json.loads(path.read_text())
    for unknown in check_object(event):
        print(f"{path.relative_to(HERE)}: removed {unknown}")
        remove(event, unknown)

    def fill(where: str, annotation: Any) -> Any:
        value = empty_value(where, annotation)
        if value is not None:
            print(f"{path.relative_to(HERE)}: check {where} = {json.dumps(value)}")
        return value

    missing_fields(event, fill=fill)
    assert not check_object(event) and not missing_fields(event), path
    path.write_text(json.dumps(stripe_order(event), indent=2, ensure_ascii=False) + "\n")


def main(arguments: list[str]) -> None:
    files = [Path(name).resolve() for name in arguments] or [
        path for path in sorted(HERE.rglob("*.json")) if "old" not in path.parts
    ]
    for path in files:
        complete(path)


if __name__ == "__main__":
    main(sys.argv[1:])

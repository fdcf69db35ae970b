"""Stripe's bracketed form encoding (``items[0][plan]=x&expand[]=y``), both ways.

The adapter decodes every request to rewrite it and re-encodes query strings for
``localstripe``. This is its own decoder, independent of the contract module's, so the
rewrites keep working whatever shape that module chooses for validation.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def decode(text: str) -> dict[str, Any]:
    """``a[b][0][c]=x&e[]=y`` → ``{"a": {"b": [{"c": "x"}]}, "e": ["y"]}`` (values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, bracket, rest = key.partition("[")
        tokens = [head, *_BRACKETS.findall(bracket + rest)]
        node = root
        for token in tokens[:-1]:
            child = node.get(token or str(len(node)))
            if not isinstance(child, dict):
                child = node[token or str(len(node))] = {}
            node = child
        node[tokens[-1] or str(len(node))] = value
    return _with_lists(root)


def _with_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _with_lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def encode(params: dict[str, Any]) -> str:
    """The inverse of :func:`decode`, as the SDK encodes (lists indexed, booleans lower-case)."""
    return urlencode(list(_pairs(params, "")))


def _pairs(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    elif value is not None:
        yield prefix, str(value)

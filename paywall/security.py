"""Request-level safety helpers."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects).

    Only site-relative paths pass: no scheme, no host, no protocol-relative ``//host``
    or ``/\\host`` forms browsers treat as another site, no control characters.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target

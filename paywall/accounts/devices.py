"""A browser's User-Agent as a reader recognises their device: "Firefox on Windows"."""

from __future__ import annotations

from ua_parser import parse

UNKNOWN = "Unknown browser"
MAX_LENGTH = 120
_GENERIC = {"Other", "Generic Smartphone", "Generic Feature Phone", "Spider"}


def describe_device(user_agent: str | None) -> str:
    """A device label, "browser on system", from a User-Agent header ("Unknown browser").

    Parsed once, when a session starts (the rules are ua-parser's, kept up to date there).
    """
    if not user_agent:
        return UNKNOWN
    found = parse(user_agent[:512])
    browser = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    parts = [name for name in (browser, system) if name and name not in _GENERIC]
    if not parts:
        return UNKNOWN
    return " on ".join(parts)[:MAX_LENGTH]

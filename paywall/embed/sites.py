"""Registering publisher sites and managing their keys.

Each unit of work commits once. Keys are returned to the caller exactly once, when made;
only their digests are stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, url_for
from markupsafe import escape
from sqlalchemy import Select, select, update

from billing import all_plans, utcnow
from paywall.audit.log import record
from paywall.caching import FreshCache, cache
from paywall.embed.keys import (
    SECRET_KEY_PREFIX,
    SITE_KEY_PREFIX,
    digest,
    new_key,
    shown_prefix,
)
from paywall.embed.models import ReaderToken, Site, SiteKey
from paywall.extensions import db
from paywall.invalidation import SITES
from paywall.validation import FieldError

SITE_CACHE = "paywall.embed_sites"


class SiteError(FieldError):
    """A site cannot be saved as given."""


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """What the API needs of a site on every call: no ORM identity, safe to cache."""

    id: int
    name: str
    public_key: str
    origins: frozenset[str]
    first_origin: str
    plans: tuple[str, ...]
    logo_url: str = ""
    accent_color: str = ""

    def allows(self, origin: str) -> bool:
        """Whether ``origin`` is one of the site's own."""
        return origin in self.origins


@dataclass(frozen=True, slots=True)
class NewKeys:
    """Keys just made, to show once."""

    site: Site
    secret_key: str


def normalise_origin(value: str) -> str:
    """``https://News.Example.com/`` → ``https://news.example.com``; else :class:`SiteError`."""
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise SiteError(
            "allowed_origins",
            f"{value.strip()!r} is not an origin: write scheme and host only, "
            "like https://news.example.com",
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def parse_origins(values: str | Iterable[str]) -> list[str]:
    """Origins from text (one per line or space-separated) or a list, de-duplicated."""
    items = values.split() if isinstance(values, str) else list(values)
    origins: list[str] = []
    for item in items:
        if item.strip():
            origin = normalise_origin(item)
            if origin not in origins:
                origins.append(origin)
    if not origins:
        raise SiteError("allowed_origins", "Add at least one origin the site is served from.")
    return origins


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise SiteError("name", "A site needs a name.")
    if len(name) > 120:
        raise SiteError("name", "Keep the name under 120 characters.")
    return name


def plan_codes() -> list[str]:
    """The codes of the publisher's plans, in the catalogue's order."""
    return [plan.code for plan in all_plans(db.session)]


def _plan_codes(codes: str | Iterable[str]) -> str:
    """Default plans from ``"monthly, yearly"`` or a list; each must be a plan's code."""
    items = codes.split(",") if isinstance(codes, str) else codes
    chosen: list[str] = []
    for code in (str(i).strip() for i in items):
        if code and code not in chosen:
            chosen.append(code)
    known = plan_codes()
    for code in chosen:
        if code not in known:
            raise SiteError(
                "plan_codes",
                f"There is no plan {code!r}. The plans: {', '.join(known) or 'none yet'}.",
            )
    return ",".join(chosen)


def _settings_of(site: Site) -> dict[str, object]:
    """What the audit log keeps of a site's settings (never a key)."""
    return {
        "name": site.name,
        "origins": list(site.origins),
        "plans": list(site.plans),
        "site_key": site.public_key,
        "logo_url": site.logo_url,
        "accent_color": site.accent_color,
    }


def _live_key_prefixes(site: Site) -> dict[str, object]:
    return {"secret_keys": [key.prefix for key in site.keys if key.revoked_at is None]}


ACCENT_COLOR = re.compile(r"#[0-9a-f]{6}")


def check_accent_color(value: str) -> str:
    """``#1D4ED8`` → ``#1d4ed8``; empty stays empty; anything else is a :class:`SiteError`."""
    value = value.strip().lower()
    if value and not ACCENT_COLOR.fullmatch(value):
        raise SiteError("accent_color", "Write the colour as # and six hex digits, like #1d4ed8.")
    return value


def check_logo_url(value: str) -> str:
    """An https address of an image, or empty; else :class:`SiteError`.

    Only https, so the popup (itself https in production) never loads mixed content, and
    no quotes, spaces or credentials: the address goes into an attribute and the CSP.
    """
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.password
        or len(value) > 500
        or any(c in value for c in " \t\r\n\"'<>;,\\")
    ):
        raise SiteError(
            "logo_url", "Give the logo as an https address, like https://news.example.com/logo.png"
        )
    return value


def script_tag(public_key: str) -> str:
    """The one snippet a publisher pastes into its pages (closed: an unclosed script tag
    swallows the rest of the page)."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    src = f"{base}/embed.js" if base else url_for("embed.script", _external=True)
    return f'<script src="{escape(src)}" data-site="{escape(public_key)}" async></script>'


def create_site(
    name: str,
    origins: str | Iterable[str],
    plan_codes: str | Iterable[str] = "",
    *,
    logo_url: str = "",
    accent_color: str = "",
) -> NewKeys:
    """Register a site; returns it with its secret API key (shown once, stored hashed)."""
    site = Site(
        name=_check_name(name),
        public_key=new_key(SITE_KEY_PREFIX, 16),
        allowed_origins="\n".join(parse_origins(origins)),
        plan_codes=_plan_codes(plan_codes),
        logo_url=check_logo_url(logo_url),
        accent_color=check_accent_color(accent_color),
    )
    secret = new_key(SECRET_KEY_PREFIX)
    site.keys.append(SiteKey(prefix=shown_prefix(secret), digest=digest(secret)))
    db.session.add(site)
    record("site.create", f"site {site.name}", None, _settings_of(site) | _live_key_prefixes(site))
    db.session.commit()
    return NewKeys(site, secret)


def update_site(
    site: Site,
    name: str,
    origins: str | Iterable[str],
    plan_codes: str | Iterable[str],
    *,
    logo_url: str = "",
    accent_color: str = "",
) -> Site:
    """Change a site's name, origins, default plans, logo and accent colour."""
    before = _settings_of(site)
    site.name = _check_name(name)
    site.allowed_origins = "\n".join(parse_origins(origins))
    site.plan_codes = _plan_codes(plan_codes)
    site.logo_url = check_logo_url(logo_url)
    site.accent_color = check_accent_color(accent_color)
    after = _settings_of(site)
    if after != before:
        record("site.update", f"site {site.name}", before, after)
    db.session.commit()
    return site


def rotate_secret_key(site: Site) -> NewKeys:
    """Make a new secret key and revoke every older one at once."""
    now = utcnow()
    before = _live_key_prefixes(site)
    for key in site.keys:
        if key.revoked_at is None:
            key.revoked_at = now
    secret = new_key(SECRET_KEY_PREFIX)
    site.keys.append(SiteKey(prefix=shown_prefix(secret), digest=digest(secret)))
    record("key.rotate", f"site {site.name}", before, _live_key_prefixes(site))
    db.session.commit()
    return NewKeys(site, secret)


def rotate_site_key(site: Site) -> Site:
    """Give the site a new publishable key; the old one stops answering at once.

    The site's script tags must then carry the new key. Reader tokens belong to the
    site, not to the key, so readers stay signed in.
    """
    before = {"site_key": site.public_key}
    site.public_key = new_key(SITE_KEY_PREFIX, 16)
    record("site_key.rotate", f"site {site.name}", before, {"site_key": site.public_key})
    db.session.commit()
    return site


def revoke_secret_keys(site: Site) -> int:
    """Revoke every secret key of the site (the content API refuses it until rotated)."""
    now = utcnow()
    before = _live_key_prefixes(site)
    revoked = 0
    for key in site.keys:
        if key.revoked_at is None:
            key.revoked_at = now
            revoked += 1
    if revoked:
        record("key.revoke", f"site {site.name}", before, _live_key_prefixes(site))
    db.session.commit()
    return revoked


def set_site_enabled(site: Site, enabled: bool) -> Site:
    """Disable a site (its keys and reader tokens stop working) or enable it again."""
    was_enabled = site.disabled_at is None
    site.disabled_at = None if enabled else utcnow()
    if enabled != was_enabled:
        record(
            "site.enable" if enabled else "site.disable",
            f"site {site.name}",
            {"enabled": was_enabled},
            {"enabled": enabled},
        )
    if not enabled:
        db.session.execute(
            update(ReaderToken)
            .where(ReaderToken.site_id == site.id, ReaderToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    db.session.commit()
    return site


# Sites are listed newest first, sought by id.
SITE_ORDER = (Site.id,)


def sites_query() -> Select[Site]:
    """Every site, unordered, for a pager by :data:`SITE_ORDER`."""
    return select(Site)


# A site's secret keys are listed newest first, sought by id.
KEY_ORDER = (SiteKey.id,)


def keys_query(site: Site) -> Select[SiteKey]:
    """The site's secret keys (live and revoked), unordered, for a pager by :data:`KEY_ORDER`."""
    return select(SiteKey).where(SiteKey.site_id == site.id)


def find_site(ref: str | int) -> Site | None:
    """A site by id or by its publishable key."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return db.session.get(Site, int(ref))
    return db.session.scalar(select(Site).where(Site.public_key == ref))


def _record(site: Site) -> SiteRecord:
    origins = site.origins
    return SiteRecord(
        id=site.id,
        name=site.name,
        public_key=site.public_key,
        origins=frozenset(origins),
        first_origin=origins[0] if origins else "",
        plans=site.plans,
        logo_url=site.logo_url,
        accent_color=site.accent_color,
    )


def active_site(public_key: str) -> SiteRecord | None:
    """The enabled site with this publishable key.

    Kept per worker until any site changes (:mod:`paywall.invalidation`): disabling a
    site or rotating its key shows on every worker's next request.
    """
    sites: FreshCache[str, SiteRecord] = cache(SITE_CACHE, (SITES,), 1024)
    return sites.fetch(public_key, lambda: _read_active_site(public_key))


def _read_active_site(public_key: str) -> SiteRecord | None:
    site = db.session.scalar(
        select(Site).where(Site.public_key == public_key, Site.disabled_at.is_(None))
    )
    return _record(site) if site is not None else None


def site_for_secret_key(secret: str) -> SiteRecord | None:
    """The enabled site whose live secret key this is, or None."""
    if not secret.startswith(SECRET_KEY_PREFIX):
        return None
    site = db.session.scalar(
        select(Site)
        .join(SiteKey)
        .where(
            SiteKey.digest == digest(secret),
            SiteKey.revoked_at.is_(None),
            Site.disabled_at.is_(None),
        )
    )
    return _record(site) if site is not None else None

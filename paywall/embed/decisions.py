"""The reader-facing answer for (reader, article): the decision as JSON.

The decision is the reading path's own (:func:`paywall.articles.reading.decide_for`);
its words and buttons are the article page's (:func:`paywall.gate.present`). Only the
buttons' addresses differ: each opens the popup on the paywall's origin, which signs the
reader in, hands the host page a token and then goes on to the step the button names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request, url_for

from paywall.access import Decision
from paywall.articles.reading import decide_for
from paywall.articles.service import ArticlePage
from paywall.embed.articles import find_published_page
from paywall.embed.errors import unknown_article
from paywall.embed.sites import SiteRecord
from paywall.embed.tokens import TokenReader
from paywall.extensions import LocalCache, local_cache
from paywall.gate import present

GATE_CACHE = "paywall.embed_gates"
GATE_CACHE_SECONDS = 600  # the key holds everything the value depends on: this bounds memory


def popup_url(site: SiteRecord, origin: str, then: str | None = None) -> str:
    """The popup's address for a button: sign in, then go on to ``then`` (an action)."""
    return url_for("embed.connect", site=site.public_key, origin=origin, then=then, _external=True)


def iso(moment: datetime) -> str:
    """``2026-11-25T08:00:00Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def gate_json(decision: Decision, site: SiteRecord, origin: str) -> dict[str, Any]:
    """The words and buttons of ``decision`` for the site's page at ``origin``.

    The same for every reader with the same decision, so each worker builds it once per
    (decision, site, origin, host) rather than resolving four URLs on every call.
    """
    key = (decision, site.public_key, origin, request.host)
    cache: LocalCache[tuple[object, ...], dict[str, Any]]
    cache = local_cache(GATE_CACHE, GATE_CACHE_SECONDS, 4096)
    found = cache.get(key)
    if found is None:
        gate = present(decision, return_to="/")
        found = {
            "access": decision.access,
            "reason": decision.reason.value,
            "title": gate.title,
            "message": gate.message,
            "actions": [
                {"action": a.action, "label": a.label, "url": popup_url(site, origin, a.action)}
                for a in gate.actions
            ],
            "notices": list(gate.notices),
        }
        cache.put(key, found)
    return found


def decision_json(
    site: SiteRecord,
    external_id: str,
    token: TokenReader | None,
    origin: str,
    fresh_after: float = 0.0,
) -> dict[str, Any]:
    """The decision for the token's reader (or an anonymous one) on the site's article.

    A billing snapshot this worker took after ``fresh_after`` (unix time) may be reused
    (see :func:`paywall.articles.reading.billing_snapshots`); the popup passes the moment
    the reader last changed their billing, so that change shows at once.
    """
    page: ArticlePage | None = find_published_page(site.id, external_id)
    if page is None:
        raise unknown_article()
    reader = token.reader if token is not None else None
    decision = decide_for(reader, page, billing_fresh_after=fresh_after)
    body: dict[str, Any] = {
        "article": external_id,
        **gate_json(decision, site, origin),
        # Only a reader with access ever receives the text past the teaser boundary.
        "html": page.full_html if decision.is_full else page.teaser_html,
        "reader": None,
    }
    if token is not None:
        body["reader"] = {
            "email": token.reader.email,
            "token_expires_at": iso(token.expires_at),
        }
    return body

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
from paywall.caching import FreshCache, cache
from paywall.embed.articles import find_published_page
from paywall.embed.errors import unknown_article
from paywall.embed.sites import SiteRecord
from paywall.embed.tokens import TokenReader
from paywall.gate import notice_text, present

GATE_CACHE = "paywall.embed_gates"


def popup_url(site: SiteRecord, origin: str, then: str | None = None) -> str:
    """The popup's address for a button: sign in, then go on to ``then`` (an action)."""
    return url_for("embed.connect", site=site.public_key, origin=origin, then=then, _external=True)


def iso(moment: datetime) -> str:
    """``2026-11-25T08:00:00Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def gate_json(decision: Decision, site: SiteRecord, origin: str) -> dict[str, Any]:
    """The words and buttons of ``decision`` for the site's page at ``origin``.

    Words and buttons depend only on the reason and the actions, so each worker builds
    them once per (reason, actions, site, origin, host) rather than resolving four URLs
    on every call; the notices (a reader's card, dates) are made on every call.
    """
    key = (decision.reason, decision.actions, site.public_key, origin, request.host)
    gates: FreshCache[tuple[object, ...], dict[str, Any]] = cache(GATE_CACHE, (), 4096)
    words = gates.fetch(key, lambda: _words_and_buttons(decision, site, origin))
    assert words is not None
    notices = [notice_text(notice) for notice in decision.notices]
    return {**words, "notices": notices}


def _words_and_buttons(decision: Decision, site: SiteRecord, origin: str) -> dict[str, Any]:
    gate = present(Decision(decision.reason, decision.actions), return_to="/")
    return {
        "access": decision.access,
        "reason": decision.reason.value,
        "title": gate.title,
        "message": gate.message,
        "actions": [
            {"action": a.action, "label": a.label, "url": popup_url(site, origin, a.action)}
            for a in gate.actions
        ],
    }


def decision_json(
    site: SiteRecord,
    external_id: str,
    token: TokenReader | None,
    origin: str,
) -> dict[str, Any]:
    """The decision for the token's reader (or an anonymous one) on the site's article."""
    page: ArticlePage | None = find_published_page(site.id, external_id)
    if page is None:
        raise unknown_article()
    reader = token.reader if token is not None else None
    decision = decide_for(reader, page)
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

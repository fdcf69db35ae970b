"""The staff's articles: every article by state, searched and filtered, and a preview
of one as an anonymous reader, a free reader and a subscriber would see it."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, func, select

from billing import CardSnapshot, SubscriptionSnapshot
from paywall.access import ANONYMOUS, AccessLevel, AccessRequest, Decision, ReaderState, decide
from paywall.articles.models import Article
from paywall.articles.reading import access_settings
from paywall.articles.service import ArticlePage, ArticleSummary

ORDER = (Article.id,)  # newest first
STATES = {"draft": "Drafts", "scheduled": "Scheduled", "published": "Published"}


class Viewer(StrEnum):
    """Whom a preview shows the article as."""

    ANONYMOUS = "anonymous"
    READER = "reader"
    SUBSCRIBER = "subscriber"


VIEWER_WORDS = {
    Viewer.ANONYMOUS: "Anonymous visitor",
    Viewer.READER: "Free account",
    Viewer.SUBSCRIBER: "Subscriber",
}


def articles_query(
    *, title: str, access: AccessLevel | None, state: str | None, now: datetime
) -> Select[tuple[int, str, str, str, str, datetime | None, str, str]]:
    """Every article's summary (drafts too), unordered, for a pager: ``title`` (any case)
    is part of the title, ``access`` its level, ``state`` draft, scheduled or published."""
    query = select(*(getattr(Article, f.name) for f in fields(ArticleSummary)))
    if title:
        query = query.where(func.lower(Article.title).contains(title.lower(), autoescape=True))
    if access is not None:
        query = query.where(Article.access_level == access.value)
    if state == "draft":
        query = query.where(Article.published_at.is_(None))
    elif state == "scheduled":
        query = query.where(Article.published_at > now)
    elif state == "published":
        query = query.where(Article.published_at <= now)
    return query  # type: ignore[return-value]


def state_of(summary: ArticleSummary, now: datetime) -> str:
    """``draft``, ``scheduled`` or ``published``."""
    if summary.published_at is None:
        return "draft"
    return "scheduled" if summary.published_at > now else "published"


def page_of(article: Article) -> ArticlePage:
    """The article as the reading path holds it."""
    return ArticlePage(*(getattr(article, f.name) for f in fields(ArticlePage)))


def preview_decision(page: ArticlePage, viewer: Viewer, now: datetime) -> Decision:
    """The real decision for a made-up reader: nobody, a confirmed free account, or a
    paid-up subscriber (with a good card) to a plan of the article's first tier."""
    reader = ANONYMOUS
    subscription = card = None
    if viewer is not Viewer.ANONYMOUS:
        reader = ReaderState(signed_in=True, email_verified=True)
    if viewer is Viewer.SUBSCRIBER:
        tiers = sorted(page.access.required_tiers) or ["standard"]
        subscription = SubscriptionSnapshot(
            status="active", tier=tiers[0], current_period_end=now + timedelta(days=30)
        )
        card = CardSnapshot("visa", "4242", 12, now.year + 3)
    return decide(
        AccessRequest(
            reader=reader,
            article=page.access,
            now=now,
            subscription=subscription,
            card=card,
            settings=access_settings(),
        )
    )

"""Which articles convert: gate views, then sign-ups and subscriptions of readers who
came from each article (the ``next`` path carried through sign-up and checkout)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import case, func, select

from paywall.articles.models import Article
from paywall.console.models import SIGN_UP, SUBSCRIPTION, ArticleConversion, GateView
from paywall.extensions import db

_ARTICLE_PATH = re.compile(r"/articles/([^/]+)")
_NESTED_NEXTS = 3  # /signin?next=/subscribe/monthly?next=/articles/x is two deep


def article_for(target: str | None) -> int | None:
    """The id of the article a return path leads to, directly or through its own ``next``."""
    for _ in range(_NESTED_NEXTS):
        if not target:
            return None
        parts = urlsplit(target)
        found = _ARTICLE_PATH.fullmatch(parts.path)
        if found:
            return db.session.scalar(select(Article.id).where(Article.slug == found[1]))
        target = (parse_qs(parts.query).get("next") or [None])[0]
    return None


def record_conversion(reader_id: int, kind: str, target: str | None) -> None:
    """Note that ``reader_id`` signed up or subscribed on the way back to ``target``'s
    article (nothing when the path leads to no article)."""
    article_id = article_for(target)
    if article_id is not None:
        db.session.add(ArticleConversion(article_id=article_id, reader_id=reader_id, kind=kind))
        db.session.commit()


@dataclass(frozen=True, slots=True)
class FunnelRow:
    """One article's funnel over a period."""

    article_id: int
    slug: str
    title: str
    gate_views: int
    sign_ups: int
    subscriptions: int

    @property
    def sign_up_percent(self) -> float | None:
        return 100 * self.sign_ups / self.gate_views if self.gate_views else None

    @property
    def subscription_percent(self) -> float | None:
        return 100 * self.subscriptions / self.gate_views if self.gate_views else None


def article_funnels(since: date, limit: int = 20) -> list[FunnelRow]:
    """Gate views, sign-ups and subscriptions per article since ``since`` (a UTC day),
    most-viewed gates first: two grouped range queries and one for the titles."""
    views = dict(
        db.session.execute(
            select(GateView.article_id, func.sum(GateView.views))
            .where(GateView.day >= since)
            .group_by(GateView.article_id)
        ).all()
    )
    conversions = {
        article: (int(sign_ups), int(subscriptions))
        for article, sign_ups, subscriptions in db.session.execute(
            select(
                ArticleConversion.article_id,
                func.sum(case((ArticleConversion.kind == SIGN_UP, 1), else_=0)),
                func.sum(case((ArticleConversion.kind == SUBSCRIPTION, 1), else_=0)),
            )
            .where(ArticleConversion.created_at >= datetime.combine(since, time(), UTC))
            .group_by(ArticleConversion.article_id)
        )
    }
    ranked = sorted(
        set(views) | set(conversions),
        key=lambda a: (int(views.get(a, 0)), conversions.get(a, (0, 0))[::-1], a),
        reverse=True,
    )[:limit]
    titles = {
        article: (slug, title)
        for article, slug, title in db.session.execute(
            select(Article.id, Article.slug, Article.title).where(Article.id.in_(ranked))
        )
    }
    return [
        FunnelRow(
            article,
            *titles[article],
            int(views.get(article, 0)),
            *conversions.get(article, (0, 0)),
        )
        for article in ranked
        if article in titles
    ]

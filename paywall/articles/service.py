"""Saving and finding articles. Rendering happens here, once, when an article is saved."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, func, select

from billing import all_plans, utcnow
from paywall.access import AccessLevel, ArticleAccess
from paywall.articles.content import render_body
from paywall.articles.models import Article, access_of
from paywall.caching import FreshCache, page_cache
from paywall.database import reads
from paywall.extensions import db
from paywall.invalidation import ARTICLES
from paywall.pagination import PAGE_SIZE, Page, seek_page
from paywall.validation import FieldError

SECTION_MAX_CHARS = 80


class ArticleError(FieldError):
    """An article cannot be saved as given."""


def slugify(text: str) -> str:
    """A URL-safe slug: ``"Rents may level off!"`` → ``"rents-may-level-off"``."""
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")[:200] or "article"


def name_slug(name: str) -> str:
    """The address part of an author's or section's list: ``"Mara Lindqvist"`` →
    ``"mara-lindqvist"``; ``""`` for a name with no letter or digit."""
    return slugify(name) if re.search(r"[A-Za-z0-9]", _ascii(name)) else ""


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def parse_tiers(value: str | Iterable[str]) -> list[str]:
    """Tier names from ``"standard, premium"`` or a list, trimmed and de-duplicated."""
    items = value.split(",") if isinstance(value, str) else value
    seen: list[str] = []
    for item in (str(i).strip().lower() for i in items):
        if item and item not in seen:
            seen.append(item)
    return seen


def plan_tiers() -> list[str]:
    """The tiers of the publisher's plans (on sale or not), the only ones an article names."""
    return sorted({plan.tier for plan in all_plans(db.session)})


def save_article(
    article: Article | None,
    *,
    title: str,
    body_source: str,
    access_level: str,
    slug: str = "",
    author: str = "",
    section: str = "",
    dek: str = "",
    tiers: str | Iterable[str] = "",
    body_format: str = "markdown",
    teaser_paragraphs: int | None = None,
    published_at: datetime | None = None,
) -> Article:
    """Create (``article`` None) or update an article, rendering its teaser and full HTML.

    Raises :class:`ArticleError` for input that cannot be saved; nothing is written then.
    """
    title = title.strip()
    if not title:
        raise ArticleError("title", "An article needs a title.")
    try:
        level = AccessLevel(access_level)
    except ValueError as exc:
        raise ArticleError("access_level", f"Unknown access level {access_level!r}.") from exc
    tier_list = parse_tiers(tiers) if level is AccessLevel.TIERS else []
    if level is AccessLevel.TIERS and not tier_list:
        raise ArticleError("tiers", "Name at least one plan tier for a tier-only article.")
    unknown = [tier for tier in tier_list if tier not in plan_tiers()]
    if unknown:
        known = ", ".join(plan_tiers()) or "none yet: add a plan first"
        raise ArticleError(
            "tiers", f"No plan has the tier {unknown[0]!r}. The plans' tiers: {known}."
        )
    if body_format not in ("markdown", "html"):
        raise ArticleError("body_format", "The body format must be markdown or html.")
    if teaser_paragraphs is not None and teaser_paragraphs < 0:
        raise ArticleError("teaser_paragraphs", "The teaser length cannot be negative.")
    section = " ".join(section.split())
    if len(section) > SECTION_MAX_CHARS:
        raise ArticleError("section", f"A section name has at most {SECTION_MAX_CHARS} characters.")
    if section and not name_slug(section):
        raise ArticleError("section", "A section name needs a letter or a digit.")

    wanted_slug = slugify(slug) if slug.strip() else slugify(title)
    taken = db.session.scalar(
        select(Article.id).where(Article.slug == wanted_slug, Article.id != _id_of(article))
    )
    if taken is not None:
        if slug.strip():
            raise ArticleError("slug", f"Another article already uses the address {wanted_slug!r}.")
        wanted_slug = _unique_slug(wanted_slug)

    paragraphs = (
        teaser_paragraphs
        if teaser_paragraphs is not None
        else current_app.config["TEASER_PARAGRAPHS"]
    )
    rendered = render_body(body_source, body_format, paragraphs)
    if article is None:
        article = Article()
        db.session.add(article)
    article.title = title
    article.slug = wanted_slug
    article.author = author.strip()
    article.author_slug = name_slug(article.author)
    article.section = section
    article.section_slug = name_slug(section)
    article.dek = dek.strip()
    article.access_level = level.value
    article.tiers = ",".join(tier_list)
    article.body_source = body_source
    article.body_format = body_format
    article.teaser_paragraphs = teaser_paragraphs
    article.published_at = published_at
    article.teaser_html = rendered.teaser_html
    article.full_html = rendered.full_html
    db.session.commit()
    return article


def _id_of(article: Article | None) -> int:
    return article.id if article is not None else -1


def _unique_slug(base: str) -> str:
    existing = set(db.session.scalars(select(Article.slug).where(Article.slug.like(f"{base}%"))))
    number = 2
    while f"{base}-{number}" in existing:
        number += 1
    return f"{base}-{number}"


def published_articles(now: datetime | None = None) -> Select[tuple[Article]]:
    """Published articles, newest first."""
    moment = now or utcnow()
    return (
        select(Article)
        .where(Article.published_at.is_not(None), Article.published_at <= moment)
        .order_by(Article.published_at.desc(), Article.id.desc())
    )


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """An article as a list shows it: never its body."""

    id: int
    slug: str
    title: str
    author: str
    dek: str
    published_at: datetime | None
    access_level: str
    tiers: str
    author_slug: str
    section: str
    section_slug: str


_SUMMARY_COLUMNS = tuple(getattr(Article, f.name) for f in fields(ArticleSummary))
_FRONT_PAGE_ORDER = (Article.published_at, Article.id)


def front_page(
    *, staff: bool, older: str | None = None, newer: str | None = None
) -> Page[ArticleSummary]:
    """A page of the front page, newest first; staff also see scheduled articles.

    Raises :class:`~paywall.pagination.BadCursor` for a cursor this app did not make.
    """
    query = select(*_SUMMARY_COLUMNS).where(Article.published_at.is_not(None))
    if not staff:
        query = query.where(Article.published_at <= utcnow())
    return _newest_first(query, older, newer)


def section_page(
    slug: str, *, older: str | None = None, newer: str | None = None
) -> Page[ArticleSummary]:
    """A page of the published articles of the section at ``slug``, newest first.

    Raises :class:`~paywall.pagination.BadCursor` for a cursor this app did not make.
    """
    return _newest_first(_published_summaries(Article.section_slug == slug), older, newer)


def author_page(
    slug: str, *, older: str | None = None, newer: str | None = None
) -> Page[ArticleSummary]:
    """A page of the published articles by the author at ``slug``, newest first.

    Raises :class:`~paywall.pagination.BadCursor` for a cursor this app did not make.
    """
    return _newest_first(_published_summaries(Article.author_slug == slug), older, newer)


def _published_summaries(where: ColumnElement[bool]) -> Select[Any]:
    return select(*_SUMMARY_COLUMNS).where(
        where, Article.published_at.is_not(None), Article.published_at <= utcnow()
    )


def _newest_first(query: Select[Any], older: str | None, newer: str | None) -> Page[ArticleSummary]:
    return seek_page(
        db.session,
        query,
        _FRONT_PAGE_ORDER,
        older=older,
        newer=newer,
        shape=(datetime, int),
        item=lambda row: ArticleSummary(*row),
        key=lambda summary: (summary.published_at, summary.id),
    )


def newest_drafts(limit: int = PAGE_SIZE) -> tuple[list[ArticleSummary], int]:
    """The newest drafts (for the editor's front page) and how many drafts there are."""
    drafts = Article.published_at.is_(None)
    rows = db.session.execute(
        select(*_SUMMARY_COLUMNS).where(drafts).order_by(Article.id.desc()).limit(limit)
    )
    total = db.session.scalar(select(func.count()).select_from(Article).where(drafts))
    return [ArticleSummary(*row) for row in rows], int(total or 0)


def find_article(slug: str, *, include_unpublished: bool) -> Article | None:
    """The article at ``slug`` for editing; drafts only when ``include_unpublished``."""
    query = select(Article).where(Article.slug == slug)
    if not include_unpublished:
        query = query.where(Article.published_at.is_not(None), Article.published_at <= utcnow())
    return db.session.scalar(query)


@dataclass(frozen=True, slots=True)
class ArticlePage(ArticleSummary):
    """What the article page needs: one row, no ORM identity (the reading path is hot)."""

    teaser_html: str
    full_html: str

    @property
    def access(self) -> ArticleAccess:
        return access_of(self.access_level, self.tiers)

    def is_published(self, now: datetime) -> bool:
        return self.published_at is not None and self.published_at <= now

    def size(self) -> int:
        """About the bytes it holds (the text, mostly ASCII)."""
        texts = (self.teaser_html, self.full_html, self.title, self.dek, self.slug, self.author)
        return sum(len(text) for text in texts) + 512


_PAGE_BY_SLUG = select(*(getattr(Article, f.name) for f in fields(ArticlePage))).where(
    Article.slug == bindparam("slug")
)
PAGE_CACHE = "paywall.article_pages"


def find_page(slug: str, *, include_unpublished: bool) -> ArticlePage | None:
    """The article page at ``slug``; drafts and scheduled ones only for staff.

    Kept per worker until any article changes (:mod:`paywall.invalidation`).
    """
    pages: FreshCache[str, ArticlePage] = page_cache(PAGE_CACHE, (ARTICLES,), ArticlePage.size)
    page = pages.fetch(slug, lambda: _read_page(slug))
    if page is None:
        return None
    return page if include_unpublished or page.is_published(utcnow()) else None


def _read_page(slug: str) -> ArticlePage | None:
    row = reads().execute(_PAGE_BY_SLUG, {"slug": slug}).first()
    return ArticlePage(*row) if row is not None else None

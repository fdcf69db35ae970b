"""Articles a publisher's CMS manages through the content API, by its own ids.

Saving goes through :func:`paywall.articles.service.save_article`, so an article from a
CMS is sanitised, split at its teaser boundary and pre-rendered exactly like one an
editor writes. This module only maps the site's ids to article rows.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from billing import utcnow
from paywall.articles.models import Article
from paywall.articles.service import ArticleError, ArticlePage, save_article
from paywall.caching import FreshCache, page_cache
from paywall.database import reads
from paywall.embed.errors import ApiError, unknown_article
from paywall.embed.models import SiteArticle
from paywall.embed.schemas import ArticleInput
from paywall.embed.sites import SiteRecord
from paywall.extensions import db
from paywall.invalidation import ARTICLES
from paywall.pagination import encode_cursor, seek_page

PAGE_CACHE = "paywall.embed_article_pages"


def find_site_article(site: SiteRecord, external_id: str) -> tuple[SiteArticle, Article] | None:
    """The site's article with this id, with its article row."""
    row = db.session.execute(
        select(SiteArticle, Article)
        .join(Article, Article.id == SiteArticle.article_id)
        .where(SiteArticle.site_id == site.id, SiteArticle.external_id == external_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def put_article(site: SiteRecord, external_id: str, given: ArticleInput) -> tuple[dict, bool]:
    """Create or update the site's article ``external_id``; returns it and whether it is new."""
    found = find_site_article(site, external_id)
    created = found is None
    article = found[1] if found else None
    try:
        saved = save_article(
            article,
            title=given.title,
            body_source=given.body_html,
            body_format="html",
            access_level=given.access,
            tiers=given.tiers,
            slug=article.slug if article else "",
            author=given.author,
            section=given.section,
            dek=given.dek,
            teaser_paragraphs=given.teaser_paragraphs,
            published_at=given.published_at or (article.published_at if article else utcnow()),
        )
    except ArticleError as error:
        db.session.rollback()
        raise ApiError(422, "invalid_article", error.message, error.field) from error
    if found is None:
        link = SiteArticle(
            site_id=site.id,
            external_id=external_id,
            article_id=saved.id,
            canonical_url=given.canonical_url,
        )
        db.session.add(link)
        try:
            db.session.commit()
        except IntegrityError:  # the same id was created by a simultaneous call
            db.session.rollback()
            db.session.execute(delete(Article).where(Article.id == saved.id))
            db.session.commit()
            return put_article(site, external_id, given)
    else:
        link = found[0]
        link.canonical_url = given.canonical_url
        link.updated_at = utcnow()
        db.session.commit()
    return article_json(link, saved), created


def delete_article(site: SiteRecord, external_id: str) -> None:
    """Remove the site's article (and its row in the articles table)."""
    found = find_site_article(site, external_id)
    if found is None:
        raise unknown_article()
    link, article = found
    # Core deletes in this order: the link first, whatever the database does on cascade.
    db.session.execute(delete(SiteArticle).where(SiteArticle.id == link.id))
    db.session.execute(delete(Article).where(Article.id == article.id))
    db.session.commit()


def list_articles(
    site: SiteRecord, limit: int, older_than: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the site's articles, newest first, and the cursor of the next page.

    The cursor is the position of the page's last article (None after the last page):
    pass it back as ``older_than``.
    """
    query = (
        select(SiteArticle.id, SiteArticle, Article)
        .join(Article, Article.id == SiteArticle.article_id)
        .where(SiteArticle.site_id == site.id)
    )
    page = seek_page(
        db.session,
        query,
        (SiteArticle.id,),
        older=encode_cursor((older_than,)) if older_than is not None else None,
        newer=None,
        shape=(int,),
        item=lambda row: (row[0], article_json(row[1], row[2])),
        key=lambda item: (item[0],),
        size=limit,
    )
    next_cursor = page.items[-1][0] if page.older is not None else None
    return [body for _, body in page.items], next_cursor


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def article_json(link: SiteArticle, article: Article) -> dict[str, Any]:
    """The API's view of an article (the publisher's own: full body included)."""
    return {
        "id": link.external_id,
        "title": article.title,
        "author": article.author,
        "section": article.section,
        "dek": article.dek,
        "access": article.access_level,
        "tiers": [t for t in article.tiers.split(",") if t],
        "canonical_url": link.canonical_url,
        "teaser_paragraphs": article.teaser_paragraphs,
        "teaser_html": article.teaser_html,
        "full_html": article.full_html,
        "published_at": _iso(article.published_at),
        "updated_at": _iso(link.updated_at),
    }


# --- the reading path ------------------------------------------------------------------

_PAGE_BY_EXTERNAL_ID = (
    select(*(getattr(Article, f.name) for f in fields(ArticlePage)))
    .join(SiteArticle, SiteArticle.article_id == Article.id)
    .where(
        SiteArticle.site_id == bindparam("site_id"),
        SiteArticle.external_id == bindparam("external_id"),
    )
)


def find_published_page(site_id: int, external_id: str) -> ArticlePage | None:
    """The published article ``external_id`` of the site, as the reading path needs it.

    Kept per worker until any article changes (:mod:`paywall.invalidation`).
    """
    pages: FreshCache[tuple[int, str], ArticlePage] = page_cache(
        PAGE_CACHE, (ARTICLES,), ArticlePage.size
    )
    page = pages.fetch((site_id, external_id), lambda: _read_page(site_id, external_id))
    return page if page is not None and page.is_published(utcnow()) else None


def _read_page(site_id: int, external_id: str) -> ArticlePage | None:
    params = {"site_id": site_id, "external_id": external_id}
    row = reads().execute(_PAGE_BY_EXTERNAL_ID, params).first()
    return ArticlePage(*row) if row is not None else None

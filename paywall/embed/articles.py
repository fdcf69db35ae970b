"""Articles a publisher's CMS manages through the content API, by its own ids.

Saving goes through :func:`paywall.articles.service.save_article`, so an article from a
CMS is sanitised, split at its teaser boundary and pre-rendered exactly like one an
editor writes. This module only maps the site's ids to article rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from billing.orm import utcnow
from paywall.articles.models import Article
from paywall.articles.service import ArticleError, ArticlePage, save_article
from paywall.caching import FreshCache, cache
from paywall.embed.errors import ApiError, invalid_request, unknown_article
from paywall.embed.models import SiteArticle
from paywall.embed.sites import SiteRecord
from paywall.extensions import db
from paywall.invalidation import ARTICLES

EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,199}")
TIER = re.compile(r"[A-Za-z0-9_-]{1,40}")
MAX_TIERS = 20
# Written to mean the same in Python and in the OpenAPI document's (ECMAScript) patterns.
CANONICAL_URL = re.compile(r"https?://[^\x00-\x20\x7f-\xa0/]+[^\x00]*")
ACCESS_LEVELS = ("free", "registered", "paid", "tiers")
PAGE_CACHE = "paywall.embed_article_pages"


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """A validated ``PUT /api/v1/articles/{id}`` body."""

    title: str
    body_html: str
    access: str = "paid"
    tiers: tuple[str, ...] = ()
    teaser_paragraphs: int | None = None
    canonical_url: str = ""
    author: str = ""
    dek: str = ""
    published_at: datetime | None = None


def check_external_id(external_id: str) -> str:
    """``external_id`` if it is a usable id (letters, digits and ``._~-``, 200 at most)."""
    if not EXTERNAL_ID.fullmatch(external_id):
        raise invalid_request(
            "Article ids are 1-200 letters, digits, '.', '_', '~' or '-'.", "external_id"
        )
    return external_id


def _text(body: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid_request(f"{name} must be a string.", name)
    if not _storable(value):
        raise invalid_request(f"{name} must be UTF-8 text without NUL characters.", name)
    if required and not value.strip():
        raise invalid_request(f"{name} is required.", name)
    if len(value) > limit:
        raise invalid_request(f"{name} is longer than {limit} characters.", name)
    return value


def _storable(value: str) -> bool:
    """Text every database can keep: valid UTF-8 (no lone surrogates) and no NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def parse_article_input(body: object) -> ArticleInput:
    """Validate a JSON body; raises :class:`ApiError` (``invalid_request``) naming the field."""
    if not isinstance(body, dict):
        raise invalid_request("Send a JSON object.")
    access = body.get("access", "paid")
    if access not in ACCESS_LEVELS:
        raise invalid_request(f"access must be one of {', '.join(ACCESS_LEVELS)}.", "access")
    tiers = body.get("tiers", [])
    if not isinstance(tiers, list) or not all(
        isinstance(t, str) and TIER.fullmatch(t) for t in tiers
    ):
        raise invalid_request("tiers must be a list of plan tier names.", "tiers")
    if len(tiers) > MAX_TIERS:
        raise invalid_request(f"Name at most {MAX_TIERS} plan tiers.", "tiers")
    if access == "tiers" and not tiers:
        raise invalid_request("Name at least one plan tier for a tier-only article.", "tiers")
    paragraphs = body.get("teaser_paragraphs")
    if paragraphs is not None and (
        isinstance(paragraphs, bool) or not isinstance(paragraphs, int) or not 0 <= paragraphs <= 50
    ):
        raise invalid_request("teaser_paragraphs must be a whole number 0-50.", "teaser_paragraphs")
    canonical = _text(body, "canonical_url", 2000)
    if canonical and not CANONICAL_URL.fullmatch(canonical):
        raise invalid_request("canonical_url must be an http(s) URL.", "canonical_url")
    return ArticleInput(
        title=_text(body, "title", 300, required=True),
        body_html=_text(body, "body_html", 1_000_000, required=True),
        access=access,
        tiers=tuple(tiers),
        teaser_paragraphs=paragraphs,
        canonical_url=canonical,
        author=_text(body, "author", 200),
        dek=_text(body, "dek", 500),
        published_at=_published_at(body.get("published_at")),
    )


def _published_at(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request("published_at must be an ISO 8601 date-time.", "published_at")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_request(
            "published_at must be an ISO 8601 date-time.", "published_at"
        ) from exc
    if moment.tzinfo is None:
        raise invalid_request("published_at needs a time zone, e.g. 'Z'.", "published_at")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise invalid_request("published_at is out of range.", "published_at") from exc


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
    check_external_id(external_id)
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


def list_articles(site: SiteRecord, limit: int, after: int) -> tuple[list[dict], int | None]:
    """A page of the site's articles in the order they were created, after cursor ``after``."""
    rows = db.session.execute(
        select(SiteArticle, Article)
        .join(Article, Article.id == SiteArticle.article_id)
        .where(SiteArticle.site_id == site.id, SiteArticle.id > after)
        .order_by(SiteArticle.id)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    next_cursor = page[-1][0].id if len(rows) > limit else None
    return [article_json(link, article) for link, article in page], next_cursor


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def article_json(link: SiteArticle, article: Article) -> dict[str, Any]:
    """The API's view of an article (the publisher's own: full body included)."""
    return {
        "id": link.external_id,
        "title": article.title,
        "author": article.author,
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
    pages: FreshCache[tuple[int, str], ArticlePage] = cache(PAGE_CACHE, (ARTICLES,), 4096)
    page = pages.fetch((site_id, external_id), lambda: _read_page(site_id, external_id))
    return page if page is not None and page.is_published(utcnow()) else None


def _read_page(site_id: int, external_id: str) -> ArticlePage | None:
    params = {"site_id": site_id, "external_id": external_id}
    row = db.session.connection().execute(_PAGE_BY_EXTERNAL_ID, params).first()
    return ArticlePage(*row) if row is not None else None

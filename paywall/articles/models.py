"""Articles and the meter of free views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing import Base, utcnow
from paywall.access import AccessLevel, ArticleAccess


class Article(Base):
    """A published (or draft) article with its pre-rendered teaser and full HTML."""

    __tablename__ = "articles"
    # The front page seeks by (published_at, id), newest first; a section's and an
    # author's list by the same within their slug.
    __table_args__ = (
        Index("ix_articles_published_at_id", "published_at", "id"),
        Index("ix_articles_section_slug_published_at_id", "section_slug", "published_at", "id"),
        Index("ix_articles_author_slug_published_at_id", "author_slug", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200), default="")
    # The address of the author's list (``/authors/<author_slug>``), made from the name.
    author_slug: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The part of the paper it belongs to ("Politics"), and its list's address.
    section: Mapped[str] = mapped_column(String(80), default="", server_default="")
    section_slug: Mapped[str] = mapped_column(String(80), default="", server_default="")
    dek: Mapped[str] = mapped_column(String(500), default="")
    # None: a draft, visible to staff only.
    published_at: Mapped[datetime | None]
    access_level: Mapped[str] = mapped_column(String(16), default=AccessLevel.PAID)
    # Plan tiers, comma-separated; read only when access_level is "tiers".
    tiers: Mapped[str] = mapped_column(Text, default="")
    # What the editor wrote (Markdown or HTML), kept to re-render on edit.
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_format: Mapped[str] = mapped_column(String(16), default="markdown")
    # Teaser boundary when the body has no explicit marker (None: the site setting).
    teaser_paragraphs: Mapped[int | None]
    # Rendered and sanitised once on save; a gated response only ever carries teaser_html.
    teaser_html: Mapped[str] = mapped_column(Text, default="")
    full_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def access(self) -> ArticleAccess:
        """The access level as the decision reads it."""
        return access_of(self.access_level, self.tiers)

    def __repr__(self) -> str:
        return f"<Article {self.slug}>"


def access_of(access_level: str, tiers: str) -> ArticleAccess:
    """The decision's view of a stored access level and comma-separated tiers."""
    names = frozenset(t for t in (s.strip() for s in tiers.split(",")) if t)
    return ArticleAccess(AccessLevel(access_level), names)


class MeterView(Base):
    """One paid article a signed-in reader opened on the meter in one calendar month."""

    __tablename__ = "meter_views"
    __table_args__ = (UniqueConstraint("reader_id", "period", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # "2026-11"
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)

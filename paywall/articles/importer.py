"""Load Markdown files with YAML front matter as articles (``paywall import-articles``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import frontmatter
from sqlalchemy import select

from paywall.access import AccessLevel
from paywall.articles.models import Article
from paywall.articles.service import ArticleError, save_article, slugify
from paywall.extensions import db


@dataclass
class ImportReport:
    """Slugs created and updated, and ``(file name, reason)`` for files skipped."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def import_directory(path: Path) -> ImportReport:
    """Import every ``*.md`` file in ``path``; an existing slug is updated in place."""
    report = ImportReport()
    for file in sorted(path.glob("*.md")):
        try:
            slug, created = import_file(file)
        except (ArticleError, ValueError, TypeError) as exc:
            db.session.rollback()
            report.errors.append((file.name, str(exc)))
            continue
        (report.created if created else report.updated).append(slug)
    return report


def import_file(file: Path) -> tuple[str, bool]:
    """Import one file; returns its slug and whether it was new."""
    try:
        post = frontmatter.load(file)
    except Exception as exc:  # YAML errors come in many types; all mean the same here
        raise ValueError(f"front matter could not be read ({exc})") from exc
    meta: dict[str, Any] = dict(post.metadata)
    title = str(meta.get("title") or "").strip()
    if not title:
        raise ValueError("front matter has no title")
    slug = slugify(str(meta.get("slug") or title))
    level, tiers = _access(meta.get("access", "paid"))
    existing = db.session.scalar(select(Article).where(Article.slug == slug))
    save_article(
        existing,
        title=title,
        slug=slug,
        author=str(meta.get("author") or ""),
        section=str(meta.get("section") or ""),
        dek=str(meta.get("dek") or ""),
        access_level=level,
        tiers=tiers,
        body_source=post.content,
        body_format=str(meta.get("format") or "markdown"),
        teaser_paragraphs=_optional_int(meta.get("teaser_paragraphs")),
        published_at=_published(meta.get("published")),
    )
    return slug, existing is None


def _access(value: Any) -> tuple[str, list[str]]:
    if isinstance(value, list):
        return AccessLevel.TIERS.value, [str(v) for v in value]
    text = str(value).strip().lower()
    if text not in {level.value for level in AccessLevel} or text == AccessLevel.TIERS:
        raise ValueError(f"access must be free, registered, paid or a list of tiers, not {value!r}")
    return text, []


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"teaser_paragraphs must be a whole number, not {value!r}")
    return int(value)


def _published(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"published must be a date or date-time, not {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

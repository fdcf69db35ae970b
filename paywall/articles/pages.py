"""The article page: the article's text, cached for every reader, in the reader's frame.

The cached part is rendered by :func:`article_text` in an environment of its own that
holds no request, session, signed-in reader or CSRF token (an undefined name is an
error there), from the article's content alone, and is kept per article version and
"teaser or full text". So nothing of a particular reader can be in it. The frame around
it (masthead, flashed messages, notices, gate, staff links) is ``articles/article.html``,
rendered for each request like any page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC

from flask import current_app, render_template, url_for
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from paywall.access import Decision
from paywall.accounts.models import SessionReader
from paywall.articles.service import ArticlePage
from paywall.caching import FreshCache, cache
from paywall.gate import present

GATED_SELECTOR = ".paywalled-content"
TEXT_CACHE, TEXT_ENTRIES = "paywall.article_texts", 4096
TEXT_ENVIRONMENT = "paywall.article_text_environment"


@dataclass(frozen=True, slots=True)
class ArticleText:
    """The reader-free parts of an article page, as HTML: header, text and JSON-LD."""

    header: Markup
    body: Markup
    json_ld: str


def article_page(page: ArticlePage, decision: Decision, reader: SessionReader | None) -> str:
    """The whole page for the reader of this request."""
    text = article_text(page, full=decision.is_full)
    return render_template(
        "articles/article.html",
        article=page,
        text=text,
        gate=present(decision, return_to=url_for("articles.article", slug=page.slug)),
        staff=bool(reader and reader.is_staff),
    )


def article_text(page: ArticlePage, *, full: bool) -> ArticleText:
    """The article's text (full, or the teaser), kept per worker and article version."""
    texts: FreshCache[tuple[ArticlePage, bool], ArticleText] = cache(TEXT_CACHE, (), TEXT_ENTRIES)
    # With template auto-reload (development), a template edit must show at once.
    if current_app.jinja_env.auto_reload:
        return render_text(page, full=full)
    found = texts.fetch((page, full), lambda: render_text(page, full=full))
    assert found is not None
    return found


def render_text(page: ArticlePage, *, full: bool) -> ArticleText:
    """Render the macros of ``articles/_text.html`` from the article alone, uncached."""
    parts = _text_environment().get_template("articles/_text.html").module
    body_html = page.full_html if full else page.teaser_html
    return ArticleText(
        header=parts.header(page),  # type: ignore[attr-defined]  (macros give Markup)
        body=parts.body(body_html, full),  # type: ignore[attr-defined]
        json_ld=json_ld(page, is_full_text=full),
    )


def _text_environment() -> Environment:
    """Templates for the reader-free part: the app's templates, none of its globals."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found: Environment | None = app.extensions.get(TEXT_ENVIRONMENT)
    if found is None or app.jinja_env.auto_reload:
        found = Environment(
            loader=app.jinja_env.loader,
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=app.jinja_env.auto_reload,
        )
        app.extensions[TEXT_ENVIRONMENT] = found
    return found


def json_ld(article: ArticlePage, *, is_full_text: bool) -> str:
    """schema.org NewsArticle metadata; gated pages declare which part is gated."""
    free = article.access.level.value == "free"
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.dek,
        "isAccessibleForFree": free,
    }
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author}
    if article.published_at:
        data["datePublished"] = article.published_at.astimezone(UTC).isoformat()
    if not free:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": GATED_SELECTOR,
        }
    # Escape "<" so the JSON can never close its <script> element.
    return json.dumps(data).replace("<", "\\u003c")

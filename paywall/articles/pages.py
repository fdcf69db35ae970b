"""The article page: a shell that cannot hold anything of a reader, and the reader's parts.

The shell (``articles/article.html``: the page with the article, its gate and JSON-LD)
is rendered in the reader-free environment (``paywall.templating``: no request, session,
signed-in reader, CSRF token or ``url_for``), from the article, the decision's reason
and buttons and the site's name and links alone, and is kept per worker by exactly
those. Three holes in it take what belongs to the reader of each request: the masthead
(``paywall.masthead``, kept by its own values), flashed messages (``_flashes.html``) and
the staff link and notices (``articles/_reader.html``, a notice may name the reader's
card; they come from ``paywall.notices``), both rendered every time with the app's
templates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC

from flask import current_app, get_flashed_messages, render_template, url_for
from markupsafe import Markup

from paywall.access import Decision
from paywall.accounts.models import SessionReader
from paywall.articles.service import ArticlePage
from paywall.caching import FreshCache, page_cache
from paywall.gate import Gate, present
from paywall.masthead import masthead
from paywall.notices import article_notices
from paywall.templating import render_reader_free

# What ``hasPart.cssSelector`` names: the gated text on a full page; on a teaser page,
# where that text is not sent, the gate that stands in its place.
GATED_SELECTOR = ".paywalled-content"
GATE_SELECTOR = "#paywall-gate"
SHELL_CACHE = "paywall.article_shells"
HOLES = {
    "masthead": Markup("<!--paywall:masthead-->"),
    "flashes": Markup("<!--paywall:flashes-->"),
    "reader": Markup("<!--paywall:reader-->"),
}


@dataclass(frozen=True, slots=True)
class Shell:
    """A rendered article page cut at its three holes."""

    parts: tuple[str, str, str, str]

    def size(self) -> int:
        """About the bytes it holds (the text, mostly ASCII)."""
        return sum(len(part) for part in self.parts) + 256

    def fill(self, masthead: str, flashes: str, reader: str) -> str:
        first, second, third, rest = self.parts
        return "".join((first, masthead, second, flashes, third, reader, rest))


def article_page(page: ArticlePage, decision: Decision, reader: SessionReader | None) -> str:
    """The whole page for the reader of this request."""
    return_to = url_for("articles.article", slug=page.slug)
    shell = article_shell(page, decision, return_to)
    flashes = render_template("_flashes.html") if get_flashed_messages() else ""
    staff = bool(reader and reader.is_staff)
    paid = page.access.level.value == "paid"
    notices = article_notices(decision, return_to, paid_article=paid) if reader is not None else ()
    own = ""
    if staff or notices:
        own = render_template("articles/_reader.html", article=page, notices=notices, staff=staff)
    return shell.fill(masthead(), flashes, own)


def article_shell(page: ArticlePage, decision: Decision, return_to: str) -> Shell:
    """The shell for the article and the decision's reason and buttons, kept per worker."""
    key = (page, decision.reason, decision.actions)
    # With template auto-reload (development), a template edit must show at once.
    if current_app.jinja_env.auto_reload:
        return render_shell(page, decision, return_to)
    shells: FreshCache[tuple[object, ...], Shell] = page_cache(SHELL_CACHE, (), Shell.size)
    found = shells.fetch(key, lambda: render_shell(page, decision, return_to))
    assert found is not None
    return found


def render_shell(page: ArticlePage, decision: Decision, return_to: str) -> Shell:
    """Render the shell in the reader-free environment, uncached."""
    gate: Gate = present(Decision(decision.reason, decision.actions), return_to)
    html = render_reader_free(
        "articles/article.html",
        article=page,
        gate=gate,
        body_html=page.full_html if decision.is_full else page.teaser_html,
        json_ld=json_ld(page, is_full_text=decision.is_full),
        holes=HOLES,
    )
    first, rest = _cut(html, HOLES["masthead"])
    second, rest = _cut(rest, HOLES["flashes"])
    third, rest = _cut(rest, HOLES["reader"])
    return Shell((first, second, third, rest))


def _cut(html: str, hole: str) -> tuple[str, str]:
    # The holes come before the article's own text and everything ahead of them is
    # escaped, so the first occurrence is the hole itself.
    before, found, after = html.partition(hole)
    if not found:
        raise RuntimeError(f"articles/article.html has no {hole} hole")
    return before, after


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
            "cssSelector": GATED_SELECTOR if is_full_text else GATE_SELECTOR,
        }
    # Escape "<" so the JSON can never close its <script> element.
    return json.dumps(data).replace("<", "\\u003c")

"""The article page: a shell shared by every reader with the same decision, plus the
reader's own masthead and messages.

All of the page but the masthead (who is signed in, the sign-out form's CSRF token) and
flashed messages depends only on the article version, the decision and whether the
reader is staff. Each worker renders that once, as a shell with two holes
(``articles/article.html``), and fills the holes on each request. The cache key holds
the article's whole content, so an edited article is a new key, never a stale page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

from flask import current_app, get_flashed_messages, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from paywall.access import Decision
from paywall.accounts.models import SessionReader
from paywall.articles.service import ArticlePage
from paywall.extensions import LocalCache, local_cache
from paywall.gate import present

GATED_SELECTOR = ".paywalled-content"
HOLES = {
    "masthead": Markup("<!--paywall:masthead-->"),
    "flashes": Markup("<!--paywall:flashes-->"),
}
SHELLS, SHELL_ENTRIES = "paywall.article_shells", 2048
MASTHEADS, MASTHEAD_ENTRIES = "paywall.mastheads", 10_000
CACHE_SECONDS = 600  # each key holds everything its page shows: this only bounds memory
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Shell:
    """A rendered article page cut at its two holes."""

    before_masthead: str
    before_flashes: str
    rest: str

    def fill(self, masthead: str, flashes: str) -> str:
        return "".join((self.before_masthead, masthead, self.before_flashes, flashes, self.rest))


def article_page(page: ArticlePage, decision: Decision, reader: SessionReader | None) -> str:
    """The whole page for the reader of this request."""
    staff = bool(reader and reader.is_staff)
    key = (page, decision, staff)
    shell = _kept(SHELLS, SHELL_ENTRIES, key, lambda: render_shell(page, decision, staff))
    flashes = render_template("_flashes.html") if get_flashed_messages() else ""
    return shell.fill(masthead(reader), flashes)


def masthead(reader: SessionReader | None) -> str:
    """The masthead for this request's reader, rendered once per worker and reader state.

    ``_masthead.html`` shows a signed-in reader's email, staff links and sign-out form
    (with the session's CSRF token), and otherwise a sign-in link back to this page:
    exactly what the key holds, so a reader only ever gets their own session's masthead.
    """
    if reader is None:
        key: tuple[object, ...] = (request.path,)
    else:
        generate_csrf()  # gives the session its form secret if it has none yet
        secret = session[current_app.config["WTF_CSRF_FIELD_NAME"]]
        key = (reader.id, reader.email, reader.is_staff, secret)
    return _kept(MASTHEADS, MASTHEAD_ENTRIES, key, lambda: render_template("_masthead.html"))


def _kept(name: str, entries: int, key: Hashable, render: Callable[[], T]) -> T:
    # With template auto-reload (development), a template edit must show at once.
    if current_app.jinja_env.auto_reload:
        return render()
    rendered: LocalCache[Hashable, T] = local_cache(name, CACHE_SECONDS, entries)
    return rendered.fetch(key, render)


def render_shell(page: ArticlePage, decision: Decision, staff: bool) -> Shell:
    """Render the article (full text, or teaser and gate) around the two holes, uncached."""
    html = render_template(
        "articles/article.html",
        article=page,
        gate=present(decision, return_to=url_for("articles.article", slug=page.slug)),
        body_html=page.full_html if decision.is_full else page.teaser_html,
        json_ld=json_ld(page, is_full_text=decision.is_full),
        staff=staff,
        holes=HOLES,
    )
    before_masthead, rest = _cut(html, HOLES["masthead"])
    before_flashes, rest = _cut(rest, HOLES["flashes"])
    return Shell(before_masthead, before_flashes, rest)


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
            "cssSelector": GATED_SELECTOR,
        }
    # Escape "<" so the JSON can never close its <script> element.
    return json.dumps(data).replace("<", "\\u003c")

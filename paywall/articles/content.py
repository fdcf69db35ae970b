"""Article bodies: Markdown or HTML in, sanitised teaser and full HTML out.

Pure functions, run once when an article is saved, never on the reading path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

# `<!-- more -->` (any spacing) on its own marks the end of the teaser.
TEASER_MARKER = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)
_MARKER_SENTINEL = "<hr data-teaser-boundary>"

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "a", "em", "strong", "b", "i", "u", "s", "sub", "sup",
    "blockquote", "q", "cite", "ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption",
    "img", "code", "pre", "hr", "br", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "abbr", "mark", "small", "span", "div",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "hr": {"data-teaser-boundary"},
}
VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "col"}

_markdown = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """The sanitised HTML a reader with access sees, and the part anyone may see."""

    teaser_html: str
    full_html: str


def sanitise(html: str) -> str:
    """Strip everything but article markup: no scripts, styles, handlers or odd URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def to_html(source: str, body_format: str) -> str:
    """Render ``source`` (``markdown`` or ``html``) to unsanitised HTML, marker kept."""
    marked = TEASER_MARKER.sub(f"\n\n{_MARKER_SENTINEL}\n\n", source)
    return _markdown.render(marked) if body_format == "markdown" else marked


class _TopLevelBlocks(HTMLParser):
    """Cuts sanitised HTML into its top-level elements, so a split never lands inside one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[str] = []
        self._depth = 0
        self._start = 0
        self._offsets: list[int] = []

    def split(self, html: str) -> list[str]:
        line_starts = [0]
        for line in html.splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(line))
        self._offsets = line_starts
        self._html = html
        self.feed(html)
        self.close()
        tail = html[self._start :].strip()
        if tail:
            self.blocks.append(tail)
        return [b for b in self.blocks if b]

    def _pos(self) -> int:
        line, col = self.getpos()
        return self._offsets[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth == 0:
            loose = self._html[self._start : self._pos()].strip()
            if loose:
                self.blocks.append(loose)
            self._start = self._pos()
        if tag in VOID_TAGS:
            if self._depth == 0:
                self._close_block()
            return
        self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth == 0:
            self._start = self._pos()
            self._close_block()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0:
            self._close_block()

    def _close_block(self) -> None:
        end = self._html.index(">", self._pos()) + 1
        self.blocks.append(self._html[self._start : end].strip())
        self._start = end


def split_blocks(html: str) -> list[str]:
    """Top-level elements of ``html``, in order."""
    return _TopLevelBlocks().split(html)


def _is_marker(block: str) -> bool:
    return block.startswith("<hr") and "data-teaser-boundary" in block


def _is_paragraph(block: str) -> bool:
    return block.startswith("<p")


def render_body(source: str, body_format: str, teaser_paragraphs: int) -> RenderedBody:
    """Render, sanitise and split an article body.

    The teaser ends at an explicit ``<!-- more -->`` marker, else after
    ``teaser_paragraphs`` paragraphs. Something is always held back: when the body has
    no more paragraphs than that, the teaser is its first paragraph, and a body of a
    single paragraph has an empty teaser (the gate shows the dek instead).
    """
    blocks = split_blocks(sanitise(to_html(source, body_format)))
    marker_at = next((i for i, b in enumerate(blocks) if _is_marker(b)), None)
    content = [b for b in blocks if not _is_marker(b)]
    if marker_at is not None:
        cut = len([b for b in blocks[:marker_at] if not _is_marker(b)])
    else:
        cut = _cut_after_paragraphs(content, max(teaser_paragraphs, 0))
    if cut >= len(content) and content:
        cut = _cut_after_paragraphs(content, 1) if _count_paragraphs(content) > 1 else 0
    return RenderedBody(teaser_html="\n".join(content[:cut]), full_html="\n".join(content))


def _count_paragraphs(blocks: list[str]) -> int:
    return sum(1 for b in blocks if _is_paragraph(b))


def _cut_after_paragraphs(blocks: list[str], paragraphs: int) -> int:
    """Index just after the ``paragraphs``-th paragraph (headings before it ride along)."""
    if paragraphs == 0:
        return 0
    seen = 0
    for index, block in enumerate(blocks):
        if _is_paragraph(block):
            seen += 1
            if seen == paragraphs:
                return index + 1
    return len(blocks)

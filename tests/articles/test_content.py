"""Bodies are sanitised and split once, at the marker or after N paragraphs."""

from __future__ import annotations

import pytest

from paywall.articles.content import render_body, split_blocks


def test_marker_ends_the_teaser_and_disappears():
    body = render_body("One.\n\nTwo.\n\n<!-- more -->\n\nThree.\n\nFour.", "markdown", 1)
    assert body.teaser_html == "<p>One.</p>\n<p>Two.</p>"
    assert body.full_html == "<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>\n<p>Four.</p>"
    assert "more" not in body.full_html


@pytest.mark.parametrize("marker", ["<!--more-->", "<!-- MORE -->", "<!--  more  -->"])
def test_marker_spellings(marker):
    body = render_body(f"One.\n\n{marker}\n\nTwo.", "markdown", 5)
    assert body.teaser_html == "<p>One.</p>"


def test_without_a_marker_the_teaser_is_the_first_n_paragraphs():
    source = "## Heading\n\nOne.\n\n- a\n- b\n\nTwo.\n\nThree."
    body = render_body(source, "markdown", 2)
    assert (
        body.teaser_html
        == "<h2>Heading</h2>\n<p>One.</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>Two.</p>"
    )
    assert body.full_html.endswith("<p>Three.</p>")


def test_a_split_never_lands_inside_a_list_or_quote():
    source = "<p>Intro</p><blockquote><p>q1</p><p>q2</p></blockquote><p>After</p><p>End</p>"
    body = render_body(source, "html", 2)
    assert (
        body.teaser_html
        == "<p>Intro</p>\n<blockquote><p>q1</p><p>q2</p></blockquote>\n<p>After</p>"
    )


@pytest.mark.parametrize(
    ("source", "teaser"),
    [
        ("Only one paragraph.", ""),
        ("One.\n\nTwo.", "<p>One.</p>"),
        ("", ""),
    ],
)
def test_something_is_always_held_back(source, teaser):
    body = render_body(source, "markdown", 3)
    assert body.teaser_html == teaser
    assert len(body.full_html) >= len(body.teaser_html)


@pytest.mark.parametrize(
    ("dirty", "forbidden"),
    [
        ("<p>x<script>alert(1)</script></p><p>y</p>", "<script"),
        ('<p onclick="steal()">x</p><p>y</p>', "onclick"),
        ('<p><a href="javascript:alert(1)">x</a></p><p>y</p>', "javascript:"),
        ('<p><img src="x" onerror="alert(1)"></p><p>y</p>', "onerror"),
        ("<style>body{display:none}</style><p>x</p><p>y</p>", "<style"),
        ('<iframe src="https://evil.example"></iframe><p>x</p><p>y</p>', "<iframe"),
        ("<p>x</p><!-- a secret comment --><p>y</p>", "secret comment"),
    ],
)
def test_dangerous_markup_is_removed(dirty, forbidden):
    for fmt in ("html", "markdown"):
        assert forbidden not in render_body(dirty, fmt, 1).full_html


def test_links_open_safely():
    body = render_body("[site](https://example.com)\n\nmore", "markdown", 1)
    assert 'rel="noopener noreferrer"' in body.full_html


def test_split_blocks_handles_void_and_nested_elements():
    assert split_blocks("<p>a</p><hr><ul><li><p>b</p></li></ul>text") == [
        "<p>a</p>",
        "<hr>",
        "<ul><li><p>b</p></li></ul>",
        "text",
    ]

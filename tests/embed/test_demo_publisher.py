"""The demo publisher: registered once, given the published articles, its pages render
the teaser themselves and load embed.js with one script tag."""

from __future__ import annotations

import socket

from werkzeug.test import Client

from paywall.embed.demo_site import prepare_demo_publisher, serve_in_background
from tests.conftest import free_port
from tests.factories import SECRET, ArticleFactory


def test_demo_publisher_pages_embed_the_gate_with_one_script_tag(app_ctx):
    ArticleFactory(title="Ferry returns", slug="ferry-returns")
    first = prepare_demo_publisher("http://127.0.0.1:5000", 5001)
    assert first.url == "http://localhost:5001"
    assert first.secret_key and first.secret_key.startswith("pw_sk_")
    again = prepare_demo_publisher("http://127.0.0.1:5000", 5001)
    assert again.site_key == first.site_key and again.secret_key is None

    pages = Client(again.app)
    assert "Ferry returns" in pages.get("/").text
    story = pages.get("/articles/ferry-returns").text
    assert (
        f'<script src="http://127.0.0.1:5000/embed.js" data-site="{first.site_key}" async>' in story
    )
    assert 'data-paywall-article="ferry-returns"' in story
    assert "A second paragraph anyone may read." in story
    assert SECRET not in story
    assert pages.get("/articles/nope").status_code == 404


def test_embed_script_is_served_small_and_cacheable(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert len(response.data) < 12_000


def test_a_taken_publisher_port_leaves_the_demo_running(app_ctx):
    publisher = prepare_demo_publisher("http://127.0.0.1:5000", free_port())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", publisher.port))
        squatter.listen()
        # Werkzeug would exit the whole process here; the demo says so and serves on.
        assert serve_in_background(publisher) is None

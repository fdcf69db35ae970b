"""A new publisher's plain static page on its own origin, built from docs/embed.md alone,
in real Chromium: the site registered with the real ``paywall create-site`` command, the
article sent through the content API with the secret key it printed, and its script
tag pasted into a hand-written HTML file served by a plain static file server.

The gate shows on the page, a reader signs in through the popup and reads the full
text; the same page opened at 127.0.0.1 instead of localhost (not a registered origin)
says so in the console.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_embed_browser import gate, sign_in_within
from tests.conftest import free_port
from tests.factories import SECRET, ReaderFactory
from tests.live import serving

ROOT = Path(__file__).resolve().parents[2]
STORY = "harbour-ferry"
# The article, as the docs' content API example sends it (with a real body).
BODY = (
    "<p>The ferry to the outer islands sails again from Monday.</p>"
    "<p>A second paragraph anyone may read.</p><!-- more -->"
    f"<p>{SECRET} The timetable, for readers with access only.</p>"
)


@dataclass
class Publisher:
    """The paywall's address, and what ``create-site`` printed for the new site."""

    paywall: str
    site_key: str
    secret_key: str
    script_tag: str


def create_site_command(paywall: str, database_url: str, instance: Path, origin: str) -> str:
    """``paywall create-site`` run as a publisher runs it, in a process of its own."""
    environment = {
        **os.environ,
        "PAYWALL_ENV": "development",
        "DATABASE_URL": database_url,
        "PAYWALL_BASE_URL": paywall,
        "PAYWALL_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    done = subprocess.run(
        [sys.executable, "-m", "paywall", "create-site", "Harbour Herald", "--origin", origin],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def printed(output: str, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    assert found, f"no {label} in:\n{output}"
    return found.group(1)


def put_article(paywall: str, secret_key: str) -> dict[str, Any]:
    """The docs' ``PUT /api/v1/articles/{id}`` with the secret key."""
    body = {
        "title": "The ferry is back",
        "body_html": BODY,
        "access": "paid",
        "canonical_url": "http://localhost/ferry",
    }
    request = urllib.request.Request(
        f"{paywall}/api/v1/articles/{STORY}",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {secret_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 201
        return json.loads(response.read())


def static_page(folder: Path, script_tag: str, teaser_html: str) -> None:
    """The publisher's own page: their masthead, the pasted script tag, the article."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ferry.html").write_text(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        "<title>The ferry is back - Harbour Herald</title></head><body>\n"
        "<header><strong>Harbour Herald</strong></header>\n"
        f"{script_tag}\n"
        f'<article data-paywall-article="{STORY}">\n<h1>The ferry is back</h1>\n'
        f"{teaser_html}\n</article>\n"
        "<footer>Harbour Herald, since 1887</footer>\n</body></html>\n"
    )


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A plain static file server on 127.0.0.1 (also reached as localhost): the folder
    it serves and its port."""
    folder = tmp_path / "publisher"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def publisher(
    make_app: Any, mailbox: Any, migrated_database: str, tmp_path: Path, static_server: Any
) -> Iterator[Publisher]:
    """The paywall served on 127.0.0.1; the publisher's site on localhost:<port>,
    registered with the command line as the docs say."""
    folder, port = static_server
    paywall_port = free_port()
    paywall = f"http://127.0.0.1:{paywall_port}"
    app = make_app(BASE_URL=paywall)
    with serving(app, "127.0.0.1", paywall_port):
        output = create_site_command(
            paywall, migrated_database, tmp_path / "cli", f"http://localhost:{port}"
        )
        made = Publisher(
            paywall,
            site_key=printed(output, "Site key"),
            secret_key=printed(output, "Secret key"),
            script_tag=output.split("Script tag", 1)[1].splitlines()[1].strip(),
        )
        article = put_article(paywall, made.secret_key)
        static_page(folder, made.script_tag, article["teaser_html"])
        yield made


def test_the_printed_snippet_is_one_closed_script_tag_for_the_site(publisher):
    tag = publisher.script_tag
    assert tag == (
        f'<script src="{publisher.paywall}/embed.js" data-site="{publisher.site_key}" async>'
        "</script>"
    )


def test_the_gate_shows_on_the_static_page_and_a_reader_signs_in_and_reads(
    page, publisher, static_server, app_ctx
):
    _, port = static_server
    ReaderFactory(email="comped@example.com", is_comped=True)
    page.goto(f"http://localhost:{port}/ferry.html")
    expect(gate(page).get_by_role("heading")).to_have_text("This article is for subscribers")
    expect(page.get_by_text("A second paragraph anyone may read.")).to_be_visible()
    expect(page.get_by_text("Harbour Herald, since 1887")).to_be_visible()  # nothing blanked
    expect(page.get_by_text(SECRET)).to_have_count(0)

    with page.expect_popup() as opened:
        gate(page).get_by_role("button", name="Sign in").click()
    popup = opened.value
    with popup.expect_event("close"):
        sign_in_within(popup, "comped@example.com")

    expect(page.get_by_text(SECRET)).to_be_visible()
    expect(gate(page)).to_have_count(1)  # what remains is the signed-in line, not a gate
    expect(page.get_by_text("Signed in as comped@example.com")).to_be_visible()
    expect(page.get_by_role("heading", name="This article is for subscribers")).to_have_count(0)


def test_the_same_page_on_an_unregistered_origin_says_so_in_the_console(
    page, publisher, static_server
):
    _, port = static_server
    wrong = f"http://127.0.0.1:{port}"
    with page.expect_console_message(lambda m: "origin_not_allowed" in m.text) as warned:
        page.goto(f"{wrong}/ferry.html")
    assert warned.value.type == "warning"
    assert wrong in warned.value.text
    expect(page.get_by_text("A second paragraph anyone may read.")).to_be_visible()
    expect(gate(page)).to_have_count(0)
    expect(page.get_by_text(SECRET)).to_have_count(0)

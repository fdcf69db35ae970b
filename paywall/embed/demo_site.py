"""The demo publisher: a small static news site on another origin that embeds the gate.

``paywall demo`` registers it as a site, links the demo articles to it by their slugs
(as a CMS would through the content API) and serves it beside the paywall. Its pages
render each teaser themselves and load ``embed.js`` with one script tag; nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import escape
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from paywall.articles.service import published_articles
from paywall.embed.models import Site, SiteArticle
from paywall.embed.sites import create_site, update_site
from paywall.extensions import db

DEMO_SITE_NAME = "The Harbour Herald (demo publisher)"


@dataclass(frozen=True, slots=True)
class Story:
    """What the publisher's own CMS knows of an article: its id, headline and teaser."""

    external_id: str
    title: str
    dek: str
    teaser_html: str


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · The Harbour Herald</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:18px/1.6 Georgia,serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
header a{{color:#7a1f1f;text-decoration:none;font-weight:700}}</style>
<script src="{paywall}/embed.js" data-site="{site_key}" async></script></head>
<body><header><a href="/">The Harbour Herald</a></header><main>{main}</main></body></html>
"""


def publisher_app(paywall: str, site_key: str, stories: Iterable[Story]):  # type: ignore[no-untyped-def]
    """A WSGI app serving the publisher's front page and one page per story."""
    by_id = {story.external_id: story for story in stories}
    urls = Map([Rule("/", endpoint="home"), Rule("/articles/<external_id>", endpoint="story")])

    def page(title: str, main: str) -> Response:
        html = PAGE.format(title=escape(title), paywall=paywall, site_key=site_key, main=main)
        return Response(html, mimetype="text/html")

    def home() -> Response:
        items = "".join(
            f'<li><a href="/articles/{escape(s.external_id)}">{escape(s.title)}</a>'
            f"<br>{escape(s.dek)}</li>"
            for s in by_id.values()
        )
        return page("Latest", f"<h1>Latest from the harbour</h1><ul>{items}</ul>")

    def story(external_id: str) -> Response:
        found = by_id.get(external_id)
        if found is None:
            raise NotFound()
        container = (
            f'<div data-paywall-article="{escape(found.external_id)}">'
            f"{found.teaser_html}</div>"  # sanitised when it was saved
        )
        return page(found.title, f"<article><h1>{escape(found.title)}</h1>{container}</article>")

    @Request.application
    def app(request: Request) -> Response | HTTPException:
        try:
            endpoint, args = urls.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return error
        return home() if endpoint == "home" else story(**args)

    return app


@dataclass(frozen=True, slots=True)
class DemoPublisher:
    """The demo publisher, registered and ready to serve."""

    url: str
    port: int
    site_key: str
    secret_key: str | None  # only on the run that registered it
    app: object


def prepare_demo_publisher(paywall: str, port: int) -> DemoPublisher:
    """Register the demo publisher (once), give it the published articles, build its app."""
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    site = db.session.scalar(select(Site).where(Site.name == DEMO_SITE_NAME))
    secret = None
    if site is None:
        made = create_site(DEMO_SITE_NAME, origins)
        site, secret = made.site, made.secret_key
    elif not set(origins) <= set(site.origins):
        update_site(site, site.name, [*site.origins, *origins], site.plan_codes)
    stories = link_published_articles(site)
    app = publisher_app(paywall, site.public_key, stories)
    return DemoPublisher(origins[0], port, site.public_key, secret, app)


def link_published_articles(site: Site) -> list[Story]:
    """Give the site every published article under its slug, as its CMS would."""
    linked = set(
        db.session.scalars(select(SiteArticle.article_id).where(SiteArticle.site_id == site.id))
    )
    stories = []
    for article in db.session.scalars(published_articles()):
        if article.id not in linked:
            db.session.add(
                SiteArticle(site_id=site.id, external_id=article.slug, article_id=article.id)
            )
        stories.append(Story(article.slug, article.title, article.dek, article.teaser_html))
    db.session.commit()
    return stories


def serve_in_background(publisher: DemoPublisher) -> str | None:
    """Serve the demo publisher on a daemon thread; its URL, or None if the port is taken."""
    try:
        server = make_server("127.0.0.1", publisher.port, publisher.app, threaded=True)
    except (OSError, SystemExit):  # Werkzeug exits the process when the port is taken
        return None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return publisher.url

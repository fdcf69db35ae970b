"""A change made through one instance of the app is seen through every other, on every
worker, on the very next request: gunicorn servers of two workers each (production
settings, caches on) and an in-process instance, on one PostgreSQL and one Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from billing.models import WebhookEvent
from paywall.accounts.comps import grant_comp
from paywall.articles.models import Article
from paywall.articles.service import save_article
from paywall.embed.demo_site import link_published_articles
from paywall.embed.sites import create_site, find_site, rotate_site_key, set_site_enabled
from paywall.extensions import db
from tests.billing.conftest import put_plans_on_sale, stripe_settings
from tests.billing.emulated import StripeSide, wait_for
from tests.billing.test_webhooks import sign, subscription_event
from tests.factories import DEFAULT_PASSWORD, SECRET, ArticleFactory, ReaderFactory
from tests.multiprocess.conftest import Browser, every_worker

ORIGIN = "https://news.example.com"


def on_every_worker(browsers: list[Browser], check: Callable[[Browser], None]) -> None:
    """``check`` holds on many requests to each server (so on both workers of each)."""
    for browser in browsers:
        every_worker(lambda browser=browser: check(browser))


def resave(article: Article, **changes: object) -> None:
    fields = {
        name: getattr(article, name)
        for name in ("title", "slug", "dek", "access_level", "body_source", "published_at")
    }
    save_article(article, **(fields | changes))  # type: ignore[arg-type]


def test_an_edited_article_shows_on_every_worker_at_once(serve, hands):
    article = ArticleFactory(access_level="free", title="Old title")
    browsers = [serve().browser(), serve().browser()]
    path = f"/articles/{article.slug}"

    def title(browser: Browser) -> str:
        page = browser.get(path)
        return page.split('<h1 class="article__title">', 1)[1].split("</h1>", 1)[0]

    def old(browser: Browser) -> None:
        assert title(browser) == "Old title"

    def new(browser: Browser) -> None:
        assert title(browser) == "New title"

    on_every_worker(browsers, old)
    resave(article, title="New title")
    on_every_worker(browsers, new)


def test_a_published_draft_shows_on_every_worker_at_once(serve, hands):
    draft = ArticleFactory(access_level="free", title="Draft story", published_at=None)
    browsers = [serve().browser()]
    path = f"/articles/{draft.slug}"
    on_every_worker(browsers, lambda b: assert_status(b, path, 404))
    resave(draft, published_at=datetime.now(UTC))
    on_every_worker(browsers, lambda b: assert_status(b, path, 200))


def assert_status(browser: Browser, path: str, status: int, **headers: str) -> None:
    got, body = browser.request("GET", path, **headers)
    assert got == status, (path, got, body[:300])


def test_a_comp_opens_the_article_on_every_worker_at_once(serve, hands):
    slug = ArticleFactory(access_level="paid").slug
    reader = ReaderFactory(email="guest@example.com")
    browser = serve().browser()
    browser.sign_in(reader.email, DEFAULT_PASSWORD)
    path = f"/articles/{slug}"

    on_every_worker([browser], lambda b: _assert_gated(b.get(path), "no_subscription"))
    grant_comp(reader.email, None)
    on_every_worker([browser], lambda b: _assert_full(b.get(path)))


def _assert_gated(page: str, reason: str) -> None:
    assert SECRET not in page and f'data-reason="{reason}"' in page


def _assert_full(page: str) -> None:
    assert SECRET in page and 'id="paywall-gate"' not in page


def _site_with_articles() -> tuple[int, str, str]:
    slug = ArticleFactory(access_level="free").slug
    site = create_site("Harbour News", [ORIGIN]).site
    link_published_articles(site)
    return site.id, site.public_key, slug


def test_a_disabled_site_is_refused_by_every_worker_at_once(serve, hands):
    site_id, key, slug = _site_with_articles()
    browsers = [serve().browser(), serve().browser()]
    path = f"/api/v1/sites/{key}/decisions/{slug}"

    def answers(browser: Browser) -> None:
        status, body = browser.get_json(path, Origin=ORIGIN)
        assert status == 200 and SECRET in body["html"]

    def refuses(browser: Browser) -> None:
        status, body = browser.get_json(path, Origin=ORIGIN)
        assert status >= 400 and "html" not in body, (status, body)

    on_every_worker(browsers, answers)
    site = find_site(site_id)
    assert site is not None
    set_site_enabled(site, False)
    on_every_worker(browsers, refuses)


def test_a_rotated_site_key_is_refused_by_every_worker_at_once(serve, hands):
    site_id, old_key, slug = _site_with_articles()
    browsers = [serve().browser(), serve().browser()]

    def status_of(browser: Browser, key: str) -> int:
        return browser.get_json(f"/api/v1/sites/{key}/decisions/{slug}", Origin=ORIGIN)[0]

    on_every_worker(browsers, lambda b: _equal(status_of(b, old_key), 200))
    site = find_site(site_id)
    assert site is not None
    new_key = rotate_site_key(site).public_key
    on_every_worker(browsers, lambda b: _equal(status_of(b, old_key), 404))
    on_every_worker(browsers, lambda b: _equal(status_of(b, new_key), 200))


def _equal(got: object, wanted: object) -> None:
    assert got == wanted, (got, wanted)


def test_a_webhooks_billing_change_shows_on_every_worker_at_once(
    serve, make_app, emulator, mailbox, shared_services, queue_namespace
):
    """Stripe says the subscription ends at the period's end: once the event (delivered
    to one server) is applied, both servers' every worker shows the notice."""
    from webtest import TestApp

    from tests.billing.actors import Subscriber
    from tests.multiprocess.conftest import REDIS_URL, SECRET_KEY

    webhook_secret = "whsec_multiprocess_billing"
    settings = stripe_settings(emulator, webhook_secret)
    hands = make_app(
        **settings,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        JOB_QUEUE_NAMESPACE=queue_namespace,
    )
    put_plans_on_sale(hands)
    with hands.app_context():
        slug = ArticleFactory(access_level="paid").slug
        email = ReaderFactory(email="payer@example.com").email
    stripe_side = StripeSide(emulator.api_base)
    subscriber = Subscriber(TestApp(hands), stripe_side, email)
    subscriber.sign_in()
    assert subscriber.subscribe("monthly").status_int == 302

    environment = {
        "STRIPE_SECRET_KEY": settings["STRIPE_SECRET_KEY"],
        "STRIPE_PUBLISHABLE_KEY": settings["STRIPE_PUBLISHABLE_KEY"],
        "STRIPE_API_BASE": settings["STRIPE_API_BASE"],
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
    }
    receiving, other = serve(**environment), serve(**environment)
    serve.worker(**environment)  # applies the event the receiving server queues
    browsers = [receiving.browser(), other.browser()]
    for browser in browsers:
        browser.sign_in(email, DEFAULT_PASSWORD)
    path = f"/articles/{slug}"
    on_every_worker(browsers, lambda b: _assert_full(b.get(path)))
    on_every_worker(browsers, lambda b: _equal("Your access ends on" in b.get(path), False))

    with hands.app_context():
        from tests.billing.test_renewal_and_card import stripe_ids

        class Live:
            @staticmethod
            def query(function):  # type: ignore[no-untyped-def]
                return function(db.session)

        customer_id, subscription_id = stripe_ids(Live, email)
    stripe_side.post(f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": True})
    event = subscription_event(
        subscription_id, customer_id, "active", int(time.time()), "evt_multiprocess_cancel"
    )
    payload = json.dumps(event).encode()
    status, _ = receiving.browser().request_raw(
        "/stripe/webhook", payload, {"Stripe-Signature": sign(payload, webhook_secret)}
    )
    assert status == 200
    with hands.app_context():
        wait_for(lambda: _applied("evt_multiprocess_cancel"))

    def ending(browser: Browser) -> None:
        page = browser.get(path)
        assert SECRET in page and "Your access ends on" in page

    on_every_worker(browsers, ending)


def _applied(event_id: str) -> bool:
    db.session.rollback()  # a fresh look each time
    row = db.session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event_id))
    return bool(row and row.applied_at)

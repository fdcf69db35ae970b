"""The article page: full text for readers with access, teaser and a specific gate for
everyone else, and never a word past the teaser boundary in a gated response."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from paywall.extensions import db
from tests.factories import SECRET, ArticleFactory, EditorFactory, PlanFactory, ReaderFactory
from tests.helpers import sign_in_client

CLOSING = b"The closing paragraph, also behind the gate."


def assert_gated(response, reason: str) -> None:
    body = response.data
    assert response.status_code == 200
    assert SECRET.encode() not in body
    assert CLOSING not in body
    assert f'data-reason="{reason}"' in response.text
    assert b"A second paragraph anyone may read." in body  # the teaser is there


def assert_full(response) -> None:
    assert response.status_code == 200
    assert SECRET.encode() in response.data and CLOSING in response.data
    assert b'id="paywall-gate"' not in response.data


def json_ld(response) -> dict:
    match = re.search(rb'<script type="application/ld\+json">(.*?)</script>', response.data)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def test_anonymous_reader_sees_teaser_and_sign_in_on_a_paid_article(client, app_ctx):
    article = ArticleFactory(access_level="paid")
    response = client.get(f"/articles/{article.slug}")
    assert_gated(response, "anonymous")
    assert "This article is for subscribers" in response.text
    assert f"/signin?next=/articles/{article.slug}" in response.text
    # The same for every anonymous reader, so shared caches may keep it (the text past
    # the gate is not in it).
    assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")


def test_anonymous_reader_is_asked_to_create_a_free_account(client, app_ctx):
    article = ArticleFactory(access_level="registered")
    response = client.get(f"/articles/{article.slug}")
    assert_gated(response, "registration_required")
    assert "Create a free account to keep reading" in response.text
    assert "/signup?next=" in response.text


def test_signed_in_reader_reads_registered_articles(client, app_ctx):
    sign_in_client(client, ReaderFactory())
    assert_full(client.get(f"/articles/{ArticleFactory(access_level='registered').slug}"))


def test_signed_in_reader_without_subscription_is_told_to_subscribe(client, app_ctx):
    sign_in_client(client, ReaderFactory())
    response = client.get(f"/articles/{ArticleFactory(access_level='paid').slug}")
    assert_gated(response, "no_subscription")
    assert "doesn't include a subscription" in response.text.replace("&#39;", "'")


def test_tier_article_is_gated_for_readers_without_that_plan(client, app_ctx):
    sign_in_client(client, ReaderFactory())
    PlanFactory(tier="premium")
    article = ArticleFactory(access_level="tiers", tiers="premium")
    assert_gated(client.get(f"/articles/{article.slug}"), "no_subscription")


def test_everyone_reads_free_articles_in_full(client, app_ctx):
    article = ArticleFactory(access_level="free")
    response = client.get(f"/articles/{article.slug}")
    assert_full(response)
    assert json_ld(response)["isAccessibleForFree"] is True
    assert "hasPart" not in json_ld(response)


@pytest.mark.parametrize("level", ["registered", "paid", "tiers"])
def test_editors_read_everything(client, app_ctx, level):
    sign_in_client(client, EditorFactory())
    PlanFactory(tier="premium")
    article = ArticleFactory(access_level=level, tiers="premium")
    assert_full(client.get(f"/articles/{article.slug}"))


def test_gated_page_declares_the_gated_part_to_search_engines(client, app_ctx):
    article = ArticleFactory(access_level="paid", title="Rates <script>alert(1)</script>")
    response = client.get(f"/articles/{article.slug}")
    data = json_ld(response)
    assert data["@type"] == "NewsArticle"
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": "#paywall-gate",
    }
    assert data["headline"] == "Rates <script>alert(1)</script>"
    assert b"<script>alert(1)" not in response.data  # escaped everywhere


@pytest.mark.parametrize("reader", [None, "editor"])
def test_the_gated_part_named_to_search_engines_is_on_the_page(client, app_ctx, reader):
    """On the teaser page and on the full page alike, ``cssSelector`` finds an element."""
    if reader:
        sign_in_client(client, EditorFactory())
    article = ArticleFactory(access_level="paid")
    response = client.get(f"/articles/{article.slug}")
    selector = json_ld(response)["hasPart"]["cssSelector"]
    assert len(BeautifulSoup(response.text, "html.parser").select(selector)) == 1, selector


def test_metered_reader_reads_free_views_then_hits_the_gate(make_app):
    app = make_app(METER_FREE_VIEWS=2)
    client = app.test_client()
    with app.app_context():
        sign_in_client(client, ReaderFactory())
        first, second, third = (ArticleFactory(access_level="paid").slug for _ in range(3))

    opened = client.get(f"/articles/{first}")
    assert_full(opened)
    assert "You have 1 free article left this month." in opened.text
    assert_full(client.get(f"/articles/{first}"))  # re-reading costs nothing
    assert "You have 0 free articles left" in client.get(f"/articles/{second}").text
    gated = client.get(f"/articles/{third}")
    assert_gated(gated, "meter_exhausted")
    assert "read all your free articles this month" in gated.text.replace("&#39;", "'")


def test_drafts_and_scheduled_articles_are_hidden_from_readers(client, app_ctx):
    draft = ArticleFactory(published_at=None, access_level="free")
    scheduled = ArticleFactory(
        published_at=datetime.now(UTC) + timedelta(days=1), access_level="free"
    )
    for article in (draft, scheduled):
        assert client.get(f"/articles/{article.slug}").status_code == 404
        assert article.title.encode() not in client.get("/").data
    sign_in_client(client, EditorFactory())
    assert client.get(f"/articles/{draft.slug}").status_code == 200
    assert draft.title.encode() in client.get("/").data


def test_unknown_article_is_404(client):
    assert client.get("/articles/no-such-story").status_code == 404


def test_front_page_lists_articles_with_their_access_level(client, app_ctx):
    ArticleFactory(title="A free one", access_level="free")
    ArticleFactory(title="For members", access_level="registered")
    ArticleFactory(title="For subscribers", access_level="paid")
    PlanFactory(tier="premium")
    ArticleFactory(title="Premium only", access_level="tiers", tiers="premium")
    page = client.get("/").text
    for title, badge in [
        ("A free one", "Free"),
        ("For members", "Free account"),
        ("For subscribers", "Subscribers"),
        ("Premium only", "premium"),
    ]:
        assert title in page
        assert f">{badge}</span>" in page
    assert SECRET not in page


def test_no_gated_response_leaks_the_rest_of_any_demo_article(client, runner, app_ctx):
    """Every non-free demo article, read anonymously: its last paragraph is nowhere."""
    from sqlalchemy import select

    from paywall.articles.models import Article

    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    gated = db.session.scalars(select(Article).where(Article.access_level != "free")).all()
    assert len(gated) >= 4
    for article in gated:
        last_paragraph = article.full_html.rsplit("<p>", 1)[1].split("</p>")[0]
        body = client.get(f"/articles/{article.slug}").get_data(as_text=True)
        assert 'id="paywall-gate"' in body
        assert last_paragraph not in body, article.slug


def active_subscription_for(reader) -> None:
    """Local billing rows of a paid-up subscription, as a webhook would have left them."""
    from billing.models import Customer, Subscription

    customer = Customer(reader_id=reader.id, stripe_customer_id=f"cus_{reader.id}")
    db.session.add(customer)
    db.session.flush()
    db.session.add(
        Subscription(
            stripe_subscription_id=f"sub_{reader.id}",
            customer_id=customer.id,
            status="active",
            current_period_end=datetime.now(UTC) + timedelta(days=20),
        )
    )
    db.session.commit()


@pytest.mark.parametrize("access_level", ["registered", "paid"])
def test_requiring_verified_emails_never_holds_back_a_paying_subscriber(
    make_app, mailbox, access_level
):
    app = make_app(REQUIRE_VERIFIED_EMAIL=True)
    client = app.test_client()
    with app.app_context():
        reader = ReaderFactory(email_verified_at=None)
        active_subscription_for(reader)
        slug = ArticleFactory(access_level=access_level).slug
        sign_in_client(client, reader)
    assert_full(client.get(f"/articles/{slug}"))


def test_requiring_verified_emails_asks_an_unverified_free_account_to_confirm(make_app, mailbox):
    app = make_app(REQUIRE_VERIFIED_EMAIL=True)
    client = app.test_client()
    with app.app_context():
        sign_in_client(client, ReaderFactory(email_verified_at=None))
        slug = ArticleFactory(access_level="registered").slug
    assert_gated(client.get(f"/articles/{slug}"), "registration_required")

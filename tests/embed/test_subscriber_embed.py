"""A reader who subscribed through Stripe (the emulator) reads on the publisher's site,
and their entitlement token names their plan's tier."""

from __future__ import annotations

import jwt
from sqlalchemy import select

from paywall.accounts.models import Reader
from paywall.embed.demo_site import link_published_articles
from paywall.embed.sites import create_site
from paywall.extensions import db
from tests.billing.conftest import billing_app, emulator  # noqa: F401  (fixtures)
from tests.embed.conftest import ORIGIN, Person, token_through_popup
from tests.factories import SECRET
from tests.helpers import session_identity


def site_with_reader_token(billing_app, email: str) -> tuple[str, str]:  # noqa: F811
    """A site showing every published article, and a reader token for ``email`` on it."""
    with billing_app.twin.app_context():
        site = create_site("Harbour News", [ORIGIN]).site
        link_published_articles(site)
        row = db.session.scalar(select(Reader).where(Reader.email == email))
        person = Person(row.id, row.email, session_identity(row))
        site_key = site.public_key
    return site_key, token_through_popup(billing_app.app, person, site_key)


def test_subscriber_reads_on_the_site_and_is_entitled_to_their_tier(billing_app):  # noqa: F811
    standard = billing_app.article(title="Standard story", slug="standard-story")
    premium = billing_app.article(
        title="Premium story", slug="premium-story", access_level="tiers", tiers="premium"
    )
    reader = billing_app.subscriber("subscriber@example.com")
    assert reader.subscribe("monthly").status_int == 302
    site_key, token = site_with_reader_token(billing_app, reader.email)
    client = billing_app.app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}

    def decision(slug: str) -> dict:
        return client.get(f"/api/v1/sites/{site_key}/decisions/{slug}", headers=headers).get_json()

    full = decision(standard)
    assert full["reason"] == "subscriber" and SECRET in full["html"]
    upgrade = decision(premium)
    assert upgrade["reason"] == "plan_excludes_article" and SECRET not in upgrade["html"]
    assert [a["action"] for a in upgrade["actions"]] == ["upgrade"]

    signed = client.get(f"/api/v1/sites/{site_key}/entitlements", headers=headers).get_json()
    claims = jwt.decode(signed["token"], options={"verify_signature": False})
    assert claims["access"] == ["free", "registered", "paid"]
    assert claims["tiers"] == ["standard"]
    assert claims["reason"] == "subscriber"


def test_a_billing_change_shows_on_the_next_decision(billing_app):  # noqa: F811
    slug = billing_app.article(title="Standard story", slug="standard-story")
    reader = billing_app.subscriber("later@example.com")
    site_key, token = site_with_reader_token(billing_app, reader.email)
    client = billing_app.app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    path = f"/api/v1/sites/{site_key}/decisions/{slug}"
    assert client.get(path, headers=headers).get_json()["reason"] == "no_subscription"

    reader.subscribe("monthly")  # in the popup
    fresh = client.get(path, headers=headers).get_json()  # no ?fresh= needed
    assert fresh["reason"] == "subscriber" and SECRET in fresh["html"]

"""A redeemed gift through the publisher's API: the decision and the entitlement token say
what the article pages say (its plan's tier, until its months end), from our tables."""

from __future__ import annotations

from datetime import timedelta

from billing.catalog import save_plan
from billing.gifts import Gift
from billing.orm import utcnow
from paywall.extensions import db
from tests.billing.conftest import DEMO_PLANS
from tests.embed.conftest import token_through_popup
from tests.embed.test_entitlements import claims_of, entitlement
from tests.factories import SECRET


def give(app, reader_id, tier="standard", ends_in=timedelta(days=60)):
    """A paid gift the reader redeemed, running now until ``ends_in``."""
    now = utcnow()
    with app.app_context():
        db.session.add(
            Gift(
                buyer_email="giver@example.com", recipient_email="friend@example.com",
                plan_code=tier, plan_name=tier.title(), tier=tier, months=3, amount=2700,
                currency="usd", paid_at=now, redeemed_by=reader_id, redeemed_at=now,
                access_from=now - timedelta(days=1), access_until=now + ends_in,
            )
        )  # fmt: skip
        db.session.commit()


def test_a_gift_opens_its_tier_and_paid_articles_and_asks_to_upgrade_for_another(
    app, publisher, readers
):
    with app.app_context():
        for plan in DEMO_PLANS:
            save_plan(db.session, plan)
    publisher.put("paid")
    publisher.put("standard-only", access="tiers", tiers=["standard"])
    publisher.put("premium-only", access="tiers", tiers=["premium"])
    friend = readers.plain("friend@example.com")
    give(app, friend.id)
    token = token_through_popup(app, friend, publisher.site_key)

    for story in ("paid", "standard-only"):
        decision = publisher.decision(story, token).get_json()
        assert (decision["access"], decision["reason"]) == ("full", "gift")
        assert SECRET in decision["html"]
    premium = publisher.decision("premium-only", token).get_json()
    assert (premium["access"], premium["reason"]) == ("teaser", "plan_excludes_article")
    assert [a["action"] for a in premium["actions"]] == ["upgrade"]
    assert SECRET not in premium["html"]

    claims = claims_of(publisher.client, entitlement(publisher, token), publisher.site_key)
    assert claims["access"] == ["free", "registered", "paid"]
    assert (claims["tiers"], claims["reason"]) == (["standard"], "gift")


def test_an_ended_gift_opens_nothing(app, publisher, readers):
    publisher.put("paid")
    friend = readers.plain("friend@example.com")
    give(app, friend.id, ends_in=-timedelta(seconds=1))
    token = token_through_popup(app, friend, publisher.site_key)
    assert publisher.decision("paid", token).get_json()["reason"] == "no_subscription"
    claims = claims_of(publisher.client, entitlement(publisher, token), publisher.site_key)
    assert (claims["tiers"], claims["reason"]) == ([], "no_subscription")

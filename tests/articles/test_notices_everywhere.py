"""Billing notices follow the reader to every page: the front page, the account page and
free articles too, and never reach another reader or the billing pages' own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing.models import Customer, PaymentMethod, Subscription
from paywall.extensions import db
from tests.articles.test_page_caches import subscribed_with_a_card_expiring_soon
from tests.conftest import browser_for
from tests.factories import ArticleFactory, ReaderFactory
from tests.helpers import sign_in


def renewal_failed(reader, days_ago: int, needs_action: bool = False) -> None:  # type: ignore[no-untyped-def]
    """A renewal that failed ``days_ago`` days ago on a card that is still valid."""
    from billing.models import Invoice

    now = datetime.now(UTC)
    customer = Customer(
        reader_id=reader.id,
        stripe_customer_id=f"cus_{reader.id}",
        default_payment_method_id=f"pm_{reader.id}",
    )
    db.session.add(customer)
    db.session.flush()
    invoice = Invoice(
        stripe_invoice_id=f"in_{reader.id}", customer_id=customer.id, status="open",
        amount_due=900, currency="usd", created=now - timedelta(days=days_ago),
        payment_intent_status="requires_action" if needs_action else "requires_payment_method",
    )  # fmt: skip
    db.session.add_all(
        [
            PaymentMethod(
                stripe_payment_method_id=f"pm_{reader.id}",
                customer_id=customer.id,
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=now.year + 3,
            ),
            invoice,
            Subscription(
                stripe_subscription_id=f"sub_{reader.id}",
                customer_id=customer.id,
                status="past_due",
                was_active=True,
                current_period_end=now + timedelta(days=25),
                payment_failed_at=now - timedelta(days=days_ago),
                latest_invoice_id=invoice.stripe_invoice_id,
                latest_invoice_status="open",
            ),
        ]
    )
    db.session.commit()


def notices_of(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [" ".join(p.text.split()) for p in page.html.select("#notices .notice")]


def test_a_failed_renewal_is_told_on_the_front_page_and_the_account_page(app, app_ctx):
    reader = ReaderFactory()
    renewal_failed(reader, days_ago=2)
    free = ArticleFactory(access_level="free").slug
    web = browser_for(app)
    sign_in(web, reader.email)

    for path in ("/", "/account", f"/articles/{free}"):
        [notice] = notices_of(web.get(path))
        assert notice.startswith("Your last payment failed. Update your card by"), path
        link = web.get(path).html.select_one("#notices .notice a")
        assert link.text == "Update your card"
        assert link["href"] == f"/account/billing/card?next={path}"  # and back here after
    # The billing page says it in its own words, with the way to pay: no second notice.
    assert not web.get("/account/billing").html.select("#notices")


def test_a_lapsed_renewal_and_one_waiting_for_the_bank_are_told_everywhere(app, app_ctx):
    lapsed, confirming = ReaderFactory(), ReaderFactory()
    renewal_failed(lapsed, days_ago=10)
    renewal_failed(confirming, days_ago=1, needs_action=True)
    web = browser_for(app)
    sign_in(web, lapsed.email)
    assert notices_of(web.get("/")) == [
        "We couldn't charge your card for your subscription. Update your card to keep "
        "reading. Update your card"
    ]
    other = browser_for(app)
    sign_in(other, confirming.email)
    [notice] = notices_of(other.get("/account"))
    assert "Your bank wants you to confirm your renewal payment" in notice
    assert "Confirm your payment" in notice


def test_a_card_expiring_before_renewal_is_told_on_every_page_to_its_owner_only(app, app_ctx):
    owner, other = ReaderFactory(), ReaderFactory()
    subscribed_with_a_card_expiring_soon(owner, "4417")
    web, someone = browser_for(app), browser_for(app)
    sign_in(web, owner.email)
    sign_in(someone, other.email)
    for path in ("/", "/account"):
        [notice] = notices_of(web.get(path))
        assert "Your card ending 4417 expires" in notice
        assert "4417" not in someone.get(path).text
    assert "4417" not in browser_for(app).get("/").text  # nobody signed in


def test_a_reader_in_good_standing_sees_no_notice(app, app_ctx):
    reader = ReaderFactory()
    web = browser_for(app)
    sign_in(web, reader.email)
    for path in ("/", "/account"):
        assert "notices" not in web.get(path).text

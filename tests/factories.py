"""factory_boy factories for test data, saved through the app's session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from billing.models import Customer, Invoice, Plan, Subscription
from paywall.accounts.models import Reader, Role
from paywall.accounts.passwords import hash_password
from paywall.extensions import db

DEFAULT_PASSWORD = "correct horse battery"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class ReaderFactory(BaseFactory):
    """A reader with a verified email and the password :data:`DEFAULT_PASSWORD`."""

    class Meta:
        model = Reader

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    name = factory.Faker("name")
    password_hash = factory.LazyFunction(lambda: hash_password(DEFAULT_PASSWORD))
    role = Role.READER
    email_verified_at = factory.LazyFunction(lambda: datetime.now(UTC))


class EditorFactory(ReaderFactory):
    role = Role.EDITOR


class AdminFactory(ReaderFactory):
    role = Role.ADMIN


class PlanFactory(BaseFactory):
    """A plan on sale in the publisher's catalogue (not synced to Stripe): its tier may be
    named by articles, and the dashboard reads these rows."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    tier = "standard"
    amount = 900
    currency = "usd"
    interval = "month"


class ArticleFactory(factory.Factory):
    """An article saved through the same rendering as the editor's form.

    The body has a unique sentence after the teaser boundary (``SECRET``), so tests can
    prove it never reaches a reader without access.
    """

    class Meta:
        model = dict

    title = factory.Sequence(lambda n: f"Story number {n}")
    slug = ""
    author = "Test Author"
    dek = "A short summary for the front page."
    access_level = "paid"
    tiers = ""
    body_format = "markdown"
    teaser_paragraphs = None
    published_at = factory.LazyFunction(lambda: datetime.now(UTC))
    body_source = factory.LazyAttribute(
        lambda o: (
            f"The opening paragraph of {o.title}.\n\n"
            "A second paragraph anyone may read.\n\n"
            "<!-- more -->\n\n"
            f"{SECRET} This sentence is for readers with access only.\n\n"
            "The closing paragraph, also behind the gate."
        )
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        from paywall.articles.service import save_article

        return save_article(None, **kwargs)

    _build = _create


SECRET = "Zanzibar-7741-ultraviolet"


class CustomerFactory(BaseFactory):
    """A reader's Stripe customer, with its reader."""

    class Meta:
        model = Customer

    reader_id = factory.LazyFunction(lambda: ReaderFactory().id)
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test{n}")


class SubscriptionFactory(BaseFactory):
    """A paid-up subscription to ``plan_code``, started a while ago."""

    class Meta:
        model = Subscription

    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test{n}")
    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    plan_code = "plan"
    status = "active"
    was_active = True
    created_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=100))


class InvoiceFactory(BaseFactory):
    """A paid invoice of a customer."""

    class Meta:
        model = Invoice

    stripe_invoice_id = factory.Sequence(lambda n: f"in_test{n}")
    customer_id = factory.LazyFunction(lambda: CustomerFactory().id)
    status = "paid"
    amount_due = 900
    amount_paid = 900
    attempt_count = 1
    created = factory.LazyFunction(lambda: datetime.now(UTC))

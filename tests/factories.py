"""factory_boy factories for test data, saved through the app's session."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from factory.alchemy import SQLAlchemyModelFactory

from billing import Plan
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
    """A plan of the publisher's catalogue (not synced to Stripe): its tier may be named
    by articles."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    tier = "standard"
    amount = 900


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

"""factory_boy factories for test data, saved through the app's session."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from factory.alchemy import SQLAlchemyModelFactory

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

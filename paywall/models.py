"""Imports every model module so the metadata (and Alembic) sees all tables."""

from paywall.accounts.models import Reader, Role
from paywall.articles.models import Article, MeterView

__all__ = ["Article", "MeterView", "Reader", "Role"]

"""Imports every model module so the metadata (and Alembic) sees all tables."""

from billing import (
    Customer,
    Invoice,
    MalformedWebhook,
    PaymentMethod,
    Plan,
    Subscription,
    WebhookEvent,
)
from paywall.accounts.models import LoginSession, Reader, Role
from paywall.articles.models import Article, MeterView
from paywall.console.models import ArticleConversion, GateView
from paywall.embed.models import ReaderToken, SigningKey, Site, SiteArticle, SiteKey

__all__ = [
    "Article",
    "ArticleConversion",
    "Customer",
    "GateView",
    "Invoice",
    "LoginSession",
    "MalformedWebhook",
    "MeterView",
    "PaymentMethod",
    "Plan",
    "Reader",
    "ReaderToken",
    "Role",
    "SigningKey",
    "Site",
    "SiteArticle",
    "SiteKey",
    "Subscription",
    "WebhookEvent",
]

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
from paywall.accounts.models import LoginSession, Reader, Role, SignInCode
from paywall.articles.models import Article, MeterView
from paywall.audit.models import AuditEvent
from paywall.console.models import ArticleConversion, GateView
from paywall.embed.models import ReaderToken, SigningKey, Site, SiteArticle, SiteKey

__all__ = [
    "Article",
    "ArticleConversion",
    "AuditEvent",
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
    "SignInCode",
    "SigningKey",
    "Site",
    "SiteArticle",
    "SiteKey",
    "Subscription",
    "WebhookEvent",
]

"""Imports every model module so the metadata (and Alembic) sees all tables."""

from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription, WebhookEvent
from paywall.accounts.models import Reader, Role
from paywall.articles.models import Article, MeterView

__all__ = [
    "Article",
    "Customer",
    "Invoice",
    "MeterView",
    "PaymentMethod",
    "Plan",
    "Reader",
    "Role",
    "Subscription",
    "WebhookEvent",
]

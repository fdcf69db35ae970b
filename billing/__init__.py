"""Stripe and subscription state. Never imports Flask or ``paywall``.

This module is the public surface of billing: the web layer imports from ``billing``
only, never from its modules (``tests/test_architecture.py`` checks it). What is not
listed in ``__all__`` is internal to billing.
"""

from billing.catalog import INTERVALS, PlanInput, active_plans, all_plans, save_plan, sync_catalog
from billing.emails_owed import (
    cards_expiring_before_renewal,
    claim_card_reminder,
    claim_failed_payment_notice,
    dispute_notice,
    failed_payment_notice,
    trial_ending_notice,
)
from billing.errors import (
    BillingError,
    BillingOutcomeUnknown,
    BillingRequestError,
    BillingStateError,
    BillingUnavailable,
    CardDeclined,
    InvalidSignature,
)
from billing.gateway import GatewaySettings, StripeGateway, installation_prefix
from billing.golive import check as check_go_live
from billing.golive import setup_webhook
from billing.metrics import Figures, dashboard_figures
from billing.models import Customer, Invoice, PaymentMethod, Plan, Subscription, WebhookEvent
from billing.orm import Base, UTCDateTime, utcnow
from billing.personal_data import billing_records, change_customer_email, forget_customer
from billing.promotions import Promotion, PromotionCodeRefused
from billing.reconcile import customers_to_reconcile, link_customer, refresh_customer
from billing.reports import (
    STATUS_WORDS,
    SUBSCRIBER_ORDER,
    SubscriberRow,
    revenue_summary,
    subscriber_row,
    subscribers_query,
)
from billing.service import (
    CANCEL_REASONS,
    begin_card_setup,
    begin_card_setup_before_account,
    cancel_at_period_end,
    change_plan,
    check_promotion,
    payment_to_confirm,
    preview_plan_change,
    resubscribe,
    subscribe,
    update_card,
)
from billing.service import resume as resume_subscription
from billing.snapshots import CardSnapshot, SubscriptionSnapshot
from billing.state import (
    INVOICE_ORDER,
    PlanView,
    format_money,
    invoice_key,
    invoice_view,
    invoices_query,
    live_subscription,
    overview_for_reader,
    plan_view,
    snapshots_for_reader,
)
from billing.sync import customer_for_reader
from billing.webhooks import (
    Email,
    EventNotApplied,
    FollowUp,
    MalformedWebhook,
    apply_event,
    event_problem,
    is_applied,
    store_event,
    store_malformed,
    unapplied_event_ids,
)

__all__ = [
    "CANCEL_REASONS",
    "INTERVALS",
    "INVOICE_ORDER",
    "STATUS_WORDS",
    "SUBSCRIBER_ORDER",
    "Base",
    "BillingError",
    "BillingOutcomeUnknown",
    "BillingRequestError",
    "BillingStateError",
    "BillingUnavailable",
    "CardDeclined",
    "CardSnapshot",
    "Customer",
    "Email",
    "EventNotApplied",
    "Figures",
    "FollowUp",
    "GatewaySettings",
    "InvalidSignature",
    "Invoice",
    "MalformedWebhook",
    "PaymentMethod",
    "Plan",
    "PlanInput",
    "PlanView",
    "Promotion",
    "PromotionCodeRefused",
    "StripeGateway",
    "SubscriberRow",
    "Subscription",
    "SubscriptionSnapshot",
    "UTCDateTime",
    "WebhookEvent",
    "active_plans",
    "all_plans",
    "apply_event",
    "begin_card_setup",
    "begin_card_setup_before_account",
    "billing_records",
    "cancel_at_period_end",
    "cards_expiring_before_renewal",
    "change_customer_email",
    "change_plan",
    "check_go_live",
    "check_promotion",
    "claim_card_reminder",
    "claim_failed_payment_notice",
    "customer_for_reader",
    "customers_to_reconcile",
    "dashboard_figures",
    "dispute_notice",
    "event_problem",
    "failed_payment_notice",
    "forget_customer",
    "format_money",
    "installation_prefix",
    "invoice_key",
    "invoice_view",
    "invoices_query",
    "is_applied",
    "link_customer",
    "live_subscription",
    "overview_for_reader",
    "payment_to_confirm",
    "plan_view",
    "preview_plan_change",
    "refresh_customer",
    "resubscribe",
    "resume_subscription",
    "revenue_summary",
    "save_plan",
    "setup_webhook",
    "snapshots_for_reader",
    "store_event",
    "store_malformed",
    "subscribe",
    "subscriber_row",
    "subscribers_query",
    "sync_catalog",
    "trial_ending_notice",
    "unapplied_event_ids",
    "update_card",
    "utcnow",
]

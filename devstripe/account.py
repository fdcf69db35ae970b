"""The Stripe account the emulator's secret keys belong to (``GET /v1/account``).

localstripe has no account; the adapter holds one: a test-mode, fully onboarded
standard account in the United States, charging and paying out in USD.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from devstripe.upstream import Answer

if TYPE_CHECKING:
    from devstripe.adapter import Adapter, Call

Obj = dict[str, Any]

DISPLAY_NAME = "Paywall (Stripe emulator)"


def _requirements() -> Obj:
    """Nothing due: the account is fully onboarded."""
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


def test_account(created: int | None = None) -> Obj:
    """A plausible test-mode Account, as ``accounts.retrieve_current`` answers it."""
    created = created or int(time.time())
    return {
        "id": "acct_" + secrets.token_hex(8),
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": "5994",  # news dealers and newsstands
            "minority_owned_business_designation": None,
            "monthly_estimated_revenue": None,
            "name": DISPLAY_NAME,
            "product_description": None,
            "specified_commercial_transactions_act_url": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@example.com",
        "future_requirements": _requirements(),
        "metadata": {},
        "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "bacs_debit_payments": None,
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_issuing": None,
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": "PAYWALL",
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": DISPLAY_NAME, "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
            "payments": {
                "statement_descriptor": "PAYWALL",
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {
                    "delay_days": 2,
                    "interval": "daily",
                    "monthly_anchor": None,
                    "monthly_payout_days": None,
                    "weekly_anchor": None,
                    "weekly_payout_days": None,
                },
                "statement_descriptor": None,
            },
            "paypay_payments": None,
            "sepa_debit_payments": None,
            "treasury": None,
        },
        "tos_acceptance": {
            "date": created,
            "ip": None,
            "service_agreement": "full",
            "user_agent": None,
        },
        "type": "standard",
    }


async def retrieve_account(adapter: Adapter, call: Call) -> Answer:
    """``GET /v1/account``: the account held by the adapter."""
    return Answer(200, adapter.held.account, shaped=True)

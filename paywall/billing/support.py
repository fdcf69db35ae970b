"""What every billing view shares: the Stripe gateway of this app and error handling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, render_template
from flask_login import current_user

from billing import (
    BillingRequestError,
    BillingUnavailable,
    Figures,
    GatewaySettings,
    Overview,
    RevenueSummary,
    StripeGateway,
    Tally,
    dashboard_figures,
    installation_prefix,
    overview_figures,
    revenue_summary,
    subscription_tally,
)
from paywall.caching import FreshCache, cache
from paywall.extensions import db
from paywall.invalidation import BILLING

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def kept_tally() -> Tally:
    """The subscriptions' tally behind the revenue figures, kept per worker until any
    billing row changes: staff pages viewed between changes read no subscription."""
    tallies: FreshCache[str, Tally] = cache("paywall.subscription_tally", (BILLING,), 1)
    found = tallies.fetch("all", lambda: subscription_tally(db.session))
    return found if found is not None else subscription_tally(db.session)


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def kept_figures(now: datetime, weeks: int) -> Figures:
    """The dashboard's billing figures, kept per worker until any billing row changes or
    the minute of ``now`` turns: staff views between changes run none of the range
    aggregates over the last weeks' invoices and subscriptions. Within the minute the
    figures are those of its first view (windows of days and weeks move by seconds)."""
    kept: FreshCache[tuple[int, datetime], Figures] = cache(
        "paywall.dashboard_figures", (BILLING,), 4
    )
    make = lambda: dashboard_figures(db.session, now, weeks, tally=kept_tally())  # noqa: E731
    found = kept.fetch((weeks, _minute(now)), make)
    return found if found is not None else make()


def kept_overview(now: datetime) -> Overview:
    """The staff overview's billing figures, kept like :func:`kept_figures`."""
    kept: FreshCache[datetime, Overview] = cache("paywall.overview_figures", (BILLING,), 2)
    make = lambda: overview_figures(db.session, now, tally=kept_tally())  # noqa: E731
    found = kept.fetch(_minute(now), make)
    return found if found is not None else make()


def kept_revenue(now: datetime) -> RevenueSummary:
    """The subscribers page's revenue summary, kept like :func:`kept_figures`."""
    kept: FreshCache[datetime, RevenueSummary] = cache("paywall.revenue_summary", (BILLING,), 2)
    make = lambda: revenue_summary(db.session, now, kept_tally())  # noqa: E731
    found = kept.fetch(_minute(now), make)
    return found if found is not None else make()


def gateway() -> StripeGateway:
    """This app's Stripe gateway (one per app, so its connection pool is reused)."""
    found = current_app.extensions.get("stripe_gateway")
    if found is None:
        config = current_app.config
        found = StripeGateway(
            GatewaySettings(
                secret_key=config["STRIPE_SECRET_KEY"],
                api_base=config.get("STRIPE_API_BASE"),
                timeout_seconds=config["STRIPE_TIMEOUT_SECONDS"],
                network_retries=config["STRIPE_NETWORK_RETRIES"],
                id_prefix=config.get("STRIPE_ID_PREFIX") or installation_prefix(config["BASE_URL"]),
            )
        )
        current_app.extensions["stripe_gateway"] = found
    return found


def stripe_page_settings() -> dict[str, str]:
    """What a card form page needs to load Stripe.js."""
    return {
        "stripe_js_url": current_app.config["STRIPE_JS_URL"],
        "stripe_publishable_key": current_app.config["STRIPE_PUBLISHABLE_KEY"],
    }


def billing_unavailable_page(error: Exception) -> tuple[str, int]:
    """The "try again" page shown when Stripe cannot be reached."""
    return render_template("billing/unavailable.html", message=str(error)), 503


def stripe_errors_handled(view: F) -> F:
    """Turn a Stripe outage or refusal into a clear "try again" page; nothing is lost."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except BillingUnavailable as error:
            log.warning("Stripe unavailable during %s: %s", view.__name__, error.__cause__)
            return billing_unavailable_page(error)
        except BillingRequestError as error:
            reader = getattr(current_user, "id", None)
            log.error(
                "Stripe refused a request in %s for reader %s: %s", view.__name__, reader, error
            )
            return billing_unavailable_page(
                BillingUnavailable("The payment service refused the request. Please try again.")
            )

    return wrapped  # type: ignore[return-value]

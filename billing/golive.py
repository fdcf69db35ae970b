"""Going live: what is wrong with a Stripe account before readers find out, and the one
webhook endpoint the paywall needs (``paywall stripe check`` / ``setup-webhook``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from billing.catalog import all_plans
from billing.errors import BillingError
from billing.gateway import API_VERSION
from billing.webhooks import SUBSCRIBED_EVENTS


class GoLiveGateway(Protocol):
    def retrieve_account(self) -> dict[str, Any]: ...
    def list_webhook_endpoints(self) -> list[dict[str, Any]]: ...
    def create_webhook_endpoint(self, url: str, events: list[str]) -> dict[str, Any]: ...
    def update_webhook_endpoint(self, endpoint_id: str, events: list[str]) -> dict[str, Any]: ...
    def find_plan(self, plan_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the check: ``ok``, ``warning`` or ``error``."""

    level: str
    text: str


def key_mode(secret_key: str) -> str:
    """``live``, ``test`` or ``unknown``, from the key's prefix (``sk_live_``, ``rk_test_``)."""
    for kind in ("sk", "rk"):
        for mode in ("live", "test"):
            if secret_key.startswith(f"{kind}_{mode}_"):
                return mode
    return "unknown"


def missing_events(endpoint: dict[str, Any]) -> list[str]:
    """The event types we handle that ``endpoint`` does not send."""
    enabled = set(endpoint.get("enabled_events") or [])
    return [] if "*" in enabled else [e for e in SUBSCRIBED_EVENTS if e not in enabled]


def endpoints_for(gateway: GoLiveGateway, url: str) -> list[dict[str, Any]]:
    """The account's webhook endpoints that post to ``url``."""
    return [e for e in gateway.list_webhook_endpoints() if e.get("url") == url]


def _endpoint_findings(endpoints: list[dict[str, Any]], url: str) -> list[Finding]:
    if not endpoints:
        return [
            Finding(
                "error", f"no webhook endpoint posts to {url}: run paywall stripe setup-webhook"
            )
        ]
    findings = []
    for endpoint in endpoints:
        name = f"webhook endpoint {endpoint.get('id')}"
        problems = []
        if endpoint.get("status") != "enabled":
            problems.append(f"it is {endpoint.get('status') or 'not enabled'}")
        if endpoint.get("api_version") != API_VERSION:
            version = endpoint.get("api_version") or "the account's default version"
            problems.append(f"it sends events of {version}, not {API_VERSION}")
        missing = missing_events(endpoint)
        if missing:
            problems.append("it does not send " + ", ".join(missing))
        if problems:
            findings.append(Finding("error", f"{name}: " + "; ".join(problems)))
        else:
            findings.append(Finding("ok", f"{name} posts every event we handle to {url}"))
    return findings


def _catalogue_findings(session: Session, gateway: GoLiveGateway) -> list[Finding]:
    findings = []
    currencies = set()
    for plan in all_plans(session):
        if not plan.active:
            continue
        currencies.add(plan.currency)
        remote = gateway.find_plan(plan.stripe_plan_id) if plan.stripe_plan_id else None
        if remote is None:
            findings.append(
                Finding("error", f"plan {plan.code} is not in Stripe: run paywall sync-catalog")
            )
        elif (remote.get("amount"), remote.get("currency"), remote.get("interval")) != (
            plan.amount,
            plan.currency,
            plan.interval,
        ) or not remote.get("active"):
            findings.append(
                Finding(
                    "error",
                    f"plan {plan.code} differs from Stripe's "
                    f"{plan.stripe_plan_id}: run paywall sync-catalog",
                )
            )
        else:
            findings.append(
                Finding(
                    "ok",
                    f"plan {plan.code}: {plan.amount} {plan.currency} per "
                    f"{plan.interval} ({plan.stripe_plan_id})",
                )
            )
    if not currencies:
        findings.append(Finding("warning", "no plan is on sale"))
    elif len(currencies) > 1:
        findings.append(
            Finding(
                "warning",
                "plans are sold in several currencies ("
                f"{', '.join(sorted(currencies))}); readers cannot change plan "
                "between them",
            )
        )
    return findings


def check(
    session: Session, gateway: GoLiveGateway, *, secret_key: str, webhook_url: str
) -> list[Finding]:
    """Everything ``paywall stripe check`` reports, in order."""
    mode = key_mode(secret_key)
    findings = [Finding("ok" if mode != "unknown" else "warning", f"secret key mode: {mode}")]
    try:
        account = gateway.retrieve_account()
    except BillingError as error:
        return [*findings, Finding("error", f"Stripe account not reachable: {error.message}")]
    name = (account.get("settings") or {}).get("dashboard", {}).get("display_name") or ""
    findings.append(Finding("ok", f"account {account.get('id')} {name}".rstrip()))
    try:
        findings += _endpoint_findings(endpoints_for(gateway, webhook_url), webhook_url)
        findings += _catalogue_findings(session, gateway)
    except BillingError as error:
        findings.append(Finding("error", f"Stripe refused a check: {error.message}"))
    return findings


@dataclass(frozen=True, slots=True)
class WebhookSetup:
    """What ``setup-webhook`` did; ``secret`` only for a new endpoint (shown once)."""

    endpoint_id: str
    created: bool
    secret: str | None
    replaced: tuple[str, ...] = ()


def setup_webhook(gateway: GoLiveGateway, url: str) -> WebhookSetup:
    """Make one enabled endpoint post every event we handle to ``url`` on our API version.

    An endpoint's API version cannot be changed: one on another version is left running
    (so no event is lost while the new secret is put in place) and named for removal.
    """
    events = list(SUBSCRIBED_EVENTS)
    existing = endpoints_for(gateway, url)
    current = [e for e in existing if e.get("api_version") == API_VERSION]
    if current:
        endpoint = gateway.update_webhook_endpoint(current[0]["id"], events)
        return WebhookSetup(endpoint["id"], created=False, secret=None)
    endpoint = gateway.create_webhook_endpoint(url, events)
    others = tuple(e["id"] for e in existing)
    return WebhookSetup(
        endpoint["id"], created=True, secret=endpoint.get("secret"), replaced=others
    )

"""The publisher's plans and their sync to Stripe Products and Plans.

Stripe prices are immutable, so each (amount, currency, interval) of a plan gets its own
Stripe plan id; changing a plan's price creates a new Stripe plan and stops selling the
old one, while existing subscribers keep theirs until they change plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.errors import BillingStateError
from billing.models import Plan
from billing.orm import utcnow
from billing.state import PlanView, plan_view
from billing.sync import PLAN_CODE_KEY

INTERVALS = ("day", "week", "month", "year")

# Told of each change to a plan just before the commit that makes it, so the caller can
# write its record of the change in the same transaction: (action, subject, before, after).
ChangeNote = Callable[[str, str, dict[str, Any] | None, dict[str, Any] | None], Any]
_PLAN_FIELDS = (
    "name",
    "tier",
    "amount",
    "currency",
    "interval",
    "trial_days",
    "description",
    "active",
    "position",
)


class CatalogGateway(Protocol):
    id_prefix: str

    def upsert_product(self, product_id: str, name: str, description: str) -> dict[str, Any]: ...
    def find_plan(self, plan_id: str) -> dict[str, Any] | None: ...
    def create_plan(self, plan_id: str, params: dict[str, Any]) -> dict[str, Any]: ...
    def deactivate_plan(self, plan_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PlanInput:
    """A plan as the publisher defines it."""

    code: str
    name: str
    tier: str
    amount: int
    currency: str = "usd"
    interval: str = "month"
    trial_days: int = 0
    description: str = ""
    active: bool = True
    position: int = 0


def active_plans(session: Session) -> list[PlanView]:
    """Plans on sale (synced to Stripe), in the publisher's order."""
    plans = session.scalars(
        select(Plan)
        .where(Plan.active.is_(True), Plan.stripe_plan_id.is_not(None))
        .order_by(Plan.position, Plan.amount)
    )
    return [plan_view(plan) for plan in plans]


def all_plans(session: Session) -> list[Plan]:
    """Every plan, on sale or not, for the publisher's catalogue page."""
    return list(session.scalars(select(Plan).order_by(Plan.position, Plan.amount)))


def plan_for_sale(session: Session, code: str) -> Plan:
    """The plan ``code`` if it is on sale, else :class:`BillingStateError`."""
    plan = session.scalar(select(Plan).where(Plan.code == code))
    if plan is None or not plan.active or not plan.stripe_plan_id:
        raise BillingStateError("That plan is not on sale.", code="unknown_plan")
    return plan


def _fields_of(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in _PLAN_FIELDS}


def save_plan(session: Session, spec: PlanInput, on_change: ChangeNote | None = None) -> Plan:
    """Create or update the plan ``spec.code`` locally (``sync_catalog`` pushes it)."""
    if spec.interval not in INTERVALS:
        raise BillingStateError(f"Interval must be one of {', '.join(INTERVALS)}.")
    plan = session.scalar(select(Plan).where(Plan.code == spec.code))
    before = _fields_of(plan) if plan is not None else None
    if plan is None:
        plan = Plan(code=spec.code)
        session.add(plan)
    for name in ("name", "tier", "amount", "currency", "interval", "trial_days"):
        setattr(plan, name, getattr(spec, name))
    plan.currency = spec.currency.lower()
    plan.description = spec.description
    plan.active = spec.active
    plan.position = spec.position
    after = _fields_of(plan)
    if on_change is not None and after != before:
        action = "plan.create" if before is None else "plan.update"
        on_change(action, f"plan {plan.code}", before, after)
    session.commit()
    return plan


def stripe_ids(plan: Plan, prefix: str) -> tuple[str, str]:
    """(product id, plan id) in Stripe for the plan's current price, in this installation."""
    product = f"{prefix}_{plan.code}"
    return product, f"{product}_{plan.amount}{plan.currency}_{plan.interval}"


def sync_catalog(
    session: Session, gateway: CatalogGateway, on_change: ChangeNote | None = None
) -> list[str]:
    """Create or update each plan's Stripe Product and Plan; returns what changed.

    Each plan is committed on its own, once Stripe has it; ``on_change`` hears of each
    plan whose Stripe plan changed, before that commit.
    """
    changes: list[str] = []
    for plan in all_plans(session):
        product_id, plan_id = stripe_ids(plan, gateway.id_prefix)
        before = {"stripe_plan_id": plan.stripe_plan_id}
        if not plan.active:
            if plan.stripe_plan_id:
                gateway.deactivate_plan(plan.stripe_plan_id)
                changes.append(f"{plan.code}: no longer on sale ({plan.stripe_plan_id})")
                plan.stripe_plan_id = None
                if on_change is not None:
                    on_change("plan.sync", f"plan {plan.code}", before, {"stripe_plan_id": None})
                session.commit()
            continue
        gateway.upsert_product(product_id, plan.name, plan.description)
        if gateway.find_plan(plan_id) is None:
            params = {
                "product": product_id,
                "amount": plan.amount,
                "currency": plan.currency,
                "interval": plan.interval,
                "nickname": plan.name,
                "metadata": {PLAN_CODE_KEY: plan.code, "tier": plan.tier},
            }
            gateway.create_plan(plan_id, params)
            changes.append(f"{plan.code}: created Stripe plan {plan_id}")
        if plan.stripe_plan_id and plan.stripe_plan_id != plan_id:
            gateway.deactivate_plan(plan.stripe_plan_id)
            changes.append(f"{plan.code}: old price {plan.stripe_plan_id} no longer on sale")
        plan.stripe_product_id, plan.stripe_plan_id = product_id, plan_id
        plan.synced_at = utcnow()
        if on_change is not None and before["stripe_plan_id"] != plan_id:
            on_change("plan.sync", f"plan {plan.code}", before, {"stripe_plan_id": plan_id})
        session.commit()
    return changes

"""Words and buttons for a decision: what the gate and the notices say, and where they lead.

Messages are data (dataclasses), shared by the article page and, later, the JSON API.
A button appears only when its endpoint exists, so billing actions show up by themselves
once the billing blueprint is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for

from paywall.access import Action, Decision, Notice, NoticeCode, Reason


@dataclass(frozen=True, slots=True)
class Copy:
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class ActionLink:
    action: str
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Gate:
    """Everything a reader is told about a decision."""

    reason: str
    access: str
    title: str
    message: str
    actions: tuple[ActionLink, ...]
    notices: tuple[str, ...]


GATE_COPY: dict[Reason, Copy] = {
    Reason.ANONYMOUS: Copy(
        "This article is for subscribers",
        "Subscribe to read the whole story. Already a subscriber? Sign in to keep reading.",
    ),
    Reason.REGISTRATION_REQUIRED: Copy(
        "Create a free account to keep reading",
        "This article is free with an account. It takes a minute, and no card is needed.",
    ),
    Reason.NO_SUBSCRIPTION: Copy(
        "This article is for subscribers",
        "Your account doesn't include a subscription yet. Subscribe to read on.",
    ),
    Reason.METER_EXHAUSTED: Copy(
        "You've read all your free articles this month",
        "Subscribe for unlimited reading; your free articles come back next month.",
    ),
    Reason.PAYMENT_FAILED: Copy(
        "Your last payment failed",
        "We couldn't charge your card for your subscription. Update your card to keep reading.",
    ),
    Reason.CARD_EXPIRED: Copy(
        "Your card on file has expired",
        "Your subscription couldn't renew because your card expired. "
        "Add a new card to keep reading.",
    ),
    Reason.PAYMENT_INCOMPLETE: Copy(
        "Your subscription isn't active yet",
        "Your first payment needs confirming or didn't go through. "
        "Finish the payment or use another card.",
    ),
    Reason.SUBSCRIPTION_ENDED: Copy(
        "Your subscription has ended",
        "Welcome back! Resubscribe to pick up where you left off.",
    ),
    Reason.PLAN_EXCLUDES_ARTICLE: Copy(
        "Your plan doesn't include this article",
        "This article is part of a higher tier. Upgrade your plan to read it.",
    ),
    Reason.PAUSED: Copy(
        "Your subscription is paused",
        "Nothing is charged while it's paused. Resume it to read on.",
    ),
}
# The gate when a renewal waits for the reader's bank (3-D Secure), not for a new card.
CONFIRM_RENEWAL_COPY = Copy(
    "Confirm your renewal payment",
    "Your bank wants you to confirm the payment for your subscription. "
    "Confirm it to keep reading, or use another card.",
)

ACTION_ENDPOINTS: dict[Action, tuple[str, str]] = {
    Action.SIGN_IN: ("accounts.sign_in", "Sign in"),
    Action.SIGN_UP: ("accounts.sign_up", "Create a free account"),
    Action.VERIFY_EMAIL: ("accounts.account", "Confirm your email"),
    Action.SUBSCRIBE: ("billing.subscribe", "Subscribe"),
    Action.UPGRADE: ("billing.subscribe", "Upgrade your plan"),
    Action.UPDATE_CARD: ("billing.update_card", "Update your card"),
    Action.CONFIRM_PAYMENT: ("billing.confirm_payment", "Confirm your payment"),
    Action.RESUME: ("billing.resume", "Resume your subscription"),
}
# Actions that bring the reader back to the article afterwards (all but confirming email).
RETURNING_ACTIONS = frozenset(Action) - {Action.VERIFY_EMAIL}


def _date(moment: datetime | None) -> str:
    return f"{moment:%-d %B %Y}" if moment else "soon"


def notice_text(notice: Notice) -> str:
    """One sentence for a notice riding on a decision."""
    card = notice.card
    ending = f"ending {card.last4} " if card else ""
    match notice.code:
        case NoticeCode.ENDS_ON:
            return f"Your access ends on {_date(notice.when)}."
        case NoticeCode.UPDATE_CARD_BY:
            return (
                "Your last payment failed. Update your card by "
                f"{_date(notice.when)} to keep reading."
            )
        case NoticeCode.CARD_EXPIRES_SOON:
            expiry = card.expiry_label if card else ""
            return f"Your card {ending}expires {expiry} — update it before your next renewal."
        case NoticeCode.CARD_EXPIRED:
            return f"Your card {ending}has expired — add a new one."
        case NoticeCode.METER_REMAINING:
            count = notice.count or 0
            noun = "article" if count == 1 else "articles"
            return f"You have {count} free {noun} left this month."
        case NoticeCode.TRIAL_ENDS_ON:
            return f"Your free trial ends on {_date(notice.when)}."
        case NoticeCode.CONFIRM_PAYMENT_BY:
            return (
                "Your bank wants you to confirm your renewal payment. Confirm it by "
                f"{_date(notice.when)} to keep reading."
            )
        case NoticeCode.PAYMENT_DISPUTED:
            return "Your subscription was ended because a payment was disputed with your bank."
    return ""


def action_links(decision: Decision, return_to: str) -> tuple[ActionLink, ...]:
    """Buttons for the decision's actions whose pages exist, in the decision's order."""
    links = []
    for action in decision.actions:
        endpoint, label = ACTION_ENDPOINTS[action]
        if endpoint not in current_app.view_functions:
            continue
        params = {"next": return_to} if action in RETURNING_ACTIONS else {}
        links.append(ActionLink(action.value, label, url_for(endpoint, **params)))
    return tuple(links)


def present(decision: Decision, return_to: str) -> Gate:
    """The gate (for a teaser) or the notices (for full access) of ``decision``."""
    copy = GATE_COPY.get(decision.reason, Copy("", ""))
    if decision.reason is Reason.PAYMENT_FAILED and decision.actions[:1] == (
        Action.CONFIRM_PAYMENT,
    ):
        copy = CONFIRM_RENEWAL_COPY
    return Gate(
        reason=decision.reason.value,
        access=decision.access,
        title=copy.title,
        message=copy.message,
        actions=action_links(decision, return_to),
        notices=tuple(notice_text(n) for n in decision.notices),
    )

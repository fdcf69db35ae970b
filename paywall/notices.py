"""Billing notices on every page: a failed payment, a card that will not pay the next
renewal, a renewal the reader's bank wants confirmed.

They come from the access decision a paid article would get (so the words and the next
steps are the gate's own), read from the reader's billing snapshot, which each worker
keeps (``paywall.kept_billing.billing_snapshots``): no Stripe call, and no query
once kept. They belong to one reader, so they are rendered into the page's reader part
on every request (base.html's ``notices`` block; the article page's reader hole), never
into anything kept for all readers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import render_template, request
from flask_login import current_user
from markupsafe import Markup

from billing import utcnow
from paywall.access import (
    AccessLevel,
    AccessRequest,
    ArticleAccess,
    Decision,
    NoticeCode,
    Reason,
    decide,
)
from paywall.gate import ActionLink, action_links, notice_text, present

# The notices that follow a reader everywhere; the others (access ends on, free articles
# left, trial ends on) only matter next to an article.
BILLING_NOTICE_CODES = frozenset(
    {
        NoticeCode.UPDATE_CARD_BY,
        NoticeCode.CONFIRM_PAYMENT_BY,
        NoticeCode.CARD_EXPIRES_SOON,
        NoticeCode.CARD_EXPIRED,
    }
)
# Reasons whose gate is itself the notice: a teaser because the payment is not made.
UNPAID_REASONS = frozenset({Reason.PAYMENT_FAILED, Reason.CARD_EXPIRED})
PAID_ARTICLE = ArticleAccess(AccessLevel.PAID)
# A paid article's full text for these comes from the subscription alone.
READ_ON_A_SUBSCRIPTION = frozenset(
    {Reason.SUBSCRIBER, Reason.TRIALING, Reason.CANCELING, Reason.GRACE_PERIOD}
)
# The billing pages say all of this in their own words, with the forms to act on it.
QUIET_BLUEPRINTS = frozenset({"billing"})


@dataclass(frozen=True, slots=True)
class ReaderNotice:
    """One line of a notice and the links that act on it."""

    code: str
    text: str
    links: tuple[ActionLink, ...] = ()


def billing_decision(reader: object) -> Decision | None:
    """What a paid article would say to ``reader`` about their billing (staff and comps
    aside: their billing is still theirs to fix); None when they have no subscription
    and no card, so nothing to say (most signed-in readers: no decision made for them)."""
    from paywall.articles.reading import access_settings, reader_state
    from paywall.kept_billing import billing_snapshots

    subscription, card = billing_snapshots(reader.id)  # type: ignore[attr-defined]
    if subscription is None and card is None:
        return None
    state = replace(reader_state(reader), is_staff=False, is_comped=False)  # type: ignore[arg-type]
    return decide(
        AccessRequest(
            reader=state,
            article=PAID_ARTICLE,
            now=utcnow(),
            subscription=subscription,
            card=card,
            settings=access_settings(),
        )
    )


def billing_notices(decision: Decision, return_to: str) -> tuple[ReaderNotice, ...]:
    """The every-page notices of a reader's billing decision."""
    links = action_links(decision, return_to)
    if decision.reason in UNPAID_REASONS:
        return (ReaderNotice(decision.reason.value, present(decision, return_to).message, links),)
    return tuple(
        ReaderNotice(notice.code.value, notice_text(notice), links)
        for notice in decision.notices
        if notice.code in BILLING_NOTICE_CODES
    )


def notices_for_request() -> tuple[ReaderNotice, ...]:
    """The billing notices of this request's reader (none for nobody, on billing pages)."""
    reader = current_user._get_current_object()  # type: ignore[attr-defined]
    if not reader.is_authenticated or request.blueprint in QUIET_BLUEPRINTS:
        return ()
    decision = billing_decision(reader)
    return billing_notices(decision, request.path) if decision is not None else ()


def article_notices(
    decision: Decision, return_to: str, *, paid_article: bool = False
) -> tuple[ReaderNotice, ...]:
    """An article page's notices: the reader's billing ones (unless the gate already says
    the payment is missing), then the article decision's own.

    A paid article read on a subscription was decided exactly as the billing notices
    would be, so that decision gives them without a second one.
    """
    if decision.reason in UNPAID_REASONS:
        billing: tuple[ReaderNotice, ...] = ()
    elif paid_article and decision.reason in READ_ON_A_SUBSCRIPTION:
        billing = billing_notices(decision, return_to)
    else:
        billing = notices_for_request()
    links = action_links(decision, return_to) if decision.notices else ()
    own = tuple(
        ReaderNotice(notice.code.value, notice_text(notice), links)
        for notice in decision.notices
        if notice.code not in BILLING_NOTICE_CODES
    )
    return (*billing, *own)


def reader_notices() -> Markup:
    """base.html's notices block for this request's reader."""
    found = notices_for_request()
    if not found:
        return Markup("")
    return Markup(render_template("_notices.html", notices=found))  # noqa: S704

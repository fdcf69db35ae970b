"""The reading path: gather the decision's inputs for (reader, article) and decide.

Reads local tables only. Billing state comes from the local snapshot that webhooks and
reconciliation keep current; Stripe is never called from here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from billing import utcnow
from paywall.access import (
    ANONYMOUS,
    AccessLevel,
    AccessRequest,
    ArticleAccess,
    Decision,
    Meter,
    ReaderState,
    Reason,
    Settings,
    decide,
)
from paywall.accounts.models import Reader, SessionReader
from paywall.articles.models import MeterView
from paywall.articles.service import ArticlePage
from paywall.extensions import db
from paywall.kept_billing import billing_snapshots, running_gift

SUBSCRIBER_LEVELS = (AccessLevel.PAID, AccessLevel.TIERS)


def reader_state(reader: Reader | SessionReader | None) -> ReaderState:
    """What the decision needs to know about ``reader`` (None: nobody signed in)."""
    if reader is None:
        return ANONYMOUS
    return ReaderState(
        signed_in=True,
        email_verified=reader.email_verified,
        is_staff=reader.is_staff,
        is_comped=reader.is_comped,
        comped_until=reader.comped_until,
    )


def access_settings() -> Settings:
    """The publisher settings the decision reads, from the app config."""
    config = current_app.config
    return Settings(
        grace_period=timedelta(days=config["GRACE_PERIOD_DAYS"]),
        require_verified_email=config["REQUIRE_VERIFIED_EMAIL"],
    )


def meter_period(now: datetime) -> str:
    """The meter's calendar month, e.g. ``"2026-11"``."""
    return now.strftime("%Y-%m")


def meter_for(reader_id: int, article_id: int, now: datetime) -> Meter:
    """This month's meter for the reader (an empty one when metering is off)."""
    allowance = current_app.config["METER_FREE_VIEWS"]
    if allowance <= 0:
        return Meter()
    rows = db.session.execute(
        select(func.count(), func.sum((MeterView.article_id == article_id).cast(db.Integer)))
        .select_from(MeterView)
        .where(MeterView.reader_id == reader_id, MeterView.period == meter_period(now))
    ).one()
    return Meter(allowance=allowance, used=rows[0] or 0, counted_this_article=bool(rows[1]))


def claim_meter_view(reader_id: int, article_id: int, now: datetime, allowance: int) -> bool:
    """Spend a free view on this article if one is left this month; False if none is.

    Counting and spending are one statement, and the reader's row is locked first on
    databases that lock rows (PostgreSQL; SQLite runs one writer at a time anyway), so
    views at the same moment never spend more than the allowance. An article already
    counted this month (by a request a moment ago) stays readable.
    """
    period = meter_period(now)
    db.session.execute(select(Reader.id).where(Reader.id == reader_id).with_for_update())
    used = (
        select(func.count())
        .select_from(MeterView)
        .where(MeterView.reader_id == reader_id, MeterView.period == period)
        .scalar_subquery()
    )
    view = select(
        literal(reader_id),
        literal(article_id),
        literal(period),
        literal(now, MeterView.viewed_at.type),
    ).where(used < allowance)
    columns = ["reader_id", "article_id", "period", "viewed_at"]
    try:
        claim = insert(MeterView).from_select(columns, view)
        claimed = db.session.execute(claim.execution_options(preserve_rowcount=True))
        db.session.commit()
    except IntegrityError:  # another request of the same reader counted it first
        db.session.rollback()
        return True
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _unconfirmed_email_matters(state: ReaderState, access: ArticleAccess) -> bool:
    """The publisher requires confirmed emails for free-account articles, and this one is
    such an article read by a reader who has not confirmed theirs."""
    return (
        access.level is AccessLevel.REGISTERED
        and current_app.config["REQUIRE_VERIFIED_EMAIL"]
        and not state.email_verified
    )


def decide_for(reader: Reader | SessionReader | None, article: ArticlePage) -> Decision:
    """Decide whether ``reader`` reads ``article`` in full, and record a metered view."""
    now = utcnow()
    state = reader_state(reader)
    access = article.access
    subscription = card = gift = None
    meter = Meter()
    # Billing state, gifts and the meter only matter to a signed-in reader on a paid article
    # who is neither staff nor comped (those rules answer before any billing rule).
    paying_matters = not state.is_staff and not state.comp_is_active(now)
    settings = access_settings()
    if reader is not None and paying_matters and access.level in SUBSCRIBER_LEVELS:
        subscription, card = billing_snapshots(reader.id)
        gift = running_gift(reader.id, now)
        meter = meter_for(reader.id, article.id, now)
    elif reader is not None and paying_matters and _unconfirmed_email_matters(state, access):
        # A subscriber is never held back by an unconfirmed email: look the subscription up.
        subscription, card = billing_snapshots(reader.id)
        gift = running_gift(reader.id, now)
    request = AccessRequest(
        reader=state,
        article=access,
        now=now,
        subscription=subscription,
        card=card,
        gift=gift,
        meter=meter,
        settings=settings,
    )
    decision = decide(request)
    if (
        reader is not None
        and decision.reason is Reason.METERED
        and not meter.counted_this_article
        and not claim_meter_view(reader.id, article.id, now, meter.allowance)
    ):
        # Other views of this reader spent the last free one a moment ago.
        spent = Meter(allowance=meter.allowance, used=meter.allowance)
        decision = decide(replace(request, meter=spent))
    return decision

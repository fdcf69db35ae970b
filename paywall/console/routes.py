"""The console's pages: overview, dashboard, the staff's articles list and preview."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from billing import utcnow
from paywall.access import AccessLevel
from paywall.accounts.decorators import staff_required
from paywall.articles.models import Article
from paywall.articles.pages import render_shell
from paywall.articles.service import ArticleSummary
from paywall.billing.support import kept_figures, kept_overview
from paywall.console import bp, charts
from paywall.console.funnel import article_funnels
from paywall.console.gate_views import flush_to_database
from paywall.console.models import SIGN_UP, SUBSCRIPTION, ArticleConversion, GateView
from paywall.console.staff_articles import (
    ORDER,
    STATES,
    VIEWER_WORDS,
    Viewer,
    articles_query,
    page_of,
    preview_decision,
    state_of,
)
from paywall.extensions import db
from paywall.masthead import masthead
from paywall.pagination import requested_page

FUNNEL_DAYS = 30


def money(amount: int, currency: str) -> str:
    """``1650, "usd"`` → ``16.50 USD``: the code always shown, as currencies sit side by side."""
    return f"{amount / 100:,.2f} {currency.upper()}"


def _today_counts(now: datetime) -> dict[str, int]:
    """Gate views, sign-ups and subscriptions credited to articles since midnight UTC."""
    midnight = datetime.combine(now.date(), time(), UTC)
    views = db.session.scalar(
        select(func.coalesce(func.sum(GateView.views), 0)).where(GateView.day == now.date())
    )
    kinds = dict(
        db.session.execute(
            select(ArticleConversion.kind, func.count())
            .where(ArticleConversion.created_at >= midnight)
            .group_by(ArticleConversion.kind)
        ).all()
    )
    return {
        "gate_views": int(views or 0),
        "sign_ups": int(kinds.get(SIGN_UP, 0)),
        "subscriptions": int(kinds.get(SUBSCRIPTION, 0)),
    }


@bp.get("/admin")
@staff_required
def overview() -> str:
    """Today's key numbers and the way to every staff page."""
    flush_to_database()
    now = utcnow()
    figures = kept_overview(now)
    # Two counts over ranges of the (published_at, id) index, never a pass over articles.
    drafts, scheduled = (
        db.session.scalar(select(func.count()).select_from(Article).where(where))
        for where in (Article.published_at.is_(None), Article.published_at > now)
    )
    return render_template(
        "console/overview.html",
        figures=figures,
        this_week=figures.this_week,
        today=_today_counts(now),
        drafts=drafts,
        scheduled=scheduled,
        money=money,
    )


def _week_label(start: datetime) -> str:
    return start.strftime("%-d %b")


@bp.get("/admin/dashboard")
@staff_required
def dashboard() -> str:
    """Charts of revenue, subscribers, trials, recovered payments and article funnels."""
    flush_to_database()
    now = utcnow()
    figures = kept_figures(now, weeks=12)
    labels = [_week_label(week.start) for week in figures.weeks]
    movement = charts.grouped_bars(
        labels,
        [[w.new for w in figures.weeks], [w.churned for w in figures.weeks]],
        ["new", "churned"],
    )
    running = charts.line(
        labels, [w.running for w in figures.weeks], [str(w.running) for w in figures.weeks]
    )
    revenue = {
        currency: charts.line(
            labels,
            [amount / 100 for amount in amounts],
            [money(amount, currency) for amount in amounts],
        )
        for currency, amounts in figures.weekly_recurring.items()
    }
    since = now.date() - timedelta(days=FUNNEL_DAYS - 1)
    return render_template(
        "console/dashboard.html",
        figures=figures,
        labels=labels,
        movement=movement,
        running=running,
        revenue=revenue,
        funnels=article_funnels(since),
        funnel_days=FUNNEL_DAYS,
        money=money,
        chart_size=(charts.WIDTH, charts.HEIGHT),
    )


@bp.get("/admin/articles")
@staff_required
def articles() -> str:
    """Every article, drafts and scheduled ones too: searched by title, filtered by access
    level and state, newest first, a page at a time."""
    title = request.args.get("title", "").strip()[:300]
    access_arg = request.args.get("access") or None
    state = request.args.get("state") or None
    try:
        access = AccessLevel(access_arg) if access_arg else None
    except ValueError:
        abort(400, "There is no such access level.")
    if state is not None and state not in STATES:
        abort(400, "There is no such article state.")
    now = utcnow()
    page = requested_page(
        articles_query(title=title, access=access, state=state, now=now),
        ORDER,
        noun="articles",
        shape=(int,),
        item=lambda row: ArticleSummary(*row),
        key=lambda summary: (summary.id,),
    )
    return render_template(
        "console/articles.html",
        page=page,
        title=title,
        access=access.value if access else None,
        state=state,
        states=STATES,
        levels=[level.value for level in AccessLevel],
        state_of=lambda summary: state_of(summary, now),
    )


@bp.get("/admin/articles/<int:article_id>/preview")
@staff_required
def preview(article_id: int) -> str:
    """The article as an anonymous visitor, a free account or a subscriber sees it,
    drafts and scheduled articles included, from the real decision and templates."""
    found = db.session.get(Article, article_id)
    if found is None:
        abort(404, "There is no such article.")
    try:
        viewer = Viewer(request.args.get("as", Viewer.ANONYMOUS.value))
    except ValueError:
        abort(400, "Preview as anonymous, reader or subscriber.")
    page = page_of(found)
    decision = preview_decision(page, viewer, utcnow())
    shell = render_shell(page, decision, url_for("articles.article", slug=page.slug))
    bar = render_template(
        "console/_preview_bar.html",
        article=found,
        viewer=viewer,
        viewers=VIEWER_WORDS,
        decision=decision,
        state=state_of(page, utcnow()),
    )
    return Markup(shell.fill(masthead(), "", bar))  # noqa: S704 (rendered, autoescaped)

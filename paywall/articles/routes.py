"""Front page, article pages with the gate, and the editor's article form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import click
from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from billing import utcnow
from paywall.access import Decision, Reason
from paywall.accounts.decorators import staff_required
from paywall.accounts.models import SessionReader
from paywall.articles import bp
from paywall.articles.forms import ArticleForm
from paywall.articles.models import Article
from paywall.articles.pages import article_page
from paywall.articles.reading import decide_for
from paywall.articles.service import (
    ArticleError,
    ArticleSummary,
    author_page,
    find_article,
    find_page,
    front_page,
    newest_drafts,
    plan_tiers,
    save_article,
    section_page,
)
from paywall.console.gate_views import count_gate_view
from paywall.extensions import db
from paywall.headers import share_with_anonymous
from paywall.pagination import BadCursor, Page
from paywall.purging import LISTS, article_key
from paywall.validation import show_on_form


def _signed_in_reader() -> SessionReader | None:
    """The signed-in reader itself (not the proxy: the reading path reads it often)."""
    reader = current_user._get_current_object()  # type: ignore[attr-defined]
    return reader if reader.is_authenticated else None


def shareable_with_anonymous(decision: Decision) -> bool:
    """Whether an anonymous reader's article page may be kept by shared caches: a
    teaser, or a free article in full; never the text past a gate."""
    return not decision.is_full or decision.reason is Reason.FREE_ARTICLE


@bp.get("/")
def home() -> Response:
    """The front page: published articles, newest first, a page at a time (staff also
    see scheduled articles, and the newest drafts above the first page)."""
    reader = _signed_in_reader()
    staff = bool(reader and reader.is_staff)
    older, newer = request.args.get("older"), request.args.get("newer")
    try:
        page = front_page(staff=staff, older=older, newer=newer)
    except BadCursor:
        abort(400, "This page of stories does not exist; start again from the front page.")
    drafts, draft_count = newest_drafts() if staff and page.newer is None else ([], 0)
    response = make_response(
        render_template("articles/home.html", page=page, drafts=drafts, draft_count=draft_count)
    )
    if reader is None:
        share_with_anonymous(response, [LISTS])
    return response


@bp.get("/sections/<slug>")
def section(slug: str) -> Response:
    """A section's published articles, newest first, a page at a time."""
    return _list_page(slug, section_page, "section")


@bp.get("/authors/<slug>")
def author(slug: str) -> Response:
    """An author's published articles, newest first, a page at a time."""
    return _list_page(slug, author_page, "author")


def _list_page(slug: str, read: Callable[..., Page[ArticleSummary]], kind: str) -> Response:
    """A section's or author's list; 404 when nothing published is in it."""
    older, newer = request.args.get("older"), request.args.get("newer")
    try:
        page = read(slug, older=older, newer=newer)
    except BadCursor:
        abort(400, "This page of stories does not exist; start again from the first.")
    if not page.items and not (older or newer):
        abort(404, f"There is no such {kind}.")
    name = getattr(page.items[0], kind) if page.items else slug
    response = make_response(
        render_template("articles/list.html", page=page, kind=kind, name=name, slug=slug)
    )
    if _signed_in_reader() is None:
        share_with_anonymous(response, [LISTS])
    return response


@bp.get("/articles/<slug>")
def article(slug: str) -> Response:
    """An article: in full, or its teaser and a gate that says why and what to do."""
    reader = _signed_in_reader()
    staff = bool(reader and reader.is_staff)
    found = find_page(slug, include_unpublished=staff)
    if found is None:
        abort(404, "There is no article at this address.")
    decision = decide_for(reader, found)
    if not decision.is_full:
        count_gate_view(found.id, utcnow().date())
    response = make_response(article_page(found, decision, reader))
    if reader is None and shareable_with_anonymous(decision):
        share_with_anonymous(response, [article_key(found.id)])
    return response


@bp.route("/editor/articles/new", methods=["GET", "POST"])
@staff_required
def new_article() -> str | BaseResponse:
    """Write a new article."""
    form = ArticleForm()
    form.offer_tiers(plan_tiers(), [])
    return _article_form_page(None, form)


@bp.route("/editor/articles/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit_article(slug: str) -> str | BaseResponse:
    """Edit an existing article."""
    existing = find_article(slug, include_unpublished=True)
    if existing is None:
        abort(404, "There is no article at this address.")
    current = [tier for tier in existing.tiers.split(",") if tier]
    form = ArticleForm(obj=existing)
    form.offer_tiers(plan_tiers(), current)
    if not form.is_submitted():
        form.tiers.data = current
        form.published.data = existing.published_at is not None
        form.published_at.data = (
            existing.published_at.replace(tzinfo=None) if existing.published_at else None
        )
    return _article_form_page(existing, form)


def _article_form_page(existing: Article | None, form: ArticleForm) -> str | BaseResponse:
    """Save a valid submission and show the article; otherwise show the form again."""
    if form.validate_on_submit():
        saved = _save_from_form(existing, form)
        if saved is not None:
            flash("Article saved.", "success")
            return redirect(url_for("articles.article", slug=saved.slug))
    return render_template("articles/edit.html", form=form, article=existing)


def _save_from_form(existing: Article | None, form: ArticleForm) -> Article | None:
    """Save the form's article; on a domain error, put it on the field and return None."""
    published_at = None
    if form.published.data:
        chosen = form.published_at.data
        published_at = chosen.replace(tzinfo=UTC) if chosen else utcnow()
    try:
        return save_article(
            existing,
            title=form.title.data or "",
            slug=form.slug.data or "",
            author=form.author.data or "",
            section=form.section.data or "",
            dek=form.dek.data or "",
            access_level=form.access_level.data or "paid",
            tiers=form.tiers.data or [],
            body_source=form.body_source.data or "",
            body_format=form.body_format.data or "markdown",
            teaser_paragraphs=form.teaser_paragraphs.data,
            published_at=published_at,
        )
    except ArticleError as error:
        db.session.rollback()
        show_on_form(form, error)
        return None


@bp.cli.command("import-articles")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=None))
def import_articles_command(directory: str) -> None:
    """Load Markdown files with front matter from DIRECTORY (same slug: updated)."""
    from pathlib import Path

    from paywall.articles.importer import import_directory

    report = import_directory(Path(directory))
    click.echo(f"{len(report.created)} created, {len(report.updated)} updated.")
    for name, why in report.errors:
        click.secho(f"skipped {name}: {why}", fg="yellow", err=True)
    if report.errors:
        raise SystemExit(1)

"""Editors write articles in a form; a directory of Markdown files can be imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing import Plan
from paywall.articles.models import Article
from paywall.extensions import db
from tests.factories import ArticleFactory, EditorFactory, PlanFactory, ReaderFactory
from tests.helpers import sign_in, text


def article_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Article))


def test_editor_publishes_an_article_through_the_form(web, app_ctx):
    EditorFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    form = web.get("/editor/articles/new").forms["article-form"]
    form["title"] = "Tram line reopens"
    form["dek"] = "After a summer of works."
    form["access_level"] = "paid"
    form["body_source"] = "First.\n\nSecond.\n\n<!-- more -->\n\nThird, for subscribers."
    form["published"] = True
    page = form.submit().follow()
    assert "Article saved." in text(page)
    assert "Third, for subscribers." in text(page)  # editors read in full

    article = db.session.scalar(select(Article).where(Article.slug == "tram-line-reopens"))
    assert article.teaser_html == "<p>First.</p>\n<p>Second.</p>"
    assert article.published_at is not None

    web.reset()
    anonymous = web.get("/articles/tram-line-reopens")
    assert "Third, for subscribers." not in anonymous.text


def test_editor_form_shows_field_errors_and_saves_nothing(web, app_ctx):
    EditorFactory(email="ed@example.com")
    ArticleFactory(slug="taken", title="Taken")
    sign_in(web, "ed@example.com")
    cases = [
        ({"title": "", "body_source": "x"}, "This field is required."),
        (
            {"title": "T", "body_source": "x", "access_level": "tiers"},
            "Tick at least one plan tier.",
        ),
        ({"title": "T", "body_source": "x", "slug": "taken"}, "already uses the address"),
        ({"title": "T", "body_source": "x", "teaser_paragraphs": "-1"}, "Number must be"),
    ]
    for values, error in cases:
        form = web.get("/editor/articles/new").forms["article-form"]
        for name, value in values.items():
            form[name] = value
        page = form.submit()
        assert page.status_code == 200
        assert error in text(page), values
    assert article_count() == 1


def test_editor_edits_an_article_and_the_teaser_is_re_rendered(web, app_ctx):
    EditorFactory(email="ed@example.com")
    article = ArticleFactory(title="Old title")
    sign_in(web, "ed@example.com")
    form = web.get(f"/editor/articles/{article.slug}/edit").forms["article-form"]
    assert form["title"].value == "Old title"
    form["title"] = "New title"
    form["body_source"] = "Only the new first paragraph.\n\nAnd a second."
    form["teaser_paragraphs"] = "1"
    form.submit().follow()
    db.session.refresh(article)
    assert article.title == "New title"
    assert article.teaser_html == "<p>Only the new first paragraph.</p>"


def test_readers_cannot_reach_the_editor(web, app_ctx):
    ReaderFactory(email="reader@example.com")
    assert web.get("/editor/articles/new").status_code == 302  # sign in first
    sign_in(web, "reader@example.com")
    assert web.get("/editor/articles/new", expect_errors=True).status_code == 403
    assert web.post("/editor/articles/new", expect_errors=True).status_code in (400, 403)
    assert article_count() == 0


def test_import_articles_creates_then_updates_and_reports_bad_files(
    runner, app_ctx, tmp_path: Path
):
    PlanFactory(tier="standard"), PlanFactory(tier="premium")
    (tmp_path / "good.md").write_text(
        "---\ntitle: Imported story\naccess: [premium, standard]\n"
        "published: 2026-11-01\n---\nOne.\n\nTwo.\n\nThree.\n"
    )
    (tmp_path / "no-title.md").write_text("---\nauthor: x\n---\nBody\n")
    (tmp_path / "bad-access.md").write_text("---\ntitle: X\naccess: vip\n---\nBody\n")
    (tmp_path / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\nBody\n")

    result = runner.invoke(args=["import-articles", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 created, 0 updated." in result.output
    for name in ("no-title.md", "bad-access.md", "bad-yaml.md"):
        assert f"skipped {name}" in result.output
    article = db.session.scalar(select(Article).where(Article.slug == "imported-story"))
    assert article.access_level == "tiers" and article.tiers == "premium,standard"

    (tmp_path / "good.md").write_text("---\ntitle: Imported story\naccess: free\n---\nNew.\n")
    for name in ("no-title.md", "bad-access.md", "bad-yaml.md"):
        (tmp_path / name).unlink()
    result = runner.invoke(args=["import-articles", str(tmp_path)])
    assert result.exit_code == 0 and "0 created, 1 updated." in result.output
    db.session.refresh(article)
    assert article.access_level == "free" and article_count() == 1


def test_an_article_names_only_tiers_that_plans_have(web, app_ctx):
    """A typo in a tier once locked an article for everyone and told premium subscribers
    to upgrade: the form offers the plans' tiers only, and saving refuses any other."""
    PlanFactory(tier="standard"), PlanFactory(tier="premium")
    EditorFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    form = web.get("/editor/articles/new").forms["article-form"]
    offered = sorted(field._value for field in form.fields["tiers"])
    assert offered == ["premium", "standard"]

    form["title"], form["body_source"], form["access_level"] = "Tiered", "Body.", "tiers"
    typo = [(name, value) for name, value in form.submit_fields() if name != "tiers"]
    page = web.post("/editor/articles/new", [*typo, ("tiers", "premuim")])
    assert "is not a valid choice" in text(page.html.select_one("#tiers-errors"))
    assert article_count() == 0

    for field in form.fields["tiers"]:
        field.checked = field._value == "premium"
    saved = form.submit().follow()
    assert "Article saved." in text(saved)
    assert db.session.scalar(select(Article.tiers)) == "premium"
    again = web.get("/editor/articles/tiered/edit").forms["article-form"]
    assert [f._value for f in again.fields["tiers"] if f.checked] == ["premium"]


def test_every_way_in_refuses_a_tier_no_plan_has(app_ctx, runner, tmp_path: Path):
    PlanFactory(tier="premium")
    from paywall.articles.service import ArticleError, save_article

    with pytest.raises(ArticleError) as refused:
        save_article(None, title="T", body_source="x", access_level="tiers", tiers="premuim")
    assert refused.value.field == "tiers"
    assert "No plan has the tier 'premuim'. The plans' tiers: premium." in refused.value.message
    (tmp_path / "typo.md").write_text("---\ntitle: Typo\naccess: [premuim]\n---\nBody\n")
    result = runner.invoke(args=["import-articles", str(tmp_path)])
    assert result.exit_code == 1 and "No plan has the tier 'premuim'" in result.output
    assert article_count() == 0


def test_an_article_keeping_a_tier_no_plan_has_any_more_says_so(web, app_ctx):
    PlanFactory(code="gold", tier="gold")
    article = ArticleFactory(access_level="tiers", tiers="gold")
    db.session.execute(Plan.__table__.update().values(tier="premium"))
    db.session.commit()
    sign_in(web, EditorFactory().email)
    page = web.get(f"/editor/articles/{article.slug}/edit")
    assert "gold (no plan has this tier)" in text(page)
    saved = page.forms["article-form"].submit()
    assert "No plan has the tier 'gold'" in text(saved)

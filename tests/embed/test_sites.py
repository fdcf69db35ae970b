"""Editors register sites and manage their keys: staff only, CSRF on every form, the
secret key shown once and stored as a digest."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from paywall.embed.keys import digest
from paywall.embed.models import Site, SiteKey
from paywall.extensions import db
from tests.factories import AdminFactory, ReaderFactory
from tests.helpers import sign_in, text


def register(
    web, name="Harbour News", origins="https://news.example.com\nhttps://www.news.example.com"
):
    page = web.get("/admin/sites")
    form = page.forms["site-form"]
    form["name"] = name
    form["allowed_origins"] = origins
    return form.submit()


def shown_secret(page) -> str:
    found = re.search(r"pw_sk_[A-Za-z0-9_-]+", page.text)
    assert found, "no secret key on the page"
    return found.group(0)


def test_admin_registers_a_site_and_sees_the_secret_key_once(web, app_ctx):
    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    page = register(web)
    secret = shown_secret(page)
    assert "shown this once" in text(page)
    site = db.session.scalar(select(Site))
    assert site.origins == ("https://news.example.com", "https://www.news.example.com")
    assert f'data-site="{site.public_key}"' in text(page)
    stored = db.session.scalar(select(SiteKey))
    assert stored.digest == digest(secret) and secret not in stored.digest

    again = web.get(f"/admin/sites/{site.id}")
    assert secret not in again.text
    assert stored.prefix in again.text


def test_rotating_shows_a_new_key_and_the_old_one_stops_working(web, client, app_ctx):
    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    old = shown_secret(register(web))
    site = db.session.scalar(select(Site))
    page = web.get(f"/admin/sites/{site.id}")
    rotated = page.forms["rotate-key-form"].submit()
    new = shown_secret(rotated)
    assert new != old
    for key, status in ((old, 401), (new, 200)):
        response = client.get("/api/v1/articles", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == status


def test_bad_origins_are_explained_on_the_form(web, app_ctx):
    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    page = register(web, origins="news.example.com/path")
    assert "is not an origin" in text(page)
    assert db.session.scalar(select(Site)) is None


def test_readers_and_visitors_cannot_manage_sites(web, app_ctx):
    assert web.get("/admin/sites").status_int == 302
    ReaderFactory(email="reader@example.com")
    sign_in(web, "reader@example.com")
    assert web.get("/admin/sites", expect_errors=True).status_int == 403


def test_site_forms_need_the_csrf_token(make_app, app_ctx):
    from tests.conftest import browser_for

    AdminFactory(email="ed@example.com")
    web = browser_for(make_app(WTF_CSRF_ENABLED=True))
    sign_in(web, "ed@example.com")
    response = web.post(
        "/admin/sites",
        {"name": "X", "allowed_origins": "https://x.example.com"},
        expect_errors=True,
    )
    assert response.status_int == 400
    assert db.session.scalar(select(Site)) is None


def test_create_site_and_rotate_key_commands_print_keys_once(runner, app_ctx):
    made = runner.invoke(
        args=["create-site", "Harbour News", "--origin", "https://news.example.com"]
    )
    assert made.exit_code == 0, made.output
    secret = re.search(r"pw_sk_\S+", made.output).group(0)
    site_key = re.search(r"pw_pk_\S+", made.output).group(0)
    assert f'data-site="{site_key}"' in made.output
    rotated = runner.invoke(args=["rotate-key", site_key])
    assert rotated.exit_code == 0, rotated.output
    assert re.search(r"pw_sk_\S+", rotated.output).group(0) != secret
    keys = db.session.scalars(select(SiteKey).order_by(SiteKey.id)).all()
    assert [k.is_active for k in keys] == [False, True]
    bad = runner.invoke(args=["create-site", "X", "--origin", "not an origin"])
    assert bad.exit_code != 0 and "is not an origin" in bad.output


def test_revoking_keys_and_disabling_the_site_from_its_page(web, client, app_ctx):
    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    secret = shown_secret(register(web))
    site = db.session.scalar(select(Site))
    auth = {"Authorization": f"Bearer {secret}"}
    web.get(f"/admin/sites/{site.id}").forms["revoke-keys-form"].submit().follow()
    assert client.get("/api/v1/articles", headers=auth).status_code == 401

    page = web.get(f"/admin/sites/{site.id}").forms["toggle-site-form"].submit().follow()
    assert "This site is disabled" in text(page)
    decision = client.get(f"/api/v1/sites/{site.public_key}/decisions/any")
    assert decision.get_json()["error"]["code"] == "unknown_site"


def test_a_new_site_key_replaces_the_old_one_and_readers_stay_signed_in(
    app, web, publisher, readers, app_ctx
):
    from tests.embed.conftest import token_through_popup

    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    publisher.put("story")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    web.get(f"/admin/sites/{publisher.site_id}").forms["rotate-site-key-form"].submit()
    assert publisher.decision("story").get_json()["error"]["code"] == "unknown_site"
    publisher.site_key = db.session.scalar(select(Site.public_key))
    assert publisher.decision("story", token).get_json()["reason"] == "comped"


def test_rotate_key_command_can_replace_the_site_key(runner, publisher, app_ctx):
    result = runner.invoke(args=["rotate-key", publisher.site_key, "--site-key"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Site.public_key)) != publisher.site_key


def test_create_site_prints_one_closed_script_tag_and_checks_plan_codes(runner, app_ctx):
    from billing import PlanInput, save_plan

    save_plan(db.session, PlanInput("monthly", "Monthly", "standard", 500))
    refused = runner.invoke(
        args=["create-site", "Harbour", "--origin", "https://news.example.com", "--plans", "mnthly"]
    )
    assert refused.exit_code != 0 and "'mnthly'" in refused.output and "monthly" in refused.output
    assert db.session.scalar(select(Site)) is None
    made = runner.invoke(
        args=[
            *("create-site", "Harbour", "--origin", "https://news.example.com"),
            *("--plans", "monthly", "--accent", "#1D4ED8"),
        ]
    )
    assert made.exit_code == 0, made.output
    site = db.session.scalar(select(Site))
    assert site.plans == ("monthly",) and site.accent_color == "#1d4ed8"
    tag = re.search(r"<script .*", made.output).group(0)
    assert tag == (
        f'<script src="http://paywall.test/embed.js" data-site="{site.public_key}" async></script>'
    )


def test_a_sites_default_plans_are_ticked_from_the_plans_that_exist(web, runner, app_ctx):
    from tests.factories import PlanFactory

    PlanFactory(code="monthly"), PlanFactory(code="yearly")
    AdminFactory(email="ed@example.com")
    sign_in(web, "ed@example.com")
    form = web.get("/admin/sites").forms["site-form"]
    assert sorted(f._value for f in form.fields["plan_codes"]) == ["monthly", "yearly"]
    form["name"], form["allowed_origins"] = "Harbour News", "https://news.example.com"
    typo = [(name, value) for name, value in form.submit_fields() if name != "plan_codes"]
    page = web.post("/admin/sites", [*typo, ("plan_codes", "montly")])
    assert "is not a valid choice" in text(page.html.select_one("#plan_codes-errors"))
    assert db.session.scalar(select(Site)) is None

    for field in form.fields["plan_codes"]:
        field.checked = field._value == "yearly"
    form.submit()
    site = db.session.scalar(select(Site))
    assert site.plans == ("yearly",)
    assert [f._value for f in web.get(f"/admin/sites/{site.id}").forms["site-form"].fields[
        "plan_codes"] if f.checked] == ["yearly"]  # fmt: skip

    result = runner.invoke(
        args=["create-site", "Other", "--origin", "https://b.example.com", "--plans", "montly"]
    )
    assert result.exit_code == 2 and "There is no plan 'montly'" in result.output
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1

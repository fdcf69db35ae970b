"""Editors write articles; only admins touch prices, plans, comps, sites, keys and roles,
and every such change is in the audit log: who, what, when, from where, before and after."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from paywall.accounts.models import Reader
from paywall.audit.log import record
from paywall.audit.models import AuditEvent
from paywall.embed.models import Site, SiteKey
from paywall.extensions import db
from tests.factories import AdminFactory, EditorFactory, ReaderFactory
from tests.helpers import sign_in, sign_in_client, text
from tests.lists.helpers import walk

ADMIN_PAGES = ("/admin/plans", "/admin/sites", "/admin/sites/{site}", "/admin/audit")
ADMIN_POSTS = (
    "/admin/plans",
    "/admin/plans/sync",
    "/admin/comps",
    "/admin/comps/{reader}/revoke",
    "/admin/sites",
    "/admin/sites/{site}",
    "/admin/sites/{site}/rotate",
    "/admin/sites/{site}/site-key",
    "/admin/sites/{site}/revoke",
    "/admin/sites/{site}/disable",
    "/admin/sites/{site}/enable",
    "/admin/readers/{reader}/role",
)


def csrf_token(client, path: str = "/editor/articles/new") -> str:  # type: ignore[no-untyped-def]
    """The form token of the signed-in browser, as any of its pages carries it."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).text)[1]


def events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def a_site(app_ctx) -> Site:
    from paywall.embed.sites import create_site

    made = create_site("Harbour News", "https://news.example.com")
    db.session.execute(AuditEvent.__table__.delete())
    db.session.commit()
    return made.site


def test_an_editor_is_refused_every_admin_page_and_action(client, app_ctx, a_site):
    reader = ReaderFactory(is_comped=True)
    sign_in_client(client, EditorFactory())
    ids = {"site": a_site.id, "reader": reader.id}
    for path in ADMIN_PAGES:
        assert client.get(path.format(**ids)).status_code == 403, path
    token = csrf_token(client)
    for path in ADMIN_POSTS:
        data = {"csrf_token": token, "role": "admin", "email": reader.email}
        response = client.post(path.format(**ids), data=data)
        assert response.status_code == 403, path
    db.session.expire_all()
    assert db.session.get(Reader, reader.id).is_comped is True
    assert events() == []
    # What editors keep: articles, and the lists of readers and subscribers.
    for path in ("/editor/articles/new", "/admin/readers", f"/admin/readers/{reader.id}"):
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/subscribers").status_code == 200


def test_an_editor_sees_no_links_or_forms_for_what_only_admins_do(web, app_ctx):
    comped = ReaderFactory(email="comped@example.com", is_comped=True)
    sign_in(web, EditorFactory().email)
    for path in ("/admin/subscribers", "/admin/readers", f"/admin/readers/{comped.id}"):
        page = web.get(path)
        for admin_only in ("/admin/plans", "/admin/sites", "/admin/audit", "/admin/comps"):
            assert admin_only not in page.text, (path, admin_only)
        assert "role-form" not in page.forms and "comp-form" not in page.forms
    assert "Only admins grant or end complimentary access." in text(web.get("/admin/subscribers"))


def test_an_admin_sees_the_links_and_forms(web, app_ctx):
    comped = ReaderFactory(email="comped@example.com", is_comped=True)
    sign_in(web, AdminFactory().email)
    page = web.get("/admin/subscribers")
    assert "comp-form" in page.forms
    for link in ("/admin/plans", "/admin/sites", "/admin/audit"):
        assert link in page.text
    assert "role-form" in web.get(f"/admin/readers/{comped.id}").forms


def test_an_admin_makes_an_editor_an_admin_and_it_holds_at_once(web, make_app, app_ctx):
    from tests.conftest import browser_for

    admin = AdminFactory(email="boss@example.com")
    editor = EditorFactory(email="ed@example.com")
    editors_browser = browser_for(make_app())
    sign_in(editors_browser, editor.email)
    assert editors_browser.get("/admin/audit", expect_errors=True).status_int == 403

    web.extra_environ["REMOTE_ADDR"] = "203.0.113.9"
    sign_in(web, admin.email)
    form = web.get(f"/admin/readers/{editor.id}").forms["role-form"]
    form["role"] = "admin"
    page = form.submit().follow()
    assert "ed@example.com is now an admin." in text(page)
    assert editors_browser.get("/admin/audit").status_int == 200

    (event,) = events()
    assert (event.action, event.subject) == ("role.change", "reader ed@example.com")
    assert (event.before, event.after) == ({"role": "editor"}, {"role": "admin"})
    assert (event.actor_id, event.actor_email) == (admin.id, "boss@example.com")
    assert event.ip == "203.0.113.9" and event.created_at is not None


def test_an_admin_cannot_change_their_own_role(client, app_ctx):
    admin = AdminFactory()
    sign_in_client(client, admin)
    token = csrf_token(client)
    page = client.post(
        f"/admin/readers/{admin.id}/role", data={"role": "reader", "csrf_token": token}
    )
    assert page.status_code == 422
    assert "You cannot change your own role" in text(page)
    db.session.expire_all()
    assert db.session.get(Reader, admin.id).role == "admin"
    assert events() == []


def test_an_unknown_role_is_a_field_error(client, app_ctx):
    reader = ReaderFactory()
    sign_in_client(client, AdminFactory())
    token = csrf_token(client)
    page = client.post(
        f"/admin/readers/{reader.id}/role", data={"role": "owner", "csrf_token": token}
    )
    assert page.status_code == 422 and "Not a valid choice" in text(page)
    assert events() == []


def test_create_admin_on_the_command_line_is_logged_without_an_actor(runner, app_ctx):
    EditorFactory(email="ed@example.com")
    result = runner.invoke(args=["create-admin", "ed@example.com", "--role", "admin"])
    assert result.exit_code == 0, result.output
    (event,) = events()
    assert (event.action, event.before, event.after) == (
        "role.change",
        {"role": "editor"},
        {"role": "admin"},
    )
    assert event.actor_id is None and event.actor_email == "" and event.ip is None


def test_granting_and_ending_a_comp_are_each_logged_once(web, app_ctx):
    reader = ReaderFactory(email="friend@example.com")
    sign_in(web, AdminFactory().email)
    form = web.get("/admin/subscribers").forms["comp-form"]
    form["email"] = "friend@example.com"
    form["until"] = "2999-12-31"
    form.submit()
    web.get(f"/admin/readers/{reader.id}").forms["revoke-comp"].submit()

    granted, ended = events()
    assert (granted.action, granted.subject) == ("comp.grant", "reader friend@example.com")
    assert granted.before == {"comped": False, "until": None}
    assert granted.after["comped"] is True and granted.after["until"].startswith("2999-12-31")
    assert ended.action == "comp.revoke"
    assert (ended.before, ended.after) == (granted.after, {"comped": False, "until": None})


def test_each_site_and_key_change_is_logged_once_and_never_with_a_secret(web, app_ctx):
    sign_in(web, AdminFactory().email)
    page = web.get("/admin/sites")
    form = page.forms["site-form"]
    form["name"] = "Harbour News"
    form["allowed_origins"] = "https://news.example.com"
    shown = form.submit()
    first_secret = re.search(r"pw_sk_[A-Za-z0-9_-]+", shown.text).group(0)
    site = db.session.scalar(select(Site))

    page = web.get(f"/admin/sites/{site.id}")
    form = page.forms["site-form"]
    form["allowed_origins"] = "https://news.example.com\nhttps://www.news.example.com"
    form.submit()
    rotated = web.get(f"/admin/sites/{site.id}").forms["rotate-key-form"].submit()
    second_secret = re.search(r"pw_sk_[A-Za-z0-9_-]+", rotated.text).group(0)
    old_site_key = site.public_key
    web.get(f"/admin/sites/{site.id}").forms["rotate-site-key-form"].submit()
    web.get(f"/admin/sites/{site.id}").forms["revoke-keys-form"].submit()
    web.get(f"/admin/sites/{site.id}").forms["toggle-site-form"].submit()  # disable
    web.get(f"/admin/sites/{site.id}").forms["toggle-site-form"].submit()  # enable

    logged = events()
    assert [e.action for e in logged] == [
        "site.create",
        "site.update",
        "key.rotate",
        "site_key.rotate",
        "key.revoke",
        "site.disable",
        "site.enable",
    ]
    created, updated, rotation, site_key, revoked, disabled, enabled = logged
    first_prefix, second_prefix = (k.prefix for k in db.session.scalars(select(SiteKey)))
    assert created.before is None
    assert created.after["origins"] == ["https://news.example.com"]
    assert created.after["secret_keys"] == [first_prefix]
    assert updated.before["origins"] == ["https://news.example.com"]
    assert updated.after["origins"] == ["https://news.example.com", "https://www.news.example.com"]
    assert (rotation.before, rotation.after) == (
        {"secret_keys": [first_prefix]},
        {"secret_keys": [second_prefix]},
    )
    assert site_key.before == {"site_key": old_site_key}
    assert (revoked.before, revoked.after) == (
        {"secret_keys": [second_prefix]},
        {"secret_keys": []},
    )
    assert (disabled.after, enabled.after) == ({"enabled": False}, {"enabled": True})
    every_row = repr([(e.before, e.after, e.subject) for e in logged])
    assert first_secret not in every_row and second_secret not in every_row


def test_saving_a_site_unchanged_logs_nothing(web, app_ctx, a_site):
    sign_in(web, AdminFactory().email)
    web.get(f"/admin/sites/{a_site.id}").forms["site-form"].submit()
    assert events() == []


def test_the_audit_page_pages_through_every_event_and_filters(client, app_ctx):
    admin = AdminFactory(email="boss@example.com")
    for number in range(45):
        action = "comp.grant" if number % 3 else "site.disable"
        db.session.add(
            AuditEvent(actor_id=admin.id, actor_email=admin.email, action=action,
                       subject=f"thing {number}", ip="10.0.0.1")
        )  # fmt: skip
    db.session.add(AuditEvent(action="role.change", subject="thing 45"))
    db.session.commit()
    sign_in_client(client, admin)

    def subjects(page) -> list[str]:  # type: ignore[no-untyped-def]
        return re.findall(r": (thing \d+)</span>", page.text)

    pages = walk(client, "/admin/audit", subjects)
    assert [len(p) for p in pages] == [20, 20, 6]
    assert [s for page in pages for s in page] == [f"thing {n}" for n in range(45, -1, -1)]
    assert "command line" in client.get("/admin/audit").text

    disabled = [s for p in walk(client, "/admin/audit?action=site.disable", subjects) for s in p]
    assert disabled == [f"thing {n}" for n in range(42, -1, -3)]
    by_boss = [s for p in walk(client, "/admin/audit?actor=BOSS@", subjects) for s in p]
    assert len(by_boss) == 45 and "thing 45" not in by_boss
    assert client.get("/admin/audit?action=nonsense").status_code == 400
    assert client.get("/admin/audit?older=junk").status_code == 400


def test_an_unknown_action_is_a_programming_error(app_ctx):
    with pytest.raises(ValueError, match="Unknown audit action"):
        record("plan.delete", "plan x")

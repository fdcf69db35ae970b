"""Admins register publisher sites and manage their keys (staff only, CSRF on every form).

A new secret key is shown once, on the page that answers the POST that made it; only
its digest is stored.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from paywall.accounts.decorators import admin_required
from paywall.embed import bp, sites
from paywall.embed.forms import KeyActionForm, SiteForm
from paywall.embed.models import Site
from paywall.extensions import db
from paywall.pagination import requested_page
from paywall.validation import show_on_form


def _site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        abort(404, "There is no site with this number.")
    return site


def _submitted(form: SiteForm) -> tuple[str, str, list[str]]:
    return form.name.data or "", form.allowed_origins.data or "", form.plan_codes.data or []


def _site_form(site: Site | None = None, *, fresh: bool = False) -> SiteForm:
    """The site form offering the plans' codes; ``fresh``: showing ``site`` as saved."""
    form = SiteForm(obj=site, formdata=None) if fresh else SiteForm(obj=site)
    current = site.plans if site is not None else ()
    if site is not None and (fresh or not form.is_submitted()):
        form.plan_codes.data = list(current)
    return form.offer_plans(sites.plan_codes(), current)


def _look(form: SiteForm) -> dict[str, str]:
    return {"logo_url": form.logo_url.data or "", "accent_color": form.accent_color.data or ""}


def _site_page(site: Site, form: SiteForm, new_secret: str | None = None) -> str:
    keys = requested_page(
        sites.keys_query(site),
        sites.KEY_ORDER,
        noun="keys",
        shape=(int,),
        item=lambda row: row[0],
        key=lambda site_key: (site_key.id,),
    )
    return render_template(
        "embed/site.html",
        site=site,
        keys=keys,
        form=form,
        action_form=KeyActionForm(formdata=None),
        new_secret=new_secret,
        script_tag=sites.script_tag(site.public_key),
    )


@bp.route("/admin/sites", methods=["GET", "POST"])
@admin_required
def sites_page() -> str:
    """The registered sites a page at a time, and the form that registers a new one."""
    form = _site_form()
    if form.validate_on_submit():
        try:
            made = sites.create_site(*_submitted(form), **_look(form))
        except sites.SiteError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            return _site_page(made.site, _site_form(made.site, fresh=True), made.secret_key)
    page = requested_page(
        sites.sites_query(),
        sites.SITE_ORDER,
        noun="sites",
        shape=(int,),
        item=lambda row: row[0],
        key=lambda site: (site.id,),
    )
    return render_template("embed/sites.html", page=page, form=form)


@bp.route("/admin/sites/<int:site_id>", methods=["GET", "POST"])
@admin_required
def site_page(site_id: int) -> str | Response:
    """A site's settings, script tag and keys."""
    site = _site_or_404(site_id)
    form = _site_form(site)
    if form.validate_on_submit():
        try:
            sites.update_site(site, *_submitted(form), **_look(form))
        except sites.SiteError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            flash("Site saved.", "success")
            return redirect(url_for("embed.site_page", site_id=site.id))
    return _site_page(site, form)


@bp.post("/admin/sites/<int:site_id>/rotate")
@admin_required
def rotate_key(site_id: int) -> str | Response:
    """Make a new secret key; the old ones stop working at once."""
    site = _site_or_404(site_id)
    if not KeyActionForm().validate_on_submit():
        return redirect(url_for("embed.site_page", site_id=site.id))
    made = sites.rotate_secret_key(site)
    return _site_page(site, _site_form(site, fresh=True), made.secret_key)


@bp.post("/admin/sites/<int:site_id>/site-key")
@admin_required
def rotate_site_key(site_id: int) -> Response:
    """Give the site a new publishable key (its script tags must change too)."""
    site = _site_or_404(site_id)
    if KeyActionForm().validate_on_submit():
        sites.rotate_site_key(site)
        flash("New site key made: update the site's script tags.", "success")
    return redirect(url_for("embed.site_page", site_id=site.id))


@bp.post("/admin/sites/<int:site_id>/revoke")
@admin_required
def revoke_keys(site_id: int) -> Response:
    """Revoke every secret key of the site."""
    site = _site_or_404(site_id)
    if KeyActionForm().validate_on_submit():
        count = sites.revoke_secret_keys(site)
        flash(f"Revoked {count} key{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("embed.site_page", site_id=site.id))


@bp.post("/admin/sites/<int:site_id>/<any(disable, enable):change>")
@admin_required
def toggle_site(site_id: int, change: str) -> Response:
    """Disable a site (keys and reader tokens stop at once) or enable it again."""
    site = _site_or_404(site_id)
    if KeyActionForm().validate_on_submit():
        sites.set_site_enabled(site, change == "enable")
        flash(f"Site {change}d.", "success")
    return redirect(url_for("embed.site_page", site_id=site.id))

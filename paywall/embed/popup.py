"""The popup on the paywall's origin, and ``embed.js`` itself.

A publisher's page cannot use the paywall's cookies (they are third-party there), so
its buttons open ``/embed/connect`` in a popup, where they are first-party. The popup
signs the reader in with the ordinary pages, issues a reader token bound to the site and
hands it to the opener with ``postMessage`` aimed at the site's registered origin only;
then it goes on to the step the button named (subscribe, update the card, ...) or closes.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from paywall.access import Action
from paywall.embed import bp
from paywall.embed.decisions import iso
from paywall.embed.sites import SiteRecord, active_site
from paywall.embed.tokens import issue_token
from paywall.gate import ACTION_ENDPOINTS

COOP = "Cross-Origin-Opener-Policy"
# Steps a button may name, and what the popup does first.
SIGN_UP_FIRST = {Action.SIGN_UP.value}
POPUP_JOURNEY = b"embed"


def keep_the_opener(response: Response) -> Response:
    """Pages of the popup's journey keep their link to the opener.

    The site's pages use ``Cross-Origin-Opener-Policy: same-origin-allow-popups``, which
    would cut a popup opened by another origin off from its opener, and with it the
    ``postMessage`` back. Only ``/embed/`` pages and pages on the way back to one (whose
    ``next`` leads to ``/embed/``) opt out; ``paywall.headers`` leaves a set value alone.
    """
    if request.path.startswith("/embed/") or (
        POPUP_JOURNEY in request.query_string
        and (request.args.get("next") or "").startswith("/embed/")
    ):
        response.headers[COOP] = "unsafe-none"
    return response


def _popup_site() -> tuple[SiteRecord, str]:
    """The site and opener origin the popup was opened for, or a 400 page."""
    site = active_site(request.args.get("site", ""))
    origin = request.args.get("origin", "")
    if site is None or not site.allows(origin):
        abort(400, "This window was opened by a site that is not registered with us.")
    return site, origin


def _next_step(action: str | None, site: SiteRecord, origin: str) -> str:
    """Where the popup goes after handing over the token ("" to close)."""
    if not action or action in (Action.SIGN_IN.value, Action.SIGN_UP.value):
        return ""
    try:
        endpoint, _ = ACTION_ENDPOINTS[Action(action)]
    except ValueError:
        return ""
    if endpoint not in current_app.view_functions:
        return ""
    back = url_for("embed.done", site=site.public_key, origin=origin)
    params: dict[str, str] = {"next": back}
    if endpoint == "billing.subscribe" and len(site.plans) == 1:
        endpoint = "billing.checkout"
        params["code"] = site.plans[0]
    return url_for(endpoint, **params)


@bp.get("/embed/connect")
def connect() -> str | BaseResponse:
    """Sign the reader in if needed, then hand a reader token to the opener."""
    site, origin = _popup_site()
    if not current_user.is_authenticated:
        here = url_for(
            "embed.connect", site=site.public_key, origin=origin, then=request.args.get("then")
        )
        first = "sign_up" if request.args.get("then") in SIGN_UP_FIRST else "sign_in"
        return redirect(url_for(f"accounts.{first}", next=here))
    token, expires_at = issue_token(site.id, current_user.id, current_user.security_stamp)
    return Response(
        render_template(
            "embed/connect.html",
            site=site,
            origin=origin,
            token=token,
            expires_at=iso(expires_at),
            next_step=_next_step(request.args.get("then"), site, origin),
        )
    )


@bp.get("/embed/done")
def done() -> str:
    """The end of a step taken in the popup: tell the opener to look again, and close."""
    site, origin = _popup_site()
    return render_template("embed/done.html", site=site, origin=origin)


@bp.get("/embed.js")
def script() -> Response:
    """The script publishers put on their pages."""
    folder = f"{current_app.static_folder}/js"
    response = send_from_directory(folder, "embed.js", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

"""The popup on the paywall's origin, and ``embed.js`` itself.

A publisher's page cannot use the paywall's cookies (they are third-party there), so
its buttons open ``/embed/connect`` in a popup, where they are first-party. The popup
signs the reader in with the ordinary pages, issues a reader token bound to the site and
hands it to the opener with ``postMessage`` aimed at the site's registered origin only;
then it goes on to the step the button named (subscribe, update the card, ...) or closes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from billing import utcnow
from paywall.access import Action
from paywall.accounts import sessions
from paywall.embed import bp
from paywall.embed.decisions import iso
from paywall.embed.forms import KeyActionForm
from paywall.embed.sites import SiteRecord, active_site
from paywall.embed.tokens import issue_token
from paywall.gate import ACTION_ENDPOINTS
from paywall.headers import CSP, origin_of
from paywall.kept_billing import billing_snapshots
from paywall.security import safe_next_url

COOP = "Cross-Origin-Opener-Policy"
# Steps a button may name, and what the popup does first.
SIGN_UP_FIRST = {Action.SIGN_UP.value}

POPUP_JOURNEY = b"embed"
POPUP_PAGES = "/embed/"
POPUP_SITE = "embed_popup_site"


def popup_site() -> SiteRecord | None:
    """The publisher site whose popup this page is in; None on an ordinary page.

    A page is in the popup when it is one of ``/embed/`` (opened with ``site`` and
    ``origin``), or on the way back to one: its ``next`` leads to ``/embed/``. Every
    page of the journey passes ``next`` on (even a form posts to its own address, query
    included), so each is drawn as the publisher's, not the paywall's.
    """
    if POPUP_SITE not in g:
        setattr(g, POPUP_SITE, _find_popup_site())
    found: SiteRecord | None = getattr(g, POPUP_SITE)
    return found


def _find_popup_site() -> SiteRecord | None:
    if request.path.startswith(POPUP_PAGES):
        args: dict[str, str] = request.args.to_dict()
    elif POPUP_JOURNEY in request.query_string:
        args = dict(parse_qsl(urlsplit(popup_next() or "").query))
    else:
        return None
    site = active_site(args.get("site", ""))
    return site if site is not None and site.allows(args.get("origin", "")) else None


def popup_next() -> str | None:
    """Where the popup's journey goes on to: this page when it is ``/embed/connect``,
    else its ``next`` when that leads to ``/embed/``."""
    if request.path.startswith(POPUP_PAGES):
        return request.full_path
    target = safe_next_url(request.args.get("next"))
    return target if target and target.startswith(POPUP_PAGES) else None


def flow_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the popup's journey going (its ``next``) inside the popup."""
    following = popup_next() if popup_site() is not None else None
    if following:
        values["next"] = following
    return url_for(endpoint, **values)


def keep_the_opener(response: Response) -> Response:
    """Pages of the popup's journey keep their link to the opener, and may show the
    site's logo.

    The site's pages use ``Cross-Origin-Opener-Policy: same-origin-allow-popups``, which
    would cut a popup opened by another origin off from its opener, and with it the
    ``postMessage`` back. Only ``/embed/`` pages and pages on the way back to one (whose
    ``next`` leads to ``/embed/``) opt out; ``paywall.headers`` leaves a set value alone.
    Their CSP is the app's with the logo's origin added to ``img-src``, nothing else.
    """
    if not request.path.startswith(POPUP_PAGES) and not (
        POPUP_JOURNEY in request.query_string and popup_next()
    ):
        return response
    response.headers[COOP] = "unsafe-none"
    site = popup_site()
    if site is not None and site.logo_url:
        policy = current_app.extensions[CSP]
        logo = origin_of(site.logo_url)
        response.headers[CSP] = policy.replace("img-src ", f"img-src {logo} ", 1)
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
    if action == Action.SUBSCRIBE and _subscribed(current_user.id):
        # Subscribed in one step on the way here (the checkout made the account): thanks.
        return url_for("embed.done", site=site.public_key, origin=origin, step=action)
    try:
        endpoint, _ = ACTION_ENDPOINTS[Action(action)]
    except ValueError:
        return ""
    if endpoint not in current_app.view_functions:
        return ""
    back = url_for("embed.done", site=site.public_key, origin=origin, step=action)
    if endpoint == "billing.subscribe":
        return _subscribe_url(site, back)
    return url_for(endpoint, next=back)


def _subscribed(reader_id: int) -> bool:
    """Whether the reader has a paid-up subscription, from the kept billing snapshot."""
    subscription, _ = billing_snapshots(reader_id)
    return subscription is not None and subscription.is_paid_up(utcnow())


def _subscribe_url(site: SiteRecord, back: str) -> str:
    """The site's plan's checkout when it offers one plan, else the plans page."""
    if len(site.plans) == 1:
        return url_for("billing.checkout", code=site.plans[0], next=back)
    return url_for("billing.subscribe", next=back)


# ``prompt=choose``: the reader signed out on the publisher's page, so the popup asks
# whether to go on as the account this browser is signed in to, or use another.
CHOOSE = "choose"


@bp.get("/embed/connect")
def connect() -> str | BaseResponse:
    """Sign the reader in if needed, then hand a reader token to the opener."""
    site, origin = _popup_site()
    then = request.args.get("then")
    here = url_for("embed.connect", site=site.public_key, origin=origin, then=then)
    if not current_user.is_authenticated:
        if then == Action.SUBSCRIBE.value:
            # Subscribing makes the account in the same step, then comes back here.
            return redirect(_subscribe_url(site, here))
        first = "sign_up" if then in SIGN_UP_FIRST else "sign_in"
        return redirect(url_for(f"accounts.{first}", next=here))
    if request.args.get("prompt") == CHOOSE:
        return render_template(
            "embed/choose.html",
            site=site,
            origin=origin,
            then=then or "",
            go_on=here,
            form=KeyActionForm(),
        )
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


@bp.post("/embed/switch")
def switch_account() -> BaseResponse:
    """Sign this browser out of the paywall, then sign in afresh, still in the popup."""
    site, origin = _popup_site()
    here = url_for(
        "embed.connect", site=site.public_key, origin=origin, then=request.args.get("then")
    )
    if KeyActionForm().validate_on_submit():
        sessions.sign_out()
    return redirect(url_for("accounts.sign_in", next=here))


@bp.get("/embed/done")
def done() -> str:
    """The end of a step taken in the popup: tell the opener to look again, and close."""
    site, origin = _popup_site()
    step = request.args.get("step", "")
    return render_template(
        "embed/done.html", site=site, origin=origin, step=step if step in DONE_STEPS else ""
    )


# Steps the publisher's page thanks the reader for when the popup closes.
DONE_STEPS = frozenset(
    a.value
    for a in (
        Action.SUBSCRIBE,
        Action.UPGRADE,
        Action.UPDATE_CARD,
        Action.CONFIRM_PAYMENT,
        Action.RESUME,
    )
)


@bp.get("/embed/theme.css")
def theme() -> Response:
    """The popup's accent colour, as a stylesheet (the CSP allows no inline style)."""
    site = active_site(request.args.get("site", ""))
    accent = site.accent_color if site is not None else ""
    css = ""
    if accent:
        red, green, blue = (int(accent[i : i + 2], 16) for i in (1, 3, 5))
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 160
        css = f":root{{--accent:{accent};--accent-ink:{'#1d1d1f' if light else '#ffffff'}}}\n"
    return Response(css, mimetype="text/css")


@bp.get("/embed.js")
def script() -> Response:
    """The script publishers put on their pages."""
    folder = f"{current_app.static_folder}/js"
    response = send_from_directory(folder, "embed.js", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

"""What the reader's billing pages (checkout and account) share: where to go next, and
the page with the card form."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

import billing
from paywall.billing.forms import CardForm
from paywall.billing.support import gateway, stripe_page_settings
from paywall.extensions import db
from paywall.security import safe_next_url


def next_target(value: str | None = None) -> str | None:
    """Where to go after the page: the form's or the query's ``next``, if it is safe."""
    return safe_next_url(value or request.args.get("next"))


def back_to(target: str | None) -> Response:
    """Go on to ``target``, or to the reader's billing page."""
    return redirect(target or url_for("billing.account"))


def card_page(
    template: str, form: CardForm, status: int = 200, **context: object
) -> tuple[str, int]:
    """A page with the card form, backed by a fresh SetupIntent."""
    setup = billing.begin_card_setup(db.session, gateway(), current_user.id, current_user.email)
    page = render_template(
        template, form=form, client_secret=setup.client_secret, **stripe_page_settings(), **context
    )
    return page, status

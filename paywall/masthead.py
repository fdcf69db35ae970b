"""The masthead's account links: the one part of every page that names its reader.

They are rendered in the reader-free environment (``paywall.templating``) from explicit
values only: the signed-in reader's email and role, the sign-out form's token and where
"Sign in" should return to. Each worker keeps the result keyed by exactly those values,
so a cached masthead can only ever be shown to a request that would render the same one.

The sign-out form's CSRF token is signed afresh once per ``TOKEN_WINDOW_SECONDS`` for a
browser's form secret rather than on every page: a token at most that old is still
valid for all but that much of ``WTF_CSRF_TIME_LIMIT``.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from paywall.caching import FreshCache, cache
from paywall.templating import render_reader_free

MASTHEADS, MASTHEAD_ENTRIES = "paywall.mastheads", 8192
TEMPLATE = "_masthead.html"
TOKEN_WINDOW_SECONDS = 300
# Pages whose "Sign in" link brings the reader back to them.
RETURNS_AFTER_SIGN_IN = frozenset({"articles.article"})


def masthead() -> Markup:
    """The masthead's account links for this request's reader."""
    reader = current_user._get_current_object()  # type: ignore[attr-defined]
    if not reader.is_authenticated:
        back = request.path if request.endpoint in RETURNS_AFTER_SIGN_IN else None
        return _kept(("anonymous", back), lambda: _render(next_path=back))
    form_secret = session.get(current_app.config["WTF_CSRF_FIELD_NAME"])
    signed_in: dict[str, Any] = {"reader_email": reader.email, "staff": reader.is_staff}
    if not form_secret:  # the token creates the browser's secret: nothing to share yet
        return _render(**signed_in, sign_out_token=generate_csrf())
    window = int(time.time()) // TOKEN_WINDOW_SECONDS
    key = ("reader", reader.email, reader.is_staff, form_secret, window)
    return _kept(key, lambda: _render(**signed_in, sign_out_token=generate_csrf()))


def _kept(key: tuple[object, ...], render: Any) -> Markup:
    # With template auto-reload (development), a template edit must show at once.
    if current_app.jinja_env.auto_reload:
        return render()  # type: ignore[no-any-return]
    kept: FreshCache[tuple[object, ...], Markup] = cache(MASTHEADS, (), MASTHEAD_ENTRIES)
    found = kept.fetch(key, render)
    assert found is not None
    return found


def _render(
    *,
    reader_email: str | None = None,
    staff: bool = False,
    sign_out_token: str | None = None,
    next_path: str | None = None,
) -> Markup:
    # An autoescaped template's output: safe as it stands.
    return Markup(  # noqa: S704
        render_reader_free(
            TEMPLATE,
            reader_email=reader_email,
            staff=staff,
            sign_out_token=sign_out_token,
            next_path=next_path,
        )
    )

"""View decorators for who may see a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])


def staff_required(view: F) -> F:
    """Editors and admins only: others are sent to sign in, or refused with 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(403, "Only editors can do that.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Admins only (prices, plans, comps, sites and keys, roles, the audit log): others
    are sent to sign in, or refused with 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403, "Only admins can do that.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]

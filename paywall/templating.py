"""The reader-free template environment, for HTML kept and shared between readers.

It loads the app's templates but has none of its globals: no request, session, signed-in
reader, CSRF token or ``url_for``, and an undefined name is an error. What is rendered
there is a function of the values passed in and the site's name and links alone, so a
cache keyed by those values can never hand one reader's page to another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from jinja2 import Environment, StrictUndefined

ENVIRONMENT = "paywall.reader_free_environment"
SITE_VALUES = ("site_name", "links")


def reader_free_environment() -> Environment:
    """The app's templates with none of its globals (see the module docstring)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found: Environment | None = app.extensions.get(ENVIRONMENT)
    if found is None or app.jinja_env.auto_reload:
        found = Environment(
            loader=app.jinja_env.loader,
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=app.jinja_env.auto_reload,
        )
        app.extensions[ENVIRONMENT] = found
    return found


def site_values() -> Mapping[str, Any]:
    """The site's name and links, the only app-wide values reader-free HTML may show."""
    values: dict[str, Any] = {}
    for processor in current_app.template_context_processors[None]:
        values.update(processor())  # type: ignore[arg-type]
    return {name: values[name] for name in SITE_VALUES}


def render_reader_free(template: str, **values: Any) -> str:
    """``template`` rendered in the reader-free environment from ``values`` and the site's."""
    return reader_free_environment().get_template(template).render(**values, **site_values())

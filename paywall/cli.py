"""The ``paywall`` console script: Flask's CLI group bound to :func:`paywall.create_app`.

Commands live with their feature (each blueprint registers its own); Flask-Migrate adds
``paywall db ...``.
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from paywall import create_app


def _app_factory() -> object:
    return create_app()


main = FlaskGroup(
    create_app=_app_factory,
    add_version_option=False,
    load_dotenv=False,
    help="Paywall: self-hosted paywall and subscription service.",
)

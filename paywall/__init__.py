"""Paywall's Flask web layer: the app factory and nothing else of note."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from config import PROJECT_ROOT, database_engine_options, load_settings
from paywall.bodies import SizedChunkedBodies


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then ``config`` on top of them."""
    settings = load_settings(config.get("ENV_NAME") if config else None)
    if config:
        settings.update(config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.from_mapping(settings)
    register_feature_settings(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database_engine_options(app.config)
    if app.config["MAX_CONTENT_LENGTH"]:
        app.wsgi_app = SizedChunkedBodies(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    register_extensions(app)
    register_sessions(app)
    register_blueprints(app)
    register_response_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def register_feature_settings(app: Flask) -> None:
    """Fill in the settings a feature keeps beside itself (``create_app``'s win)."""
    from paywall.embed import settings as embed_settings

    embed_settings.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind every extension of :mod:`paywall.extensions` to ``app``."""
    from paywall import (  # noqa: F401  (models: for Alembic)
        caching,
        database,
        headers,
        invalidation,
        jobs,
        mailer,
        models,
        purging,
        ratelimit,
    )
    from paywall.console import gate_views
    from paywall.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    database.init_app(app)
    invalidation.init_app(app)
    caching.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    ratelimit.init_app(app)
    login_manager.init_app(app)
    mailer.init_app(app)
    jobs.init_app(app)
    headers.init_app(app)
    gate_views.init_app(app)


def register_sessions(app: Flask) -> None:
    """Who is signed in: the session cookie names a session row that can be ended on
    every host at once (``paywall.accounts.sessions``)."""
    from paywall.accounts.cookies import ReaderSessionInterface
    from paywall.accounts.sessions import load_user
    from paywall.extensions import login_manager

    app.session_interface = ReaderSessionInterface()
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "warning"


def register_blueprints(app: Flask) -> None:
    """Attach each feature's blueprint (routes and CLI commands)."""
    from paywall.accounts import bp as accounts_bp
    from paywall.articles import bp as articles_bp
    from paywall.audit import bp as audit_bp
    from paywall.billing import bp as billing_bp
    from paywall.console import bp as console_bp
    from paywall.csvfiles import bp as csvfiles_bp
    from paywall.demo import bp as demo_bp
    from paywall.embed import api_bp as embed_api_bp
    from paywall.embed import bp as embed_bp
    from paywall.extensions import csrf
    from paywall.gifts import bp as gifts_bp
    from paywall.jobs import bp as jobs_bp

    app.register_blueprint(articles_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(csvfiles_bp)
    app.register_blueprint(demo_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(embed_api_bp)
    app.register_blueprint(gifts_bp)
    app.register_blueprint(jobs_bp)
    # The API reads keys and Bearer tokens, never cookies: no CSRF token to ask for.
    csrf.exempt(embed_api_bp)


def register_response_hooks(app: Flask) -> None:
    """Hooks on every response that belong to one feature.

    ``paywall.headers`` adds its defaults to the finished response and leaves a value a
    hook set alone.
    """
    from paywall.embed.popup import keep_the_opener

    app.after_request(keep_the_opener)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors as HTML pages or JSON bodies, by what the client accepts."""
    from paywall.errors import register

    register(app)


SITE_LINKS = {
    "stylesheet": ("static", {"filename": "css/site.css"}),
    "forms_script": ("static", {"filename": "js/forms.js"}),
    "home": ("articles.home", {}),
    "new_article": ("articles.new_article", {}),
    "console": ("console.overview", {}),
    "account": ("accounts.account", {}),
    "sign_in": ("accounts.sign_in", {}),
    "sign_up": ("accounts.sign_up", {}),
    "sign_out": ("accounts.sign_out", {}),
}


def register_template_helpers(app: Flask) -> None:
    """Make site-wide values available to every template.

    The masthead's links never change, so they are resolved once, on the first request,
    rather than by ``url_for`` on every page (this sits on the measured reading path).
    An email rendered outside any request (a webhook's follow-up, a command) has no
    masthead and cannot build them: they wait for a request.
    """
    from paywall.embed.popup import flow_url, popup_site
    from paywall.masthead import masthead
    from paywall.notices import reader_notices

    links: dict[str, str] = {}
    app.jinja_env.globals["masthead"] = masthead
    # In a publisher's sign-in popup, pages wear the site's name and their links keep
    # the popup's journey (``paywall.embed.popup``).
    app.jinja_env.globals["popup_site"] = popup_site
    app.jinja_env.globals["flow_url"] = flow_url
    app.jinja_env.globals["reader_notices"] = reader_notices

    @app.context_processor
    def site_globals() -> dict[str, Any]:
        if not links and has_request_context():
            links.update({name: url_for(e, **args) for name, (e, args) in SITE_LINKS.items()})
        return {"site_name": app.config["SITE_NAME"], "links": links}

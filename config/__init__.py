"""Settings: defaults, environment overrides and one class per environment.

Every setting can be set by an environment variable of the same name. Secrets have
no default outside development: production refuses to start without them and says
which one is missing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


def env_str(name: str, default: str | None = None) -> str | None:
    """Read a string setting, treating an empty variable as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """Read an integer setting; a malformed value is a configuration error."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean setting (1/true/yes/on and 0/false/no/off)."""
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def normalise_database_url(url: str) -> str:
    """Map the common ``postgres://`` spellings to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def purge_urls(value: str) -> tuple[str, ...]:
    """``"http://cache-1:6081, http://cache-2:6081"`` → the caches' base URLs."""
    urls = tuple(value.replace(",", " ").split())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"PAYWALL_PURGE_URLS must list http(s) addresses of caches, got {url!r}"
            )
    return urls


def database_engine_options(settings: dict[str, Any]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` with the database timeouts for the configured backend.

    Without them a locked SQLite file holds a request for 5 s and an unreachable
    PostgreSQL host for as long as the operating system tries to connect.
    """
    options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
    timeout = settings["DATABASE_TIMEOUT_SECONDS"]
    backend = settings["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+", 1)[0]
    if backend == "sqlite":
        connect_args: dict[str, Any] = {"timeout": timeout}  # waiting for another's lock
    elif backend == "postgresql":
        statement = settings["DATABASE_STATEMENT_TIMEOUT_SECONDS"]
        connect_args = {
            "connect_timeout": timeout,
            "options": f"-c lock_timeout={timeout * 1000} -c statement_timeout={statement * 1000}",
        }
        options.setdefault("pool_timeout", timeout)
    else:
        return options
    options["connect_args"] = {**connect_args, **options.get("connect_args", {})}
    return options


class Config:
    """Settings shared by every environment, read from the environment when built."""

    ENV_NAME = "base"

    def __init__(self) -> None:
        self.DEBUG = False
        self.TESTING = False

        self.INSTANCE_PATH = env_str("PAYWALL_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL")
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
        # A pooled connection idle this long is pinged before use (paywall/database.py):
        # a restarted server costs no failed request then, at no round trip on busy ones.
        self.DATABASE_PING_AFTER_SECONDS = env_int("PAYWALL_DATABASE_PING_AFTER_SECONDS", 10)
        # How long a request waits for the database (to connect, for a lock, for a pooled
        # connection) before readers get "try again shortly" (503); and the longest any
        # one statement may run on PostgreSQL.
        self.DATABASE_TIMEOUT_SECONDS = env_int("PAYWALL_DATABASE_TIMEOUT_SECONDS", 2)
        self.DATABASE_STATEMENT_TIMEOUT_SECONDS = env_int(
            "PAYWALL_DATABASE_STATEMENT_TIMEOUT_SECONDS", 30
        )
        self.REDIS_URL = env_str("REDIS_URL")
        # Production without Redis is allowed only when it says it runs one process.
        self.SINGLE_PROCESS = env_bool("PAYWALL_SINGLE_PROCESS", False)

        self.SITE_NAME = env_str("PAYWALL_SITE_NAME", "The Paywall Gazette")
        # The public address of the site, for every link in an email (never the request's
        # Host header, which a client chooses); required in production.
        self.BASE_URL = env_str("PAYWALL_BASE_URL")

        # Access decision
        self.TEASER_PARAGRAPHS = env_int("PAYWALL_TEASER_PARAGRAPHS", 2)
        self.GRACE_PERIOD_DAYS = env_int("PAYWALL_GRACE_PERIOD_DAYS", 7)
        self.METER_FREE_VIEWS = env_int("PAYWALL_METER_FREE_VIEWS", 0)
        self.REQUIRE_VERIFIED_EMAIL = env_bool("PAYWALL_REQUIRE_VERIFIED_EMAIL", False)
        # Caches to turn off by name (paywall/caching.py), to measure what each one gains;
        # every other cache is kept right by paywall/invalidation.py, with no lifetime.
        caches_off = env_str("PAYWALL_CACHES_OFF") or ""
        self.CACHES_OFF = frozenset(caches_off.replace(",", " ").split())
        # Each cache of pages (article shells, article pages, the embed's article pages)
        # holds at most this many megabytes of text per worker (paywall/caching.py).
        self.PAGE_CACHE_BYTES = env_int("PAYWALL_PAGE_CACHE_MB", 16) * 1024 * 1024

        # Emailed links (seconds)
        self.VERIFY_EMAIL_MAX_AGE = env_int("PAYWALL_VERIFY_EMAIL_MAX_AGE", 3 * 24 * 3600)
        self.RESET_PASSWORD_MAX_AGE = env_int("PAYWALL_RESET_PASSWORD_MAX_AGE", 3600)
        self.SIGNIN_LINK_MAX_AGE = env_int("PAYWALL_SIGNIN_LINK_MAX_AGE", 15 * 60)

        # Rate limits ("N per minute;M per hour", the limits library's syntax)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_ENABLED = env_bool("PAYWALL_RATELIMIT_ENABLED", True)
        self.SIGNIN_RATE_LIMIT = env_str("PAYWALL_SIGNIN_RATE_LIMIT", "10 per minute;50 per hour")
        self.SIGNUP_RATE_LIMIT = env_str("PAYWALL_SIGNUP_RATE_LIMIT", "5 per minute;30 per hour")
        self.EMAIL_LINK_RATE_LIMIT = env_str(
            "PAYWALL_EMAIL_LINK_RATE_LIMIT", "5 per minute;20 per hour"
        )
        # Subscribing without an account: each view makes a SetupIntent at Stripe, and a
        # post may make an account, so both are counted.
        self.CHECKOUT_RATE_LIMIT = env_str(
            "PAYWALL_CHECKOUT_RATE_LIMIT", "10 per minute;40 per hour"
        )

        # The job queue (paywall/jobs): in Redis when REDIS_URL is set, else in-process.
        self.JOB_QUEUE_NAMESPACE = env_str("PAYWALL_JOB_QUEUE_NAMESPACE", "paywall-jobs")
        self.JOB_MAX_RETRIES = env_int("PAYWALL_JOB_MAX_RETRIES", 20)
        self.JOB_MIN_BACKOFF_MS = 10_000  # retries wait 10 s, 20 s, 40 s, ... at most an hour
        self.JOB_MAX_BACKOFF_MS = 3_600_000
        # How long a worker may miss its heartbeats before its unfinished jobs go to another.
        self.JOB_REDELIVERY_SECONDS = env_int("PAYWALL_JOB_REDELIVERY_SECONDS", 60)
        self.CARD_REMINDERS_AT = env_str("PAYWALL_CARD_REMINDERS_AT", "09:00")  # UTC, daily
        self.RECONCILE_AT = env_str("PAYWALL_RECONCILE_AT", "03:00")  # UTC, nightly

        # Email: SMTP when MAIL_SERVER is set, otherwise the log and instance/outbox/.
        self.MAIL_SERVER = env_str("MAIL_SERVER")
        self.MAIL_PORT = env_int("MAIL_PORT", 587)
        self.MAIL_USERNAME = env_str("MAIL_USERNAME")
        self.MAIL_PASSWORD = env_str("MAIL_PASSWORD")
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
        self.MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 10)
        self.MAIL_DEFAULT_SENDER = env_str("MAIL_DEFAULT_SENDER", "Paywall <no-reply@localhost>")

        # Cookies and sessions
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_DURATION = env_int("PAYWALL_REMEMBER_DAYS", 30) * 24 * 3600
        self.PREFERRED_URL_SCHEME = "https"
        self.FORCE_HTTPS = env_bool("PAYWALL_FORCE_HTTPS", False)
        # How many reverse proxies (load balancer, ingress) sit in front of the app; their
        # X-Forwarded-* headers are trusted that many hops deep, no further.
        self.PROXY_HOPS = env_int("PAYWALL_PROXY_HOPS", 0)
        # Shared caches (a CDN, Varnish): how long they may keep an anonymous reader's
        # article or list page (0: never, every page private), how long they may serve it
        # stale while fetching it anew, and the caches to tell when an article changes
        # (docs/edge-cache.md).
        self.EDGE_MAX_AGE = env_int("PAYWALL_EDGE_MAX_AGE", 60)
        self.EDGE_STALE_SECONDS = env_int("PAYWALL_EDGE_STALE_SECONDS", 30)
        self.PURGE_URLS = purge_urls(env_str("PAYWALL_PURGE_URLS") or "")

        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock

        # The largest request body any endpoint reads (the embed API's article PUT: 2 MB).
        # Werkzeug enforces it on chunked bodies too, as it reads them: past it, 413.
        self.MAX_CONTENT_LENGTH = env_int("PAYWALL_MAX_REQUEST_BYTES", 2 * 1024 * 1024)

        # Stripe. Without STRIPE_SECRET_KEY, development talks to the local emulator.
        self.STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
        self.STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
        self.STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
        self.STRIPE_API_BASE = env_str("STRIPE_API_BASE")  # unset: api.stripe.com
        # Stripe.js is versioned by release; the endive release goes with the pinned API.
        self.STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/endive/stripe.js")
        self.STRIPE_EMULATOR_PORT = env_int("PAYWALL_STRIPE_EMULATOR_PORT", 8420)
        self.STRIPE_TIMEOUT_SECONDS = env_int("PAYWALL_STRIPE_TIMEOUT_SECONDS", 20)
        self.STRIPE_NETWORK_RETRIES = env_int("PAYWALL_STRIPE_NETWORK_RETRIES", 2)
        # Starts our idempotency keys and catalogue ids in Stripe; unset: derived from
        # PAYWALL_BASE_URL's host, so staging and production on one account never collide.
        self.STRIPE_ID_PREFIX = env_str("PAYWALL_STRIPE_ID_PREFIX")

    def finalise(self) -> dict[str, Any]:
        """Validate and return the settings as a plain mapping for ``app.config``."""
        settings = {k: v for k, v in vars(self).items() if k.isupper()}
        settings["ENV_NAME"] = self.ENV_NAME
        if settings["SQLALCHEMY_DATABASE_URI"]:
            settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
                settings["SQLALCHEMY_DATABASE_URI"]
            )
        return settings


class DevelopmentConfig(Config):
    """The embedded default: SQLite and a generated secret key under ``instance/``."""

    ENV_NAME = "development"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.PREFERRED_URL_SCHEME = "http"

    def finalise(self) -> dict[str, Any]:
        settings = super().finalise()
        instance = Path(settings["INSTANCE_PATH"])
        instance.mkdir(parents=True, exist_ok=True)
        if not settings["SECRET_KEY"]:
            settings["SECRET_KEY"] = instance_secret_key(instance)
        if not settings["SQLALCHEMY_DATABASE_URI"]:
            settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'paywall.sqlite3'}"
        settings["BASE_URL"] = settings["BASE_URL"] or "http://127.0.0.1:5000"
        if not settings["STRIPE_SECRET_KEY"]:
            settings.update(emulator_stripe_settings(instance, settings["STRIPE_EMULATOR_PORT"]))
        return settings


class TestingConfig(DevelopmentConfig):
    """Used by the test suite; tests pass their own database and overrides."""

    ENV_NAME = "testing"

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True


class ProductionConfig(Config):
    """Production: secrets and the database must come from the environment."""

    ENV_NAME = "production"

    def finalise(self) -> dict[str, Any]:
        settings = super().finalise()
        required = {
            "SECRET_KEY": "SECRET_KEY",
            "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
            "PAYWALL_BASE_URL": "BASE_URL",
            "STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY",
            "STRIPE_PUBLISHABLE_KEY": "STRIPE_PUBLISHABLE_KEY",
            "STRIPE_WEBHOOK_SECRET": "STRIPE_WEBHOOK_SECRET",
        }
        missing = [name for name, key in required.items() if not settings[key]]
        if missing:
            raise ConfigError(
                "Production needs these environment variables: "
                + ", ".join(missing)
                + ". Generate a secret with: "
                + "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if len(settings["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if not settings["BASE_URL"].startswith(("https://", "http://")):
            raise ConfigError(
                "PAYWALL_BASE_URL must be the site's address, e.g. https://news.example.com"
            )
        if not settings["REDIS_URL"] and not settings["SINGLE_PROCESS"]:
            raise ConfigError(
                "Production needs REDIS_URL (e.g. redis://127.0.0.1:6379/0): rate limits on "
                "sign-in, sign-up and emailed links are counted there, shared by every worker "
                "and host; without it each process counts on its own, so N processes let N "
                "times as many attempts through. If this deployment really runs one process, "
                "set PAYWALL_SINGLE_PROCESS=true instead."
            )
        return settings


ENVIRONMENTS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_settings(env_name: str | None = None) -> dict[str, Any]:
    """Return the settings for ``env_name`` (default: ``PAYWALL_ENV`` or development)."""
    name = env_name or env_str("PAYWALL_ENV", "development")
    try:
        config_class = ENVIRONMENTS[name]  # type: ignore[index]
    except KeyError as exc:
        raise ConfigError(
            f"PAYWALL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}"
        ) from exc
    return config_class().finalise()


def emulator_stripe_settings(instance: Path, port: int) -> dict[str, Any]:
    """Stripe settings pointing at the local emulator (``paywall demo`` starts it)."""
    from devstripe.emulator import (
        EMULATOR_PUBLISHABLE_KEY,
        EMULATOR_SECRET_KEY,
        api_base_for,
        stripe_js_for,
    )

    return {
        "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": EMULATOR_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + instance_secret_key(instance, "stripe_webhook_secret"),
        "STRIPE_API_BASE": api_base_for(port),
        "STRIPE_JS_URL": stripe_js_for(port),
    }


def instance_secret_key(instance: Path, name: str = "secret_key") -> str:
    """Return the development secret kept in ``instance/<name>``, creating it once."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key

"""Settings come from the environment; production fails fast without its secrets."""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings, normalise_database_url
from paywall import create_app


def test_development_defaults_to_sqlite_and_a_kept_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYWALL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    first = load_settings("development")
    second = load_settings("development")

    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'paywall.sqlite3'}"
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first["SESSION_COOKIE_SECURE"] is False


SERVICE_ENV = {
    "PAYWALL_BASE_URL": "https://news.example.com",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}
SERVICE_NAMES = ", ".join(SERVICE_ENV)


@pytest.fixture
def service_env(monkeypatch):
    for name, value in SERVICE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, f"SECRET_KEY, DATABASE_URL, {SERVICE_NAMES}"),
        ({"SECRET_KEY": "x" * 40, **SERVICE_ENV}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://db/paywall", **SERVICE_ENV}, "SECRET_KEY"),
        (
            {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://db/paywall"},
            SERVICE_NAMES,
        ),
    ],
)
def test_production_refuses_to_start_without_its_secrets(monkeypatch, env, missing):
    for name in ("SECRET_KEY", "DATABASE_URL", *SERVICE_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAYWALL_ENV", "production")

    with pytest.raises(ConfigError, match=f"needs these environment variables: {missing}"):
        create_app()


def test_production_rejects_a_short_secret(monkeypatch, service_env):
    monkeypatch.setenv("SECRET_KEY", "too-short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/paywall")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings("production")


def test_production_cookies_are_secure(monkeypatch, service_env):
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/paywall")
    settings = load_settings("production")
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/paywall"


def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/paywall")
    for name, value in SERVICE_ENV.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_to_start_without_shared_rate_limit_storage(monkeypatch):
    production_env(monkeypatch)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PAYWALL_SINGLE_PROCESS", raising=False)
    with pytest.raises(ConfigError) as refused:
        load_settings("production")
    message = str(refused.value)
    assert "REDIS_URL" in message
    assert "rate limit" in message  # says why
    assert "PAYWALL_SINGLE_PROCESS=true" in message  # and the way out for one process


def test_production_with_redis_shares_rate_limit_counts(monkeypatch):
    production_env(monkeypatch)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    assert load_settings("production")["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"


def test_a_single_process_production_may_count_in_memory(monkeypatch):
    production_env(monkeypatch)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PAYWALL_SINGLE_PROCESS", "true")
    assert load_settings("production")["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PAYWALL_GRACE_PERIOD_DAYS", "seven", "PAYWALL_GRACE_PERIOD_DAYS must be a whole number"),
        ("PAYWALL_REQUIRE_VERIFIED_EMAIL", "maybe", "must be true or false"),
        ("PAYWALL_ENV", "staging", "PAYWALL_ENV must be one of"),
    ],
)
def test_malformed_settings_say_what_is_wrong(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv("PAYWALL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_environment_overrides_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PAYWALL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PAYWALL_GRACE_PERIOD_DAYS", "3")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/5")
    settings = load_settings("development")
    assert settings["GRACE_PERIOD_DAYS"] == 3
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/5"


def test_database_url_spellings_map_to_psycopg():
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"

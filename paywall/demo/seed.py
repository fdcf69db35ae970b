"""Demo content and accounts for the embedded default. Safe to run any number of times."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from billing import utcnow
from paywall.accounts.models import Reader, Role
from paywall.accounts.passwords import hash_password
from paywall.articles.importer import import_directory
from paywall.extensions import db

ARTICLES_DIR = Path(__file__).parent / "articles"
DEMO_PASSWORD = "paywall-demo"  # noqa: S105  (published demo logins; refused in production)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    what: str


DEMO_ACCOUNTS = (
    DemoAccount("reader@example.com", "Riley Reader", Role.READER, "free account"),
    DemoAccount("editor@example.com", "Eden Editor", Role.EDITOR, "editor (staff)"),
    DemoAccount("admin@example.com", "Ada Admin", Role.ADMIN, "admin (plans, sites, roles)"),
)


@dataclass
class SeedReport:
    """What a seeding run changed."""

    articles_created: list[str] = field(default_factory=list)
    articles_updated: list[str] = field(default_factory=list)
    accounts_created: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def seed_demo(plans: Callable[[], object] = lambda: None) -> SeedReport:
    """Create the demo accounts that do not exist yet, then ``plans`` (the stand-in's
    catalogue), then load the demo articles: those limited to tiers name the plans' tiers."""
    report = SeedReport()
    for account in DEMO_ACCOUNTS:
        if _ensure_account(account):
            report.accounts_created.append(account.email)
    plans()
    imported = import_directory(ARTICLES_DIR)
    report.articles_created = list(imported.created)
    report.articles_updated = list(imported.updated)
    report.problems = [f"{name}: {why}" for name, why in imported.errors]
    return report


def _ensure_account(account: DemoAccount) -> bool:
    """Create ``account`` unless it exists; existing accounts are left as they are."""
    if db.session.scalar(select(Reader.id).where(Reader.email == account.email)) is not None:
        return False
    ensure_reader(account.email, account.name, account.role)
    return True


def ensure_reader(email: str, name: str, role: Role = Role.READER) -> Reader:
    """The demo account ``email`` (password :data:`DEMO_PASSWORD`), created if missing."""
    reader = db.session.scalar(select(Reader).where(Reader.email == email))
    if reader is None:
        reader = Reader(
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(DEMO_PASSWORD),
            email_verified_at=utcnow(),
        )
        db.session.add(reader)
        db.session.commit()
    return reader

"""``paywall rotate-signing-key``, run as its own process, takes effect at once on every
worker of every server, as docs/embed.md says: each signs entitlement tokens with the
new key on its very next request, and each publishes the new key and the old one, so a
token the old key signed verifies (with the documented verifier) until it expires; a
key retired more than a day ago is published by none of them."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
from sqlalchemy import update

from billing import utcnow
from paywall.embed.models import SigningKey
from paywall.embed.sites import create_site
from paywall.embed.tokens import issue_token
from paywall.extensions import db
from tests.factories import ReaderFactory
from tests.multiprocess.conftest import ROOT, Browser, Served, every_worker

ORIGIN = "https://news.example.com"
EXAMPLE = Path(ROOT) / "docs" / "examples" / "verify_entitlement.py"


def documented_verifier() -> ModuleType:
    """docs/examples/verify_entitlement.py, loaded afresh (its JWKS clients are cached)."""
    spec = importlib.util.spec_from_file_location("verify_entitlement", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entitlement(browser: Browser, site_key: str, reader_token: str) -> str:
    status, body = browser.get_json(
        f"/api/v1/sites/{site_key}/entitlements",
        Authorization=f"Bearer {reader_token}",
        Origin=ORIGIN,
    )
    assert status == 200, body
    return body["token"]


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def published_kids(browser: Browser) -> list[str]:
    status, body = browser.get_json("/.well-known/jwks.json")
    assert status == 200, body
    return [key["kid"] for key in body["keys"]]


def rotate_signing_key(environment: dict[str, str]) -> str:
    """The command line, as an operator runs it on some host; the new key's kid."""
    done = subprocess.run(
        [sys.executable, "-m", "paywall", "rotate-signing-key"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = re.search(r"Now signing with key (\S+);", done.stdout)
    assert found, done.stdout
    return found.group(1)


def test_a_rotated_signing_key_signs_on_every_worker_at_once_and_old_tokens_verify(
    serve: Any, hands: Any
):
    site = create_site("Harbour News", [ORIGIN]).site
    reader = ReaderFactory(email="comped@example.com", is_comped=True)
    reader_token, _ = issue_token(site.id, reader.id, reader.security_stamp)
    key = site.public_key
    servers: list[Served] = [serve(), serve()]
    verifier = documented_verifier()

    def signing_kid(server: Served) -> str:
        return kid_of(entitlement(server.browser(), key, reader_token))

    def may_read(server: Served, token: str) -> bool:
        return bool(verifier.may_read(token, paywall=server.url, site_key=key, access="paid"))

    # Before: one key, the same on every worker; the verifier has fetched the JWKS.
    first = entitlement(servers[0].browser(), key, reader_token)
    old_kid = kid_of(first)
    for server in servers:
        every_worker(lambda s=server: _equal(signing_kid(s), old_kid))
        every_worker(lambda s=server: _equal(published_kids(s.browser()), [old_kid]))
        assert may_read(server, entitlement(server.browser(), key, reader_token))
    old_tokens = {s.url: entitlement(s.browser(), key, reader_token) for s in servers}

    new_kid = rotate_signing_key(serve.environment(0, {}))
    assert new_kid != old_kid

    # At once, no restart: every worker signs with the new key and publishes both.
    for server in servers:
        every_worker(lambda s=server: _equal(signing_kid(s), new_kid))
        every_worker(lambda s=server: _equal(published_kids(s.browser()), [new_kid, old_kid]))
        # The verifier, holding only the old key, refetches for the new kid; tokens the
        # old key signed still verify until they expire.
        assert may_read(server, entitlement(server.browser(), key, reader_token))
        assert may_read(server, old_tokens[server.url])

    # A day after it was retired the old key is no longer published anywhere, so tokens
    # it signed (expired long before: they live minutes) no longer verify.
    hands_retire(old_kid, ago=timedelta(days=1, minutes=1))
    verifier = documented_verifier()  # a verifier meeting these keys for the first time
    for server in servers:
        every_worker(lambda s=server: _equal(published_kids(s.browser()), [new_kid]))
        assert not may_read(server, old_tokens[server.url])
        assert may_read(server, entitlement(server.browser(), key, reader_token))


def hands_retire(kid: str, ago: timedelta) -> None:
    """Move the key's retirement back in time (as if a day had passed)."""
    db.session.execute(
        update(SigningKey).where(SigningKey.kid == kid).values(retired_at=utcnow() - ago)
    )
    db.session.commit()


def _equal(got: object, wanted: object) -> None:
    assert got == wanted, (got, wanted)

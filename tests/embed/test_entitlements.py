"""Signed entitlement tokens: what a site's edge verifies with the JWKS, without calling us."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jwt
import pytest
from sqlalchemy import func, select

from paywall.embed.models import SigningKey
from paywall.extensions import db
from tests.embed.conftest import ORIGIN, make_publisher, token_through_popup

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "verify_entitlement.py"


def entitlement(publisher, token):
    response = publisher.client.get(
        f"/api/v1/sites/{publisher.site_key}/entitlements",
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )
    assert response.status_code == 200, response.text
    return response.get_json()["token"]


def claims_of(client, token, audience):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == kid))
    return jwt.decode(token, key, algorithms=["EdDSA"], audience=audience)


def test_comped_reader_is_entitled_to_every_level_and_tier(app, publisher, readers):
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    signed = entitlement(publisher, token)
    header = jwt.get_unverified_header(signed)
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = claims_of(publisher.client, signed, publisher.site_key)
    assert claims["access"] == ["free", "registered", "paid"]
    assert claims["tiers"] == ["*"]
    assert claims["reason"] == "comped"
    assert claims["exp"] - claims["iat"] == 5 * 60


def test_reader_without_subscription_is_entitled_to_free_and_registered_only(
    app, publisher, readers
):
    token = token_through_popup(app, readers.plain(), publisher.site_key)
    claims = claims_of(publisher.client, entitlement(publisher, token), publisher.site_key)
    assert claims["access"] == ["free", "registered"]
    assert claims["tiers"] == []
    assert claims["reason"] == "no_subscription"


def test_a_token_for_one_site_does_not_verify_for_another(app, publisher, readers):
    other = make_publisher(app, "Other Paper", origin="https://other.example.org")
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    with pytest.raises(jwt.InvalidAudienceError):
        claims_of(publisher.client, entitlement(publisher, token), other.site_key)


def test_entitlements_need_a_reader_token(publisher):
    response = publisher.client.get(
        f"/api/v1/sites/{publisher.site_key}/entitlements", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_rotating_the_signing_key_keeps_earlier_tokens_verifiable(app, publisher, readers, runner):
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    before = entitlement(publisher, token)
    result = runner.invoke(args=["rotate-signing-key"])
    assert result.exit_code == 0, result.output
    after = entitlement(publisher, token)
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert len(publisher.client.get("/.well-known/jwks.json").get_json()["keys"]) == 2
    for signed in (before, after):
        assert claims_of(publisher.client, signed, publisher.site_key)["reason"] == "comped"


def test_private_keys_are_stored_encrypted(app, publisher, readers, app_ctx):
    token = token_through_popup(app, readers.comped(), publisher.site_key)
    entitlement(publisher, token)
    stored = db.session.scalar(select(SigningKey.private_key_encrypted))
    assert "PRIVATE KEY" not in stored
    jwks = publisher.client.get("/.well-known/jwks.json")
    assert jwks.headers["Access-Control-Allow-Origin"] == "*"
    public = jwks.get_json()["keys"][0]
    assert "d" not in public  # the private part of an OKP key


def test_the_documented_example_verifies_a_live_token(embed_server, readers):
    base, served = embed_server
    publisher = make_publisher(served)
    reader = readers.comped()
    token = token_through_popup(served, reader, publisher.site_key)
    signed = entitlement(publisher, token)

    spec = importlib.util.spec_from_file_location("verify_entitlement", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    site = publisher.site_key
    assert example.may_read(signed, paywall=base, site_key=site, access="paid")
    assert example.may_read(signed, paywall=base, site_key=site, access="tiers", tiers=["gold"])
    assert not example.may_read(signed, paywall=base, site_key="pw_pk_other", access="paid")
    assert not example.may_read(signed[:-4] + "AAAA", paywall=base, site_key=site, access="paid")
    assert EXAMPLE.read_text() in (ROOT / "docs" / "embed.md").read_text()


def load_example():
    spec = importlib.util.spec_from_file_location("verify_entitlement", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


def test_the_documented_example_says_no_access_to_bad_tokens_instead_of_raising(
    embed_server, readers
):
    base, served = embed_server
    publisher = make_publisher(served)
    signed = entitlement(
        publisher, token_through_popup(served, readers.comped(), publisher.site_key)
    )
    claims = jwt.decode(signed, options={"verify_signature": False})
    header = jwt.get_unverified_header(signed)
    with served.app_context():
        from paywall.embed.signing import active_key

        private_key = active_key().private_key
    expired = jwt.encode(
        {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 600},
        private_key,
        algorithm="EdDSA",
        headers={"kid": header["kid"]},
    )
    unknown_kid = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": "no-such"})
    no_kid = jwt.encode(claims, private_key, algorithm="EdDSA")
    example = load_example()
    for bad in ("", "junk", "a.b.c", "e30.e30.", expired, unknown_kid, no_kid):
        assert (
            example.may_read(bad, paywall=base, site_key=publisher.site_key, access="free") is False
        )
    unreachable = "http://127.0.0.1:9"  # nothing listens on the discard port
    assert not example.may_read(
        signed, paywall=unreachable, site_key=publisher.site_key, access="free"
    )


def test_first_use_on_two_instances_at_once_makes_exactly_one_signing_key(make_app, mailbox):
    from tests.live import at_once

    instances = [make_app() for _ in range(2)]
    publisher = make_publisher(instances[0])
    clients = [instances[n % 2].test_client() for n in range(8)]
    answers = at_once(
        [
            lambda c=client: c.get("/api/v1/entitlements", headers=publisher.auth())
            for client in clients
        ]
    )
    assert [a.status_code for a in answers] == [200] * 8
    kids = {jwt.get_unverified_header(a.get_json()["token"])["kid"] for a in answers}
    with instances[0].app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 1
    assert len(kids) == 1


def test_a_host_with_another_secret_says_so_instead_of_replacing_the_key(make_app, mailbox, caplog):
    first = make_app()
    publisher = make_publisher(first)
    assert publisher.client.get("/api/v1/entitlements", headers=publisher.auth()).status_code == 200
    other = make_app(SECRET_KEY="another-secret-key-0123456789-abcdef")
    answer = other.test_client().get("/api/v1/entitlements", headers=publisher.auth())
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert error["code"] == "signing_key_unreadable"
    assert "PAYWALL_SIGNING_KEYS_SECRET" in error["message"]
    assert any(
        record.levelname == "ERROR" and "SECRET_KEY" in record.getMessage()
        for record in caplog.records
    )
    with first.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 1
    # The host with the right secret keeps signing with the same key.
    assert publisher.client.get("/api/v1/entitlements", headers=publisher.auth()).status_code == 200


def test_the_documented_example_verifies_a_token_of_a_key_rotated_a_moment_ago(
    embed_server, readers
):
    """PyJWKClient alone would refuse it until its refetch cooldown (30 s) ran out."""
    base, served = embed_server
    publisher = make_publisher(served)
    token = token_through_popup(served, readers.comped(), publisher.site_key)
    example = load_example()
    site = publisher.site_key
    before = entitlement(publisher, token)
    assert example.may_read(before, paywall=base, site_key=site, access="paid")  # JWKS fetched

    result = served.test_cli_runner().invoke(args=["rotate-signing-key"])
    assert result.exit_code == 0, result.output
    after = entitlement(publisher, token)
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert example.may_read(after, paywall=base, site_key=site, access="paid")
    assert example.may_read(before, paywall=base, site_key=site, access="paid")
    # A kid the JWKS does not have is still refused (after one more look at the JWKS).
    _, claims, signature = after.split(".")
    kid = jwt.utils.base64url_encode(b'{"alg":"EdDSA","kid":"nobody","typ":"JWT"}').decode()
    junk = f"{kid}.{claims}.{signature}"
    assert not example.may_read(junk, paywall=base, site_key=site, access="paid")

"""The OpenAPI document and the API agree: every API route is described, every described
path is served, and schemathesis finds no 500 and no answer off the schema."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from paywall.embed.openapi import PATHS
from tests.embed.conftest import make_publisher, token_through_popup


def flask_path(rule: str) -> str:
    return rule.replace("<", "{").replace(">", "}")


def test_every_api_route_is_described_and_every_described_path_is_served(app):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("embed_api.") and rule.endpoint != "embed_api.openapi":
            routes.setdefault(flask_path(rule.rule), set()).update(
                rule.methods - {"HEAD", "OPTIONS"}
            )
    described = {path: {m.upper() for m in ops if m != "parameters"} for path, ops in PATHS.items()}
    assert routes == described


def test_the_document_is_served_to_anyone(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@dataclass
class Seeded:
    base: str
    site_key: str
    secret_key: str
    reader_token: str


@pytest.fixture
def seeded(embed_server, readers) -> Seeded:
    base, served = embed_server
    publisher = make_publisher(served)
    assert publisher.put("story").status_code == 201
    readers.app = served
    token = token_through_popup(served, readers.comped(), publisher.site_key)
    return Seeded(base, publisher.site_key, publisher.secret_key, token)


def test_the_live_api_keeps_to_its_document(seeded):
    """Every operation, fuzzed: no 500, every answer documented and matching its schema."""
    schema = schemathesis.openapi.from_url(f"{seeded.base}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case):
            if case.path_parameters and "site_key" in case.path_parameters:
                case.path_parameters["site_key"] = seeded.site_key
            key = seeded.reader_token if "/sites/" in case.path else seeded.secret_key
            headers = {"Authorization": f"Bearer {key}"}
            if case.headers and "X-Reader-Token" in case.headers:
                headers["X-Reader-Token"] = seeded.reader_token
            case.call_and_validate(headers=headers)

        call()

"""The JSON API described as an OpenAPI 3.1 document, served at ``/api/openapi.json``.

Generated, never written by hand: the paths and methods come from the app's routes, and
everything else from each view's ``@operation`` declaration and its pydantic models
(:mod:`paywall.embed.operations`, :mod:`paywall.embed.schemas`), the same ones that
validate the requests. Pydantic's JSON Schema (draft 2020-12) is OpenAPI 3.1's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from paywall.embed.operations import Operation, operation_of
from paywall.embed.schemas import Error

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
SECURITY_SCHEMES = {
    "secretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The site's secret API key (pw_sk_...): servers only.",
    },
    "readerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A reader token (pw_rt_...) from the sign-in popup.",
    },
}


class _Untitled(GenerateJsonSchema):
    """Pydantic's schemas without a generated ``title`` on every property."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def api_operations(app: Flask) -> Iterator[tuple[str, str, str, Operation]]:
    """(OpenAPI path, method, view name, declaration) of every declared view of ``app``."""
    for rule in app.url_map.iter_rules():
        declared = operation_of(app.view_functions[rule.endpoint])
        if declared is None:
            continue
        path = _VARIABLE.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), rule.endpoint.rpartition(".")[2], declared


def openapi_document(app: Flask, server: str) -> dict[str, Any]:
    """The document for ``app``'s declared API, with ``server`` as the base address."""
    found = list(api_operations(app))
    refs, schemas = _component_schemas(found)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, name, declared in found:
        paths.setdefault(path, {})[method] = {"operationId": name, **_operation(declared, refs)}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Paywall embed API",
            "version": "1",
            "description": "Content API for publishers' CMSs (secret key), the reader API "
            "embed.js calls (publishable site key, reader token) and entitlement tokens. "
            "Errors are JSON bodies with a stable code. Lists come a page at a time: "
            "pass `next_cursor` back as `cursor`.",
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


Refs = dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]


def _component_schemas(
    found: list[tuple[str, str, str, Operation]],
) -> tuple[Refs, dict[str, Any]]:
    """A ``$ref`` for every body and answer model, and the schemas they point to."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for *_, declared in found:
        if declared.body is not None:
            wanted[(declared.body, "validation")] = None
        for model, _ in declared.responses.values():
            if model is not None:
                wanted[(model, "serialization")] = None
    refs, definitions = models_json_schema(
        list(wanted), ref_template=REF, schema_generator=_Untitled
    )
    return dict(refs), definitions.get("$defs", {})


def _operation(declared: Operation, refs: Refs) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": declared.summary}
    if declared.description:
        described["description"] = declared.description
    parameters = [
        *_parameters(declared.path, "path"),
        *_parameters(declared.query, "query"),
        *_parameters(declared.headers, "header"),
    ]
    if parameters:
        described["parameters"] = parameters
    if declared.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(declared.body, "validation")]}},
        }
    responses: dict[str, Any] = {}
    for status, (model, words) in declared.responses.items():
        responses[str(status)] = {"description": words}
        if model is not None:
            schema = refs[(model, "serialization")]
            responses[str(status)]["content"] = {"application/json": {"schema": schema}}
    for status, codes in declared.all_errors.items():
        responses[str(status)] = {
            "description": f"Error code: {codes}",
            "content": {"application/json": {"schema": refs[(Error, "serialization")]}},
        }
    described["responses"] = responses
    described["security"] = [dict(requirement) for requirement in declared.security]
    return described


def _parameters(model: type[BaseModel] | None, where: str) -> list[dict[str, Any]]:
    """One OpenAPI parameter per field of ``model`` (plain types only: no ``$ref``)."""
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF, schema_generator=_Untitled)
    if "$defs" in schema:
        raise TypeError(f"{model.__name__}: parameters must be of plain types")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        parameter: dict[str, Any] = {"name": name, "in": where, "required": name in required}
        if "description" in field_schema:
            parameter["description"] = field_schema.pop("description")
        parameter["schema"] = field_schema
        parameters.append(parameter)
    return parameters

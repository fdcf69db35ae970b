"""Each API view declares its inputs and answers once; requests are checked against that.

``@operation(...)`` goes under the route decorator. It names the pydantic models of the
path, query string, headers and JSON body (:mod:`paywall.embed.schemas`), the answers
and the errors. On every call it validates the inputs and hands the view the validated
values; input that fails is ``400 invalid_request`` naming the field, never a 500. The
same declaration is what :mod:`paywall.embed.openapi` turns into the OpenAPI document.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from paywall.embed.errors import ApiError, invalid_request

MAX_BODY_BYTES = 2 * 1024 * 1024
SECRET_KEY: tuple[Mapping[str, list[str]], ...] = ({"secretKey": []},)
READER_TOKEN: tuple[Mapping[str, list[str]], ...] = ({"readerToken": []},)
READER_TOKEN_OR_NONE = (*READER_TOKEN, {})
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What one API view accepts and answers."""

    summary: str
    description: str
    responses: Mapping[int, tuple[type[BaseModel] | None, str]]
    errors: Mapping[int, str]
    security: tuple[Mapping[str, list[str]], ...] = ()
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    aliases: Mapping[type[BaseModel], tuple[str, ...]] = field(default_factory=dict)

    @property
    def all_errors(self) -> dict[int, str]:
        """The declared errors plus those every call can meet (bad input, database down)."""
        found = dict(self.errors)
        if self.path or self.query or self.headers or self.body:
            _add(found, 400, "invalid_request")
        if self.body:
            _add(found, 413, "payload_too_large")
        _add(found, 503, "database_unavailable")
        return dict(sorted(found.items()))


def _add(errors: dict[int, str], status: int, code: str) -> None:
    codes = errors.get(status)
    if codes is None:
        errors[status] = code
    elif code not in codes.split(", "):
        errors[status] = f"{codes}, {code}"


def operation(
    *,
    responses: Mapping[int, tuple[type[BaseModel] | None, str]],
    errors: Mapping[int, str] | None = None,
    security: tuple[Mapping[str, list[str]], ...] = (),
    path: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
) -> Callable[[View], View]:
    """Declare a view's inputs and answers; the view gets validated values.

    Path fields arrive as keyword arguments by name; the other inputs as the validated
    models ``query=``, ``headers=`` and ``body=``.
    """

    def decorate(view: View) -> View:
        summary, _, description = inspect.cleandoc(view.__doc__ or view.__name__).partition("\n")
        declared = Operation(
            summary=summary.strip(),
            description=description.strip(),
            responses=responses,
            errors=errors or {},
            security=security,
            path=path,
            query=query,
            headers=headers,
            body=body,
            aliases={m: _aliases(m) for m in (query, headers) if m is not None},
        )

        @functools.wraps(view)
        def validated(**view_args: Any) -> Any:
            return view(**_inputs(declared, view_args))

        validated.api_operation = declared  # type: ignore[attr-defined]
        return validated  # type: ignore[return-value]

    return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration of ``view``, if it has one."""
    return getattr(view, "api_operation", None)


def _aliases(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(info.alias or name for name, info in model.model_fields.items())


def _inputs(declared: Operation, view_args: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(view_args)
    if declared.path is not None:
        kwargs.update(_check(declared.path, view_args).__dict__)
    if declared.query is not None:
        given = _present(request.args, declared.aliases[declared.query])
        kwargs["query"] = _check(declared.query, given)
    if declared.headers is not None:
        names = declared.aliases[declared.headers]
        kwargs["headers"] = _check(declared.headers, _present(request.headers, names))
    if declared.body is not None:
        kwargs["body"] = _check(declared.body, json_body())
    return kwargs


def _present(values: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: value for name in names if (value := values.get(name)) is not None}


def json_body() -> object:
    """The request's JSON (2 MB at most, whatever its Content-Type), else an ApiError."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "Send at most 2 MB.")
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise invalid_request("Send a JSON object with Content-Type: application/json.")
    return body


def _check(model: type[BaseModel], given: object) -> BaseModel:
    try:
        return model.model_validate(given)
    except ValidationError as error:
        raise _as_api_error(error) from None


def _as_api_error(error: ValidationError) -> ApiError:
    """The first problem of ``error`` as ``invalid_request``, naming the top-level field."""
    first = error.errors(include_url=False)[0]
    where = str(first["loc"][0]) if first["loc"] else None
    if first["type"] == "value_error":
        problem = str(first["ctx"]["error"])
    else:
        problem = first["msg"][:1].lower() + first["msg"][1:]
    return invalid_request(f"{where}: {problem}." if where else f"{problem}.", where)

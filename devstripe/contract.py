"""The pinned Stripe API version's contract, read from the pinned ``stripe`` SDK.

The SDK is generated from Stripe's OpenAPI spec for the one API version it ships
(:data:`API_VERSION`). Nothing here lists parameters or fields by hand:

* routes come from the service classes reachable from the client's ``v1`` namespace: each
  method's ``self._request("post", "/v1/...".format(...))`` call is read from its source;
* a request's parameters are checked against the ``params`` ``TypedDict`` of that method,
  recursively (unknown keys, missing required keys, values that cannot be the declared
  type, empty strings that cannot unset), and the error is worded and coded as Stripe
  words it;
* an object's fields are checked against the resource class the SDK maps its ``object``
  name to, through nested classes, expandable fields, lists and events.

Everything is built lazily and cached: the route table on the first lookup, each
``TypedDict`` and each resource class on first use.
"""

from __future__ import annotations

import ast
import datetime
import functools
import importlib
import inspect
import json
import re
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import typing_extensions
from stripe._api_version import _ApiVersion
from stripe._encode import _api_encode
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._request_options import RequestOptions
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

__all__ = [
    "API_VERSION",
    "Operation",
    "Violation",
    "assert_valid_object",
    "check_object",
    "check_request",
    "decode_params",
    "encode_params",
    "find_operation",
    "missing_fields",
    "object_class",
    "operations",
]

API_VERSION: str = _ApiVersion.CURRENT

_LITERAL = (typing.Literal, typing_extensions.Literal)
_UNION = (typing.Union, types.UnionType)
_WRAPPERS = (
    typing.Required,
    typing.NotRequired,
    typing_extensions.Required,
    typing_extensions.NotRequired,
)


# --- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A request Stripe would refuse, with the error it would answer."""

    status: int
    message: str
    param: str | None
    code: str | None
    type: str = "invalid_request_error"

    def body(self) -> dict[str, Any]:
        """The JSON body of Stripe's error response."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


def _unknown(path: str) -> Violation:
    return Violation(400, f"Received unknown parameter: {path}", path, "parameter_unknown")


def _missing(path: str) -> Violation:
    return Violation(400, f"Missing required param: {path}.", path, "parameter_missing")


def _empty(path: str) -> Violation:
    return Violation(
        400,
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        path,
        "parameter_invalid_empty",
    )


def _invalid(path: str, message: str, code: str | None = None) -> Violation:
    return Violation(400, message, path, code)


def _unrecognized(http_method: str, path: str) -> Violation:
    return Violation(
        404,
        f"Unrecognized request URL ({http_method.upper()}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        None,
        None,
    )


# --- routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One v1 endpoint as the SDK calls it."""

    http_method: str
    path_template: str
    service: str
    method_name: str
    params_ref: tuple[str, str] | None = field(default=None, repr=False)

    @functools.cached_property
    def params_type(self) -> type | None:
        """The request's ``TypedDict`` (imported on first use)."""
        if self.params_ref is None:
            return None
        module, name = self.params_ref
        return getattr(importlib.import_module(module), name)


class _Node:
    __slots__ = ("literal", "operation", "placeholder")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.placeholder: _Node | None = None
        self.operation: Operation | None = None


_lock = threading.Lock()
_routes: dict[str, _Node] | None = None
_operations: list[Operation] = []


@functools.cache
def _imports_of(module_name: str) -> dict[str, tuple[str, str]]:
    """Every ``from x import y [as z]`` of a module, ``TYPE_CHECKING`` blocks included."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.walk(_module_ast(module_name)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found[alias.asname or alias.name] = (node.module, alias.name)
    return found


@functools.cache
def _module_ast(module_name: str) -> ast.Module:
    module = importlib.import_module(module_name)
    return ast.parse(inspect.getsource(module))


def _request_call(function: ast.FunctionDef) -> tuple[str, str] | None:
    """The verb and path template of the ``self._request(...)`` call in a service method."""
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("_request", "_request_stream")
            and len(node.args) >= 2
        ):
            verb, url = node.args[0], node.args[1]
            is_format = isinstance(url, ast.Call) and isinstance(url.func, ast.Attribute)
            if is_format and url.func.attr == "format":  # type: ignore[union-attr]
                url = url.func.value  # type: ignore[union-attr]
            if isinstance(verb, ast.Constant) and isinstance(url, ast.Constant):
                return str(verb.value), str(url.value)
    return None


def _params_name(function: ast.FunctionDef) -> str | None:
    """The name in the ``params`` annotation: ``Optional["XParams"]`` or ``"XParams"``."""
    for arg in function.args.args + function.args.kwonlyargs + function.args.posonlyargs:
        if arg.arg != "params" or arg.annotation is None:
            continue
        annotation = arg.annotation
        if isinstance(annotation, ast.Subscript):
            annotation = annotation.slice
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return annotation.value
        if isinstance(annotation, ast.Name):
            return annotation.id
    return None


def _service_classes() -> Iterator[type]:
    """Every service class reachable from ``StripeClient(...).v1``, each once."""
    seen: set[type] = set()
    pending = [importlib.import_module("stripe._v1_services").V1Services]
    while pending:
        service = pending.pop()
        if service in seen:
            continue
        seen.add(service)
        yield service
        module = sys.modules[service.__module__]
        for module_name, class_name in getattr(module, "_subservices", {}).values():
            pending.append(getattr(importlib.import_module(module_name), class_name))


def _service_operations(service: type) -> Iterator[Operation]:
    module_name = service.__module__
    imports = _imports_of(module_name)
    for node in _module_ast(module_name).body:
        if not (isinstance(node, ast.ClassDef) and node.name == service.__name__):
            continue
        for function in node.body:
            if not isinstance(function, ast.FunctionDef) or function.name.endswith("_async"):
                continue
            call = _request_call(function)
            if call is None or not call[1].startswith("/v1/"):
                continue
            params_name = _params_name(function)
            params_ref = imports.get(params_name) if params_name else None
            yield Operation(call[0], call[1], service.__name__, function.name, params_ref)


def _build_routes() -> dict[str, _Node]:
    roots: dict[str, _Node] = {}
    operations: list[Operation] = []
    for service in _service_classes():
        for operation in _service_operations(service):
            node = roots.setdefault(operation.http_method, _Node())
            for segment in operation.path_template.strip("/").split("/"):
                if segment.startswith("{"):
                    node.placeholder = node.placeholder or _Node()
                    node = node.placeholder
                else:
                    node = node.literal.setdefault(segment, _Node())
            if node.operation is None:  # a path two services share: the first one found
                node.operation = operation
                operations.append(operation)
    _operations[:] = operations
    return roots


def _route_table() -> dict[str, _Node]:
    global _routes
    if _routes is None:
        with _lock:
            if _routes is None:
                _routes = _build_routes()
    return _routes


def operations() -> list[Operation]:
    """All v1 operations of the pinned SDK."""
    _route_table()
    return list(_operations)


def _match(node: _Node, segments: list[str], index: int) -> Operation | None:
    if index == len(segments):
        return node.operation
    child = node.literal.get(segments[index])
    if child is not None:
        found = _match(child, segments, index + 1)
        if found is not None:
            return found
    if node.placeholder is not None and segments[index]:
        return _match(node.placeholder, segments, index + 1)
    return None


def find_operation(http_method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The v1 operation a concrete request path calls, and the values of its placeholders.

    A literal segment wins over a placeholder: ``POST /v1/invoices/create_preview`` is the
    preview, not an update of an invoice with that id.
    """
    root = _route_table().get(http_method.lower())
    path = path.split("?", 1)[0]
    if root is None or not path.startswith("/v1/"):
        return None
    segments = path.strip("/").split("/")
    operation = _match(root, segments, 0)
    if operation is None:
        return None
    args = {
        template[1:-1]: unquote_plus(segment)
        for template, segment in zip(
            operation.path_template.strip("/").split("/"), segments, strict=True
        )
        if template.startswith("{")
    }
    return operation, args


# --- form encoding ----------------------------------------------------------------------------

_KEY = re.compile(r"\[([^\[\]]*)\]")


def decode_params(encoded: str | bytes) -> dict[str, Any]:
    """Stripe's form (and query string) encoding, as the SDK writes it, into nested values.

    ``a=1&b[c]=2&items[0][price]=x&expand[0]=y&expand[]=z`` becomes
    ``{"a": "1", "b": {"c": "2"}, "items": [{"price": "x"}], "expand": ["y", "z"]}``. Values
    stay strings; a hash whose keys are exactly ``0..n-1`` becomes a list.
    """
    if isinstance(encoded, bytes):
        encoded = encoded.decode("utf-8")
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        bracket = key.find("[")
        if bracket <= 0:
            root[key] = value
            continue
        parts = [key[:bracket], *_KEY.findall(key[bracket:])]
        container: dict[str, Any] = root
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            if part == "":  # "[]": append, or start a new element when the key repeats
                part = str(len(container))
                if not last:
                    following = parts[position + 1]
                    previous = container.get(str(len(container) - 1))
                    if isinstance(previous, dict) and following not in previous:
                        part = str(len(container) - 1)
            if last:
                container[part] = value
            else:
                nested = container.get(part)
                if not isinstance(nested, dict):
                    nested = container[part] = {}
                container = nested
    return _listify(root)


def encode_params(params: Mapping[str, Any]) -> str:
    """``params`` form-encoded by the SDK's own encoder, exactly as its requestor sends them."""
    encoded = urlencode(list(_api_encode(params)))
    return encoded.replace("%5B", "[").replace("%5D", "]")


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes == list(range(len(indexes))):
            return [converted[str(index)] for index in indexes]
    return converted


def _wire(value: Any) -> Any:
    """A Python value as the SDK's encoder sends it (strings, dicts and lists of them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return str(int(value.timestamp()))
    if hasattr(value, "id"):
        return str(value.id)
    return str(value)


# --- request parameters ---------------------------------------------------------------------

_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


class _Param:
    """A declared parameter type, its union flattened."""

    __slots__ = (
        "anything",
        "bools",
        "decimals",
        "floats",
        "ints",
        "literals",
        "mapping",
        "objects",
        "sequence",
        "strings",
    )

    def __init__(self) -> None:
        self.literals: frozenset[str] = frozenset()
        self.strings = False
        self.ints = False
        self.floats = False
        self.decimals = False
        self.bools = False
        self.anything = False
        self.objects: tuple[type, ...] = ()
        self.sequence: _Param | None = None
        self.mapping: _Param | None = None


class _Shape:
    """A ``TypedDict``'s keys as Stripe reads them."""

    __slots__ = ("fields", "required")

    def __init__(self, fields: dict[str, _Param], required: tuple[str, ...]) -> None:
        self.fields = fields
        self.required = required


def _evaluate(annotation: Any, namespace: dict[str, Any]) -> Any:
    """A string annotation or forward reference, evaluated in its module's namespace."""
    if isinstance(annotation, str):
        annotation = eval(annotation, namespace)  # noqa: S307 - the SDK's own annotations
        return _evaluate(annotation, namespace)
    if isinstance(annotation, typing.ForwardRef):
        return _evaluate(annotation.__forward_arg__, namespace)
    return annotation


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _param(annotation: Any, namespace: dict[str, Any]) -> _Param:
    result = _Param()
    pending = [annotation]
    literals: set[str] = set()
    objects: list[type] = []
    while pending:
        tp = _evaluate(pending.pop(0), namespace)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in _WRAPPERS:
            pending.append(args[0])
        elif origin in _UNION:
            pending.extend(args)
        elif origin in _LITERAL:
            literals.update(_literal_text(arg) for arg in args)
        elif origin is list:
            result.sequence = _param(args[0], namespace)
        elif origin is dict or (origin is UntypedStripeObject) or tp is UntypedStripeObject:
            result.mapping = _param(args[-1] if args else Any, namespace)
        elif typing_extensions.is_typeddict(tp):
            objects.append(tp)
        elif tp is str:
            result.strings = True
        elif tp is bool:
            result.bools = True
        elif tp is int:
            result.ints = True
        elif tp is float:
            result.floats = True
        elif tp is Decimal:
            result.decimals = True
        elif tp is type(None):
            pass
        else:  # Any, or a type the form encoding cannot constrain
            result.anything = True
    result.literals = frozenset(literals)
    result.objects = tuple(objects)
    return result


_REQUEST_OPTIONS = dict(RequestOptions.__annotations__)
_shapes: dict[type, _Shape] = {}


def _shape(typed_dict: type) -> _Shape:
    shape = _shapes.get(typed_dict)
    if shape is not None:
        return shape
    namespace = vars(sys.modules[typed_dict.__module__])
    fields: dict[str, _Param] = {}
    required: list[str] = []
    for name, annotation in typed_dict.__annotations__.items():
        if _REQUEST_OPTIONS.get(name) is annotation:
            continue  # api_key, idempotency_key, ...: request options, sent as headers
        fields[name] = _param(annotation, namespace)
        if name in typed_dict.__required_keys__:  # type: ignore[attr-defined]
            required.append(name)
    shape = _shapes[typed_dict] = _Shape(fields, tuple(required))
    return shape


def _path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if parent else str(key)


def _describe(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _one_of(path: str, literals: frozenset[str]) -> str:
    options = sorted(v for v in literals if v)
    listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + f", or {options[-1]}"
    name = path.rsplit("[", 1)[-1].rstrip("]") if "[" in path else path
    return f"Invalid {name}: must be one of {listed}"


def _check_scalar(value: str, declared: _Param, path: str) -> Violation | None:
    # An empty string unsets. The spec marks unsettable values with Literal[''], but not
    # all of them: Stripe unsets invoice_settings[default_payment_method] on "" although
    # the SDK types it ``str``. So "" passes wherever a string does, and is refused only
    # where neither a string nor Literal[''] is declared (an int, a hash, a closed enum).
    if declared.anything or declared.strings or value in declared.literals:
        return None
    if value == "":
        return _empty(path)
    if declared.ints and _INTEGER.fullmatch(value):
        return None
    if (declared.floats or declared.decimals) and _DECIMAL.fullmatch(value):
        return None
    if declared.bools and value in ("true", "false"):
        return None
    if declared.ints:
        return _invalid(path, f"Invalid integer: {value}", "parameter_invalid_integer")
    if declared.floats or declared.decimals:
        return _invalid(path, f"Invalid decimal: {value}")
    if declared.bools:
        return _invalid(path, f"Invalid boolean: {value}")
    if declared.literals - {""}:
        return _invalid(path, _one_of(path, declared.literals))
    if declared.sequence is not None:
        return _invalid(path, "Invalid array")
    return _invalid(path, "Invalid hash")


def _check_value(value: Any, declared: _Param, path: str) -> Violation | None:
    if declared.anything:
        return None
    if isinstance(value, str):
        return _check_scalar(value, declared, path)
    if isinstance(value, list):
        if declared.sequence is not None:
            return _check_items(enumerate(value), declared.sequence, path)
        if declared.mapping is not None:
            return _check_entries(enumerate(value), declared.mapping, path)
        if declared.objects:
            return _invalid(path, "Invalid hash")
        return _invalid(path, f"Invalid {_scalar_name(declared)}: {_describe(value)}")
    if declared.objects:
        first: Violation | None = None
        for typed_dict in declared.objects:
            violation = _check_object(value, _shape(typed_dict), path)
            if violation is None:
                return None
            first = first or violation
        return first
    if declared.mapping is not None:
        return _check_entries(value.items(), declared.mapping, path)
    if declared.sequence is not None and all(key.isdigit() for key in value):
        return _check_items(value.items(), declared.sequence, path)
    if declared.sequence is not None:
        return _invalid(path, "Invalid array")
    return _invalid(path, f"Invalid {_scalar_name(declared)}: {_describe(value)}")


def _scalar_name(declared: _Param) -> str:
    if declared.ints:
        return "integer"
    if declared.floats or declared.decimals:
        return "decimal"
    if declared.bools:
        return "boolean"
    return "string"


def _check_entries(items: Any, declared: _Param, path: str) -> Violation | None:
    """A hash of any keys (metadata): an empty value unsets its key."""
    return _check_items(((key, item) for key, item in items if item != ""), declared, path)


def _check_items(items: Any, declared: _Param, path: str) -> Violation | None:
    for key, item in items:
        violation = _check_value(item, declared, _path(path, key))
        if violation is not None:
            return violation
    return None


def _check_object(params: Mapping[str, Any], shape: _Shape, path: str) -> Violation | None:
    fields = shape.fields
    for key in params:
        if key not in fields:
            return _unknown(_path(path, key))
    for key in shape.required:
        if key not in params:
            return _missing(_path(path, key))
    for key, value in params.items():
        violation = _check_value(value, fields[key], _path(path, key))
        if violation is not None:
            return violation
    return None


def check_request(http_method: str, path: str, params: Mapping[str, Any]) -> Violation | None:
    """What Stripe would answer to this request instead of doing it, or ``None`` if valid.

    ``params`` are the decoded query string (GET, DELETE) or form body (POST), as
    :func:`decode_params` returns them; Python values (ints, bools, nested dicts) are read
    as the SDK would encode them.
    """
    found = find_operation(http_method, path)
    if found is None:
        return _unrecognized(http_method, path.split("?", 1)[0])
    operation = found[0]
    params = _wire(params)
    params_type = operation.params_type
    if params_type is None:
        return _unknown(next(iter(params))) if params else None
    return _check_object(params, _shape(params_type), "")


# --- objects --------------------------------------------------------------------------------

Fill = Callable[[str, Any], Any]


class _Field:
    """A declared object field type, its union flattened."""

    __slots__ = ("classes", "items", "list_of", "mapping", "resources")

    def __init__(self) -> None:
        self.classes: tuple[type, ...] = ()  # StripeObject classes, nested or resources
        self.resources = False  # any resource may be here, found by its ``object`` name
        self.items: _Field | None = None  # List[...]
        self.list_of: _Field | None = None  # ListObject[...] / SearchResultObject[...]
        self.mapping: _Field | None = None  # metadata-like: any keys


class _LazyNames(Mapping[str, Any]):
    """A module's names, then its ``TYPE_CHECKING`` imports (imported when asked for)."""

    def __init__(self, module_name: str, scope: Mapping[str, Any]) -> None:
        self._globals = vars(sys.modules[module_name])
        self._imports = _imports_of(module_name)
        self._scope = scope

    def __getitem__(self, name: str) -> Any:
        if name in self._scope:
            return self._scope[name]
        if name in self._globals:
            return self._globals[name]
        if name in self._imports:
            module, attribute = self._imports[name]
            return getattr(importlib.import_module(module), attribute)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._imports, **self._globals, **self._scope})

    def __len__(self) -> int:
        return len(self._imports) + len(self._globals) + len(self._scope)


def _resolve(annotation: Any, names: _LazyNames) -> Any:
    """A string annotation or forward reference, evaluated (one level)."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        return _resolve(eval(annotation, {}, names), names)  # noqa: S307 - the SDK's own
    return annotation


def _compile_field(annotation: Any, names: _LazyNames) -> _Field:
    result = _Field()
    classes: list[type] = []
    pending = [annotation]
    while pending:
        tp = _resolve(pending.pop(0), names)
        origin = typing.get_origin(tp) or tp
        args = typing.get_args(tp)
        if origin in _UNION:
            pending.extend(args)
        elif origin is list:
            result.items = _compile_field(args[0], names)
        elif origin in (ListObject, SearchResultObject):
            result.list_of = _compile_field(args[0] if args else Any, names)
        elif origin is UntypedStripeObject or origin is dict:
            inner = args[-1] if args else Any
            result.mapping = _compile_field(inner, names)
            result.resources = result.resources or inner is Any  # Event.data.object
        elif isinstance(origin, type) and issubclass(origin, StripeObject):
            classes.append(origin)
            result.resources = result.resources or bool(getattr(origin, "OBJECT_NAME", None))
        elif tp is Any:
            result.resources = True
    result.classes = tuple(classes)
    return result


def _literal_values(annotation: Any) -> set[str]:
    origin = typing.get_origin(annotation)
    if origin in _LITERAL:
        return {arg for arg in typing.get_args(annotation) if isinstance(arg, str)}
    if origin in _UNION:
        return set().union(*(_literal_values(arg) for arg in typing.get_args(annotation)))
    return set()


class _Fields:
    """A StripeObject class's fields, by the names they have in JSON."""

    __slots__ = ("_compiled", "_names", "_typed", "annotations", "required")

    def __init__(self, cls: type) -> None:
        annotations: dict[str, Any] = {}
        for base in reversed(cls.__mro__):
            if base is not StripeObject and issubclass(base, StripeObject):
                annotations.update(inspect.get_annotations(base))
        remap = getattr(cls, "_field_remappings", {})
        self.annotations = {
            remap.get(name, name): annotation
            for name, annotation in annotations.items()
            if not (name.startswith("_") or name.isupper() or _is_classvar(annotation))
        }
        if cls in (ListObject, SearchResultObject):
            self.annotations["object"] = str
        self.required = tuple(
            name
            for name, annotation in self.annotations.items()
            if not _only_on_deleted(name, annotation)
        )
        self._names = _LazyNames(cls.__module__, _enclosing_scope(cls))
        self._compiled: dict[str, _Field] = {}
        self._typed: frozenset[str] | None = None

    def field(self, name: str) -> _Field:
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compiled[name] = _compile_field(self.annotations[name], self._names)
        return compiled

    def annotation(self, name: str) -> Any:
        """The field's annotation, its outer string or forward reference evaluated."""
        return _resolve(self.annotations[name], self._names)

    def only_for_other_types(self, object_type: Any) -> frozenset[str]:
        """Fields named after a value of ``type`` other than this object's.

        A PaymentMethod of type ``card`` has a ``card`` hash, and no ``sepa_debit`` one.
        """
        if self._typed is None:
            values = _literal_values(self.annotation("type")) if "type" in self.annotations else ()
            self._typed = frozenset(name for name in self.annotations if name in values)
        if not self._typed or not isinstance(object_type, str):
            return frozenset()
        return self._typed - {object_type}


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is typing.ClassVar


def _only_on_deleted(name: str, annotation: Any) -> bool:
    """``deleted: Optional[Literal[True]]``: true on a deleted object, absent otherwise."""
    return name == "deleted" and "Literal[True]" in str(annotation)


def _enclosing_scope(cls: type) -> dict[str, Any]:
    """Names a nested class's annotations may use: the classes it is nested in."""
    scope: dict[str, Any] = {}
    owner: Any = sys.modules[cls.__module__]
    for part in cls.__qualname__.split(".")[:-1]:
        owner = getattr(owner, part)
        scope.update(vars(owner))
    return scope


_class_fields: dict[type, _Fields] = {}


def _fields_of(cls: type) -> _Fields:
    fields = _class_fields.get(cls)
    if fields is None:
        fields = _class_fields[cls] = _Fields(cls)
    return fields


@functools.cache
def _class_named(object_name: str) -> type | None:
    entry = OBJECT_CLASSES.get(object_name)
    if entry is None:
        return None
    return getattr(importlib.import_module(entry[0]), entry[1])


def object_class(object_name: str) -> type | None:
    """The SDK's class for an ``object`` name (``"invoice"``: ``stripe.Invoice``)."""
    return _class_named(object_name)


class _Walker:
    """One pass over an object: its unknown fields, or its missing ones (optionally filled)."""

    def __init__(self, missing: bool, fill: Fill | None = None) -> None:
        self.missing = missing
        self.fill = fill
        self.report: list[str] = []

    def value(self, value: Any, declared: _Field, path: str) -> None:
        if isinstance(value, list):
            inner = declared.items or declared.list_of
            if inner is not None:
                for index, item in enumerate(value):
                    self.value(item, inner, f"{path}[{index}]")
            return
        if not isinstance(value, dict):
            return
        kind = value.get("object")
        if declared.list_of is not None and kind in ("list", "search_result"):
            list_class = ListObject if kind == "list" else SearchResultObject
            self.object(value, list_class, path, items=declared.list_of)
            return
        cls = _class_for(value, declared)
        if cls is not None:
            self.object(value, cls, path)
        elif declared.mapping is not None:
            for key, item in value.items():
                self.value(item, declared.mapping, f"{path}.{key}")
        elif not self.missing:  # an object where the pinned version has a plain value
            self.report.extend(f"{path}.{key}" for key in value)

    def object(
        self, value: dict[str, Any], cls: type, path: str, items: _Field | None = None
    ) -> None:
        fields = _fields_of(cls)
        if self.missing and not (value.get("deleted") is True and "deleted" in fields.annotations):
            skip = fields.only_for_other_types(value.get("type"))
            for name in fields.required:
                if name not in value and name not in skip:
                    self.report.append(f"{path}.{name}")
                    if self.fill is not None:
                        value[name] = self.fill(f"{path}.{name}", fields.annotation(name))
        event = cls is _class_named("event")
        for key, item in value.items():
            if key not in fields.annotations:
                if not self.missing:
                    self.report.append(f"{path}.{key}")
            elif not isinstance(item, dict | list):
                continue
            elif items is not None and key == "data" and isinstance(item, list):
                for index, element in enumerate(item):
                    self.value(element, items, f"{path}.data[{index}]")
            elif event and key == "data" and isinstance(item, dict):
                self.event_data(item, f"{path}.data")
            else:
                self.value(item, fields.field(key), f"{path}.{key}")

    def event_data(self, data: dict[str, Any], path: str) -> None:
        """``object`` by its own name; ``previous_attributes``: some of its fields."""
        fields = _fields_of(_class_named("event").Data)  # type: ignore[union-attr]
        if self.missing and "object" not in data:
            self.report.append(f"{path}.object")
        if not self.missing:
            self.report.extend(f"{path}.{key}" for key in data if key not in fields.annotations)
        current = data.get("object")
        if not isinstance(current, dict):
            return
        cls = _class_named(current.get("object", ""))
        if cls is None:
            if not self.missing:
                self.report.append(f"{path}.object.object")
            return
        self.object(current, cls, f"{path}.object")
        previous = data.get("previous_attributes")
        if isinstance(previous, dict) and not self.missing:
            class_fields = _fields_of(cls)
            for key, item in previous.items():
                where = f"{path}.previous_attributes.{key}"
                if key not in class_fields.annotations:
                    self.report.append(where)
                elif isinstance(item, dict | list):
                    self.value(item, class_fields.field(key), where)


def _class_for(value: dict[str, Any], declared: _Field) -> type | None:
    name = value.get("object")
    if isinstance(name, str):
        for cls in declared.classes:
            if getattr(cls, "OBJECT_NAME", None) == name:
                return cls
        if declared.resources:
            found = _class_named(name)
            if found is not None:
                return found
    nested = [cls for cls in declared.classes if not getattr(cls, "OBJECT_NAME", None)]
    if nested:
        return nested[0]
    if declared.classes and declared.mapping is None:
        return declared.classes[0]
    return None


def _root(obj: Mapping[str, Any], object_name: str | None) -> tuple[type, str]:
    name = object_name or obj.get("object")
    cls = _class_named(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"the pinned API version has no object named {name!r}")
    return cls, str(name)


def check_object(obj: Mapping[str, Any], object_name: str | None = None) -> list[str]:
    """The fields of a Stripe object (or event) that the pinned version does not define.

    Dotted paths from the object's name: ``invoice.payment_intent``,
    ``event.data.object.lines.data[0].plan``. Nested objects, expandable fields (an id or
    the expanded object), lists, an event's ``data.object`` and ``previous_attributes`` are
    walked; metadata may hold any keys.
    """
    cls, name = _root(obj, object_name)
    walker = _Walker(missing=False)
    walker.object(dict(obj), cls, name)
    return walker.report


def empty_value(path: str, annotation: Any) -> Any:
    """A placeholder of a field's declared type, for ``missing_fields(fill=...)``: null
    when the type allows it, an expandable field's id type, a Literal's first value, an
    empty list, list object or hash, else the scalar's zero."""
    origin = typing.get_origin(annotation) or annotation
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return None if type(None) in args else empty_value(path, args[0])
    if origin is typing.Literal:
        return args[0]
    if origin is list:
        return []
    name = getattr(origin, "__name__", "")
    if name == "ListObject":
        return {"object": "list", "data": [], "has_more": False, "url": ""}
    if name in ("UntypedStripeObject", "dict") or hasattr(origin, "_inner_class_types"):
        return {}
    return {bool: False, int: 0, float: 0.0, str: ""}.get(origin)


def missing_fields(
    obj: dict[str, Any], object_name: str | None = None, *, fill: Fill | None = None
) -> list[str]:
    """The fields the pinned version defines that this object (or event) lacks.

    Walks nested objects, expanded objects, list items and an event's ``data.object``.
    Not demanded: ``deleted`` (only on deleted objects, which carry just ``id``, ``object``
    and ``deleted``), and the hashes named after the other values of an object's ``type``
    (a ``card`` PaymentMethod has no ``sepa_debit``).
    With ``fill``, each missing field is added, in place, as ``fill(path, annotation)``
    (and walked in turn): a tool to complete recorded payloads.
    """
    cls, name = _root(obj, object_name)
    walker = _Walker(missing=True, fill=fill)
    walker.object(obj if fill is not None else dict(obj), cls, name)
    return walker.report


def assert_valid_object(
    obj: dict[str, Any], object_name: str | None = None, *, complete: bool = True
) -> None:
    """Fail, listing them, on fields the pinned version does not define (and, when
    ``complete``, on fields it defines that the object lacks)."""
    unknown = check_object(obj, object_name)
    missing = missing_fields(obj, object_name) if complete else []
    if unknown or missing:
        lines = [f"not in {API_VERSION}: {path}" for path in unknown]
        lines += [f"missing: {path}" for path in missing]
        raise AssertionError("\n".join(lines))

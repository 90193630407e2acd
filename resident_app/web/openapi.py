"""The OpenAPI 3.1 document of every JSON endpoint, built from one declaration beside each view.

A JSON endpoint is described by `@operation(...)` under its route decorator:

    @bp.get("/pool")
    @operation("The pool's running totals", responses={200: ok("The totals", POOL)})
    def pool(): ...

`document(app)` walks `app.url_map` and collects those declarations, so the path, its parameters
and its methods come from the route itself and cannot drift from it. The same request schema is what
`web.json_body.read_json_object` checks a body's types against before the view reads its values.
The test suite (tests/integration/test_openapi.py) fails for a JSON route without a declaration and
runs schemathesis against the document."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask import Flask
from werkzeug.routing import Rule

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
REF = "#/components/schemas/"

# Errors: a field's problems (400, and 413/415 for the body as a whole, under "body"), or the
# status pages every path can answer (404, 405, 429, 500...) as {"error": {"status", "message"}}.
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["errors"], "additionalProperties": False,
    "properties": {"errors": {
        "type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "minLength": 1},
        "description": "A message in the caller's language (Accept-Language: ja or en) for each field "
                       "that was refused; `body` when the body as a whole could not be read."}},
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["status", "message"], "additionalProperties": False,
        "properties": {"status": {"type": "integer"}, "message": {"type": "string", "minLength": 1}}}},
}
COMPONENTS: dict[str, dict[str, Any]] = {"FieldErrors": FIELD_ERRORS_SCHEMA, "Error": ERROR_SCHEMA}
FIELD_ERRORS = {"$ref": REF + "FieldErrors"}
ERROR = {"$ref": REF + "Error"}

# Small builders for the schemas declared beside the views.
INTEGER: dict[str, Any] = {"type": "integer"}
COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
TEXT: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
URL: dict[str, Any] = {"type": "string", "format": "uri"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


def obj(properties: Mapping[str, Any], *, optional: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    """An object with these properties, all required unless named in `optional`."""
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties),
                              "required": [name for name in properties if name not in optional]}
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": dict(items)}


ACCEPT_LANGUAGE = {
    "name": "Accept-Language", "in": "header", "required": False,
    "description": "ja (the default) or en: the language of error messages and titles.",
    "schema": {"type": "string", "examples": ["ja", "en"]},
}


@dataclass(frozen=True)
class Response:
    """One documented answer: what it means and the schema of its JSON body."""

    description: str
    schema: Mapping[str, Any]


def ok(description: str, schema: Mapping[str, Any]) -> Response:
    return Response(description, schema)


def refused(description: str) -> Response:
    """A 400/413/415 answer with a message per field (or for the body)."""
    return Response(description, FIELD_ERRORS)


def error(description: str) -> Response:
    """A status answer in the shared error shape."""
    return Response(description, ERROR)


@dataclass(frozen=True)
class Operation:
    """What the document says about one view (every method its route accepts)."""

    summary: str
    responses: Mapping[int, Response]
    request: Mapping[str, Any] | None = None
    parameters: tuple[Mapping[str, Any], ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def operation(summary: str, *, responses: Mapping[int, Response], request: Mapping[str, Any] | None = None,
              parameters: tuple[Mapping[str, Any], ...] = (), description: str = "",
              tags: tuple[str, ...] = (), **extra: Any) -> Callable:
    """Declare a JSON endpoint: put it directly under the route decorator."""
    declared = Operation(summary, dict(responses), request, tuple(parameters), description, tuple(tags),
                         dict(extra))

    def decorate(view: Callable) -> Callable:
        view.openapi_operation = declared  # type: ignore[attr-defined]
        return view
    return decorate


def declared_operation(view: Callable | None) -> Operation | None:
    """The declaration on a view, looking through decorators that wrap it (functools.wraps)."""
    while view is not None:
        found = getattr(view, "openapi_operation", None)
        if found is not None:
            return found
        view = getattr(view, "__wrapped__", None)
    return None


_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^>]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number", "minimum": 0},
                      "uuid": {"type": "string", "format": "uuid"}}


def openapi_path(rule: Rule) -> str:
    """/addons/<int:addon_id> becomes /addons/{addon_id}."""
    return _ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule.rule)


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [{"name": m.group("name"), "in": "path", "required": True,
             "schema": dict(_CONVERTER_SCHEMAS.get(m.group("converter") or "", {"type": "string", "minLength": 1,
                                                                                "pattern": "^[^/]+$"}))}
            for m in _ARGUMENT.finditer(rule.rule)]


def _method_object(rule: Rule, endpoint: str, method: str, declared: Operation) -> dict[str, Any]:
    operation_id = endpoint if len(rule.methods - {"HEAD", "OPTIONS"}) == 1 else f"{endpoint}.{method.lower()}"
    result: dict[str, Any] = {
        "operationId": operation_id, "summary": declared.summary,
        "parameters": [*_path_parameters(rule), ACCEPT_LANGUAGE, *declared.parameters],
        "responses": {str(status): {"description": answer.description,
                                    "content": {"application/json": {"schema": dict(answer.schema)}}}
                      for status, answer in sorted(declared.responses.items())},
    }
    if declared.description:
        result["description"] = declared.description
    if declared.tags:
        result["tags"] = list(declared.tags)
    if declared.request is not None and method in ("POST", "PUT", "PATCH"):
        result["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": dict(declared.request)}}}
    result.update(declared.extra)
    return result


def json_rules(app: Flask) -> list[tuple[Rule, Operation | None]]:
    """Every rule with its declaration (None for routes that are not JSON endpoints)."""
    return [(rule, declared_operation(app.view_functions.get(rule.endpoint)))
            for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))]


def document(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI document, paths in URL order."""
    paths: dict[str, dict[str, Any]] = {}
    for rule, declared in json_rules(app):
        if declared is None:
            continue
        item = paths.setdefault(openapi_path(rule), {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _method_object(rule, rule.endpoint, method, declared)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Tokyo household CO2 and carbon offsets: open data API",
            "version": API_VERSION,
            "description": "Factors, the household footprint arithmetic, open add-ons, the pool's figures "
                           "and the transparency report. Money is integer yen, CO2 integer grams. Errors "
                           "come as FieldErrors (a message per field) or Error (a status and a message), "
                           "in the language of Accept-Language (ja by default, or en).",
        },
        "paths": paths,
        "components": {"schemas": COMPONENTS},
    }

"""Reading a JSON request body safely: a size limit, a nesting limit, then types before values.

Every JSON endpoint reads its body through `read_json_object(schema)`: the declared request schema of
its OpenAPI operation (web.openapi) says which fields exist and of which JSON type. The view then
reads the values (bounds, dates, numbers through carbon.numbers) knowing their types are right, so a
list or an object where a number belongs is a message for that field, never a crash.

Refusals raise JsonBodyError; its response is {"errors": {field: message}} in the caller's language,
400 (413 for a body over the limit). web.errors registers the handler."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from flask import jsonify, request
from flask_babel import gettext as _

MAX_BYTES = 16 * 1024  # the footprint body is about 300 bytes; nothing here needs more
MAX_DEPTH = 20         # the deepest body any endpoint takes is 2 levels

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


class JsonBodyError(Exception):
    """The body was refused; `errors` maps a field (or "body") to a message, `status` is the HTTP code."""

    def __init__(self, errors: Mapping[str, str], status: int = 400) -> None:
        super().__init__(dict(errors))
        self.errors = dict(errors)
        self.status = status

    def response(self):
        return jsonify({"errors": self.errors}), self.status


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (strings, with their brackets, do not count).

    Counted before parsing, so `[` x 100,000 is refused without recursing into it."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_constants(name: str) -> object:
    raise ValueError(name)  # NaN, Infinity and -Infinity are not JSON


def read_json(*, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body of a JSON request, or JsonBodyError (size, nesting, media type, syntax)."""
    if not request.is_json:
        raise JsonBodyError({"body": _("Send the body as JSON with the header Content-Type: application/json.")})
    if request.content_length is not None and request.content_length > max_bytes:
        raise JsonBodyError({"body": _("The body is larger than %(kb)d KB.", kb=max_bytes // 1024)}, 413)
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise JsonBodyError({"body": _("The body is larger than %(kb)d KB.", kb=max_bytes // 1024)}, 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError({"body": _("The body is not valid UTF-8 text.")}) from None
    if nesting_depth(text) > max_depth:
        raise JsonBodyError({"body": _("The JSON nests more than %(depth)d levels deep.", depth=max_depth)})
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN, an integer of over 4,300 digits
        raise JsonBodyError({"body": _("The body is not valid JSON.")}) from None


# JSON Schema type -> the Python types json.loads produces for it (bool is not a number here).
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "integer": (int, float),
                                       "boolean": (bool,), "object": (dict,), "array": (list,),
                                       "null": (type(None),)}


def _type_error(value: object, schema: Mapping[str, Any]) -> str | None:
    """A message when `value` is not of the JSON type (or one of the values) the schema names."""
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        fits = any(isinstance(value, _TYPES[name]) and not (isinstance(value, bool) and name != "boolean")
                   and not (name == "integer" and isinstance(value, float) and not value.is_integer())
                   for name in names)
        if not fits:
            if "enum" in schema:
                return _("Choose one of: %(values)s.", values=", ".join(str(v) for v in schema["enum"]))
            if "integer" in names:
                return _("Send a whole number, for example 2.")
            if "number" in names:
                return _("Send a number, for example 300 or 2.5.")
            if "string" in names:
                return _("Send text in quotes.")
            return _("This value has the wrong type.")
    if "enum" in schema and value not in schema["enum"]:
        return _("Choose one of: %(values)s.", values=", ".join(str(v) for v in schema["enum"]))
    return None


def read_json_object(schema: Mapping[str, Any], **limits: int) -> dict[str, Any]:
    """A JSON object body whose fields have the types `schema` declares (its `properties`,
    `required` and `additionalProperties: false`); value rules are left to the view."""
    body = read_json(**limits)
    if not isinstance(body, dict):
        raise JsonBodyError({"body": _("Send a JSON object, for example {\"period\": \"month\", "
                                       "\"household_size\": 2, \"electricity_kwh\": 300}.")})
    properties: Mapping[str, Any] = schema.get("properties", {})
    errors: dict[str, str] = {}
    for name in schema.get("required", ()):
        if name not in body:
            errors[name] = _("This field is required.")
    for name, value in body.items():
        if name not in properties:
            if schema.get("additionalProperties") is False:
                errors[name[:100]] = _("Unknown field.")
            continue
        problem = _type_error(value, properties[name])
        if problem:
            errors[name] = problem
    if errors:
        raise JsonBodyError(errors)
    return body

"""Decode Stripe's form encoding (`a[b][0][c]=v`) and validate the values like Stripe does."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import invalid, missing

# A key is a name followed by any number of bracketed parts: "line_items[0][price_data]".
_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")
_INT_RE = re.compile(r"^-?[0-9]+$")
_APPEND = object()  # the part of "expand[]": append to a list


def decode_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn decoded form pairs into nested dicts; runs of integer keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY_RE.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        parts: list[Any] = [match.group(1)]
        parts += [p if p != "" else _APPEND for p in _PART_RE.findall(match.group(2))]
        _insert(root, parts, value, key)
    return _listify(root)


def _insert(node: dict[str, Any], parts: list[Any], value: str, key: str) -> None:
    """Place one value at its path, refusing a key that is both a value and a container."""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part is _APPEND:
            # "[]" keys append in the order sent; a private key keeps that order through _listify.
            part = f"\x00{len(node)}"
        if last:
            if isinstance(node.get(part), dict):
                raise invalid(f"Invalid parameter: {key} is both a value and a hash", param=key)
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise invalid(f"Invalid parameter: {key} is both a value and a hash", param=key)
        node = child


def _listify(node: Any) -> Any:
    """Convert dicts whose keys are all indexes ("0", "1" or appended) into lists, in order."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() or k.startswith("\x00") for k in converted):
        def order(k: str) -> tuple[int, int]:
            return (1, int(k[1:])) if k.startswith("\x00") else (0, int(k))

        return [converted[k] for k in sorted(converted, key=order)]
    return converted


def fingerprint(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """A stable form of the request parameters, for comparing idempotent requests."""
    return tuple(sorted(pairs))


# --- Validators: each takes the raw value and the param path used in error messages. ---


def child_path(parent: str | None, name: str) -> str:
    """The form-encoded path of a nested parameter: child_path("a[0]", "b") == "a[0][b]"."""
    return f"{parent}[{name}]" if parent else name


def require(params: Mapping[str, Any], name: str, parent: str | None = None) -> Any:
    """Return params[name] or raise Stripe's missing-parameter error naming its full path."""
    value = params.get(name)
    if value is None or value == "":
        raise missing(child_path(parent, name))
    return value


def as_str(value: Any, param: str, *, max_length: int | None = None) -> str:
    """Check a plain string value (not a hash or array)."""
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {param} must be a string, not a hash or array", param=param)
    if max_length is not None and len(value) > max_length:
        raise invalid(f"Invalid {param}: must be at most {max_length} characters", param=param)
    return value


def as_int(value: Any, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse a strict integer, with Stripe's bound messages."""
    if not isinstance(value, str) or not _INT_RE.match(value.strip()):
        raise invalid(f"Invalid integer: {value!r}", param=param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=param)
    if maximum is not None and number > maximum:
        raise invalid(f"This value must be less than or equal to {maximum}.", param=param)
    return number


def as_dict(value: Any, param: str) -> dict[str, Any]:
    """Check a hash parameter."""
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash: {param} must be a hash", param=param)
    return value


def as_list(value: Any, param: str) -> list[Any]:
    """Check an array parameter (form-encoded as name[0], name[1] ...)."""
    if isinstance(value, dict) and not value:
        return []
    if not isinstance(value, list):
        raise invalid(f"Invalid array: {param} must be an array", param=param)
    return value


def reject_unknown(params: Mapping[str, Any], allowed: Iterable[str], parent: str | None = None) -> None:
    """Refuse parameters Stripe does not know, so typos fail here rather than in production."""
    allowed_set = set(allowed)
    for name in params:
        if name not in allowed_set:
            path = child_path(parent, name)
            raise invalid(f"Received unknown parameter: {path}", param=path)


def as_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Validate metadata with Stripe's limits; empty values are dropped as Stripe does on create."""
    data = as_dict(value, param)
    if len(data) > 50:
        raise invalid("Metadata can have at most 50 keys.", param=param)
    result: dict[str, str] = {}
    for key, item in data.items():
        if len(key) > 40:
            raise invalid(f"Metadata key {key!r} is longer than 40 characters.", param=f"{param}[{key}]")
        text = as_str(item, f"{param}[{key}]")
        if len(text) > 500:
            raise invalid(f"Metadata values can have up to 500 characters ({key}).", param=f"{param}[{key}]")
        if text != "":
            result[key] = text
    return result


def as_expand(params: Mapping[str, Any]) -> list[str]:
    """The list of `expand[]` paths asked for, if any."""
    raw = params.get("expand")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [as_str(item, "expand") for item in items]

"""Request bodies: parse strict JSON and validate it against a JSON Schema, naming the failing path."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request
from jsonschema import Draft202012Validator

from totem.api.errors import ApiError
from totem.api.quickcheck import Check, compile_check

# per schema (by identity; the schemas are module constants): jsonschema's validator, and the quick
# yes/no check that lets a valid body skip it (None when the schema is beyond the quick check)
_validators: dict[int, tuple[Draft202012Validator, Check | None]] = {}
MAX_DEPTH = 64  # deeper bodies are refused before anything recursive (validation, copies) sees them


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _depth(data: Any) -> int:
    """How deeply `data` nests arrays and objects, walked without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(body: bytes | str, what: str = "the request body") -> Any:
    """Strict JSON (RFC 8259): UTF-8, no NaN or Infinity, finite numbers, at most MAX_DEPTH levels
    deep. Anything else is a 400 naming `what`."""
    too_deep = ApiError(400, "too_deep", f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"{what} is not valid JSON", {"reason": str(exc)[:200]}) from None
    except RecursionError:  # far deeper than MAX_DEPTH
        raise too_deep from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


def _path(parts) -> str:
    path = "body"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(data: Any, schema: dict) -> Any:
    """Raise a 400 `validation_failed` listing every problem, the first in the message."""
    compiled = _validators.get(id(schema))
    if compiled is None:
        Draft202012Validator.check_schema(schema)
        compiled = _validators[id(schema)] = (Draft202012Validator(schema), compile_check(schema))
    validator, quick = compiled
    if quick is not None and quick(data):
        return data
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        problems = [{"path": _path(e.absolute_path), "message": e.message} for e in errors]
        first = problems[0]
        raise ApiError(400, "validation_failed", f"{first['path']}: {first['message']}", {"errors": problems})
    return data


def json_body(schema: dict | None = None) -> Any:
    """The request's JSON body (validated when a schema is given)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    data = parse_json(request.get_data(cache=False))
    if data is None:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON")
    return validate(data, schema) if schema is not None else data

"""Request bodies: parse JSON and validate it against a JSON Schema, naming the failing path."""

from __future__ import annotations

from typing import Any

from flask import request
from jsonschema import Draft202012Validator

from totem.api.errors import ApiError

_validators: dict[int, Draft202012Validator] = {}


def _path(parts) -> str:
    path = "body"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(data: Any, schema: dict) -> Any:
    """Raise a 400 `validation_failed` listing every problem, the first in the message."""
    validator = _validators.get(id(schema))
    if validator is None:
        Draft202012Validator.check_schema(schema)
        validator = _validators[id(schema)] = Draft202012Validator(schema)
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
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON")
    return validate(data, schema) if schema is not None else data

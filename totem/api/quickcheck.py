"""A plain-Python yes/no check for simple JSON Schemas, so that a valid body skips jsonschema's
general (and, per request, costly) machinery; jsonschema still names the problems of an invalid one.

`compile_check(schema)` returns a function that answers True only when the instance satisfies
every keyword, with Draft 2020-12's meaning; or None when the schema uses any keyword outside the
few it knows (the caller then always asks jsonschema). Annotations (description, title, ...) are
ignored, as jsonschema ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from totem.errors import TotemError

Check = Callable[[Any], bool]
ANNOTATIONS = frozenset({"description", "title", "examples", "default", "$comment", "deprecated"})
TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


class Unsupported(TotemError):
    """The schema uses a keyword (or a form of one) this module does not check."""


def compile_check(schema: Any) -> Check | None:
    try:
        return _compile(schema)
    except Unsupported:
        return None


def _compile(schema: Any) -> Check:
    if schema is True or schema == {}:
        return lambda _: True
    if schema is False:
        return lambda _: False
    if not isinstance(schema, dict) or not set(schema) <= set(_KEYWORDS) | ANNOTATIONS:
        raise Unsupported
    checks = [_KEYWORDS[key](value, schema) for key, value in schema.items() if key in _KEYWORDS]
    checks = [check for check in checks if check is not None]
    return lambda value: all(check(value) for check in checks)


def _type(value: Any, _schema: dict) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(name not in TYPES for name in names):
        raise Unsupported
    tests = [TYPES[name] for name in names]
    return lambda v: any(test(v) for test in tests)


def _enum(value: Any, _schema: dict) -> Check:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unsupported  # other members compare by JSON equality (True is not 1): left to jsonschema
    members = frozenset(value)
    return lambda v: isinstance(v, str) and v in members


def _required(value: Any, _schema: dict) -> Check:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unsupported
    return lambda v: not isinstance(v, dict) or all(name in v for name in value)


def _properties(value: Any, _schema: dict) -> Check:
    if not isinstance(value, dict):
        raise Unsupported
    subs = {name: _compile(sub) for name, sub in value.items()}
    return lambda v: not isinstance(v, dict) or all(name not in v or sub(v[name]) for name, sub in subs.items())


def _additional(value: Any, schema: dict) -> Check:
    known, sub = frozenset(schema.get("properties") or ()), _compile(value)
    return lambda v: not isinstance(v, dict) or all(sub(item) for name, item in v.items() if name not in known)


def _items(value: Any, _schema: dict) -> Check:
    sub = _compile(value)
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v)


def _bound(applies: Check, holds: Callable[[Any, int], bool]) -> Callable[[Any, dict], Check]:
    def make(value: Any, _schema: dict) -> Check:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Unsupported
        return lambda v: not applies(v) or holds(v, value)

    return make


def _pattern(value: Any, _schema: dict) -> Check:
    if not isinstance(value, str):
        raise Unsupported
    search = re.compile(value).search  # jsonschema's `pattern`: re.search, unanchored
    return lambda v: not isinstance(v, str) or search(v) is not None


_KEYWORDS: dict[str, Callable[[Any, dict], Check]] = {
    "type": _type,
    "enum": _enum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "minLength": _bound(TYPES["string"], lambda v, n: len(v) >= n),
    "maxLength": _bound(TYPES["string"], lambda v, n: len(v) <= n),
    "minItems": _bound(TYPES["array"], lambda v, n: len(v) >= n),
    "maxItems": _bound(TYPES["array"], lambda v, n: len(v) <= n),
    "pattern": _pattern,
}

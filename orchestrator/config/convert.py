"""Evaluated text → the types the schema wants, as 2015's transform_string_values did.

A string where the evaluated schema allows a boolean or an integer but no string becomes one
(`port: '2321'` → 2321, `enabled: 'True'` → true), templated or written plainly. Where the schema
does not describe a section (`proxy`, template `args`: the deployer checks those) the 2015 keys
decide: `enabled`, `force-ssl` booleans; `port`, `nodes`, `min-nodes`, `attempts` integers.
Durations (`10s`, `1d`) longer than the deploy request's MAX_DURATION are refused here, by path.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.config.errors import key_path
from totem.contracts.deploy_request import DURATION, MAX_DURATION, duration_seconds

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})  # 2015's BOOLEAN_TRUE_VALUES
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off", "none", ""})
BOOLEAN_KEYS = frozenset({"enabled", "force-ssl"})  # where no schema says (2015's list)
INTEGER_KEYS = frozenset({"port", "nodes", "min-nodes", "attempts"})
_INTEGER = re.compile(r"[+-]?\d+")
_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def boolean(text: str) -> bool:
    """A 2015 boolean word (any case, surrounding blanks ignored); ValueError for anything else."""
    word = text.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"{text!r} is not a boolean (true/yes/y/1/on or false/no/n/0/off/none)")


def _branches(schema: dict) -> list[dict]:
    """The schema and every alternative it allows (anyOf/oneOf/allOf), flattened."""
    found = [schema]
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword) or []:
            found.extend(_branches(sub))
    return found


def _types(branches: list[dict]) -> set[str]:
    types: set[str] = set()
    for branch in branches:
        kind = branch.get("type")
        types.update([kind] if isinstance(kind, str) else kind or [])
        values = [*branch.get("enum", []), *([branch["const"]] if "const" in branch else [])]
        types.update(_TYPES.get(type(value), "object") for value in values)
    return types


def _described(branches: list[dict]) -> bool:
    return any(k in b for b in branches for k in ("properties", "additionalProperties", "items"))


def _child(branches: list[dict], key: Any) -> list[dict] | None:
    """The schemas of a mapping's `key` (None: no schema describes it)."""
    found = []
    for branch in branches:
        if key in (branch.get("properties") or {}):
            found.extend(_branches(branch["properties"][key]))
        elif isinstance(branch.get("additionalProperties"), dict):
            found.extend(_branches(branch["additionalProperties"]))
    return found or None


def _items(branches: list[dict]) -> list[dict] | None:
    found = [sub for b in branches if isinstance(b.get("items"), dict) for sub in _branches(b["items"])]
    return found or None


def _text(value: str, key: Any, branches: list[dict] | None) -> Any:
    if branches is None:
        types = {"boolean"} if key in BOOLEAN_KEYS else {"integer"} if key in INTEGER_KEYS else {"string"}
    else:
        types = _types(branches) or {"string"}
    if "string" in types:
        if branches and any(b.get("pattern") == DURATION["pattern"] for b in branches):
            _check_duration(value)
        return value
    if "boolean" in types:
        return boolean(value)
    if types & {"integer", "number"} and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    if "null" in types and value.strip().lower() in ("", "null", "none"):
        return None
    return value  # the schema check names what is wrong with it


def _check_duration(value: str) -> None:
    seconds = duration_seconds(value)
    if seconds is not None and seconds > MAX_DURATION:
        raise ValueError(f"{value!r} is longer than {MAX_DURATION} s (1d)")


def convert(node: Any, schema: dict, problems: list[dict]) -> Any:
    """A copy of `node` with strings converted where `schema` wants other types (problems appended)."""
    return _walk(node, _branches(schema), None, (), problems)


def _walk(node: Any, branches: list[dict] | None, key: Any, path: tuple, problems: list[dict]) -> Any:
    if isinstance(node, dict):
        if node.get("encrypted") is True:
            return node
        known = branches if branches and _described(branches) else None
        return {
            k: v if k == "variables" else _walk(v, _child(known, k) if known else None, k, (*path, k), problems)
            for k, v in node.items()
        }
    if isinstance(node, list):
        items = _items(branches) if branches else None
        return [_walk(v, items, key, (*path, i), problems) for i, v in enumerate(node)]
    if isinstance(node, str):
        try:
            return _text(node, key, branches)
        except ValueError as exc:
            problems.append({"path": key_path(path), "message": str(exc)})
    return node

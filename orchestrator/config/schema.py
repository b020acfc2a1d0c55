"""JSON Schemas for totem.yml: the evaluated shape, and the same shape where any value may be a template."""
from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

from orchestrator.config.errors import ConfigError

TEMPLATE = {
    "type": "object", "required": ["value"], "additionalProperties": False,
    "properties": {"value": {}, "priority": {"type": "integer"}, "encrypted": {"type": "boolean"}},
}
ENCRYPTED = {**TEMPLATE, "required": ["value", "encrypted"], "properties": {**TEMPLATE["properties"], "encrypted": {"const": True}}}
DURATION = {"type": "string", "pattern": r"^\d+(ms|s|m|h)?$"}
SWITCH = {"type": "object", "properties": {"enabled": {"type": "boolean"}}}
CHANNEL = {
    "type": "object",
    "properties": {"enabled": {"type": "boolean"}, "level": {"type": "integer", "minimum": 1, "maximum": 5},
                   "url": {"type": "string"}, "channel": {"type": "string"}, "context": {"type": "string"}},
}
DEPLOYER = {
    "type": "object",
    "required": ["url", "enabled"],
    "properties": {
        "url": {"type": "string", "pattern": r"^https?://[^\s/]+(/\S*)?$"},
        "enabled": {"type": "boolean"},
        "proxy": {"type": "object"},
        "templates": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "name": {"type": "string"}, "args": {"type": "object"}}}},
        "deployment": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,127}$"},
                "version": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"},
                "mode": {"enum": ["blue-green", "red-green", "a/b"]},
                "nodes": {"type": "integer", "minimum": 1, "maximum": 12},
                "check": {"type": "object", "properties": {
                    "min-nodes": {"type": "integer", "minimum": 1},
                    "port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
                    "path": {"type": "string"},
                    "timeout": DURATION,
                    "attempts": {"type": "integer", "minimum": 1},
                }},
                "stop": {"type": "object", "properties": {
                    "timeout": DURATION, "check-retries": {"type": "integer", "minimum": 0}}},
            },
        },
    },
}
EVALUATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "hooks": {"type": "object", "properties": {
            kind: {"type": "object", "additionalProperties": SWITCH} for kind in ("builder", "ci", "scm")},
            "additionalProperties": False},
        "deployers": {"type": "object", "additionalProperties": DEPLOYER},
        "variables": {"type": "object"},
        "security": {"type": "object", "properties": {"profile": {"type": "string"}}},
        "notifications": {"type": "object", "properties": {
            name: CHANNEL for name in ("github", "slack", "webhook")}, "additionalProperties": False},
        "environment": {"type": "object", "additionalProperties": {
            "anyOf": [{"type": ["string", "number", "boolean"]}, ENCRYPTED]}},
        "schedule": {"type": ["string", "null"]},
        "scm": {"type": "object"},
    },
}


def templated(schema: Any) -> Any:
    """The same schema where any value below the top level may also be a `{value: ...}` template."""
    def walk(node: Any, top: bool) -> Any:
        if not isinstance(node, dict):
            return node
        node = copy.deepcopy(node)
        if "properties" in node:
            node["properties"] = {name: walk(sub, False) for name, sub in node["properties"].items()}
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = walk(node["additionalProperties"], False)
        return node if top else {"anyOf": [TEMPLATE, node]}
    return walk(schema, True)


RAW_SCHEMA = templated(EVALUATED_SCHEMA)
_VALIDATORS = {id(s): Draft202012Validator(s) for s in (RAW_SCHEMA, EVALUATED_SCHEMA)}


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(root)"


def _leaves(error):
    """For an anyOf (template or value) failure, every reason from the non-template branch."""
    if error.validator != "anyOf" or not error.context or error.validator_value[0] != TEMPLATE:
        yield error
        return
    branch = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == 1]
    for sub in branch or error.context:
        yield from _leaves(sub)


def check(config: Any, evaluated: bool) -> None:
    """Raise ConfigError listing every violation with its key path (the first in the message)."""
    schema = EVALUATED_SCHEMA if evaluated else RAW_SCHEMA
    errors = []
    for error in _VALIDATORS[id(schema)].iter_errors(config):
        for leaf in _leaves(error):
            errors.append({"path": _path(leaf.absolute_path), "message": leaf.message})
    if errors:
        errors.sort(key=lambda e: e["path"])
        stage = "schema" if evaluated else "schema-raw"
        raise ConfigError(f"{errors[0]['path']}: {errors[0]['message']}", errors, stage)

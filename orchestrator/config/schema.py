"""JSON Schemas for totem.yml: the evaluated shape, and the same shape where any value may be a template."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

from orchestrator.config.errors import ConfigError
from totem.contracts.deploy_request import DEPLOYMENT_SCHEMA, ENVIRONMENT_SCHEMA, SCHEDULE_SCHEMA, SECURITY_SCHEMA
from totem.notify.schema import NOTIFICATIONS_SCHEMA

TEMPLATE = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {"value": {}, "priority": {"type": "integer"}, "encrypted": {"type": "boolean"}},
}
SWITCH = {"type": "object", "properties": {"enabled": {"type": "boolean"}}}
DEPLOYER = {
    "type": "object",
    "required": ["url", "enabled"],
    "properties": {
        "url": {"type": "string", "pattern": r"^https?://[^\s/]+(/\S*)?$"},
        "enabled": {"type": "boolean"},
        "proxy": {"type": "object"},
        "templates": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "args": {"type": "object"}},
            },
        },
        "deployment": DEPLOYMENT_SCHEMA,  # passed on as is in the deploy request
    },
}
EVALUATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "hooks": {
            "type": "object",
            "properties": {
                kind: {"type": "object", "additionalProperties": SWITCH} for kind in ("builder", "ci", "scm")
            },
            "additionalProperties": False,
        },
        "deployers": {"type": "object", "additionalProperties": DEPLOYER},
        "variables": {"type": "object"},
        "security": SECURITY_SCHEMA,
        "notifications": NOTIFICATIONS_SCHEMA,  # levels by name (or the legacy 1–5)
        "environment": ENVIRONMENT_SCHEMA,
        "schedule": SCHEDULE_SCHEMA,
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

"""JSON Schemas for totem.yml: the evaluated shape, and the same shape where any value may be a template."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from jsonschema import Draft202012Validator

from orchestrator.config.errors import ConfigError
from totem import oncalendar
from totem.contracts.deploy_request import (
    DEPLOYMENT_SCHEMA,
    DURATION,
    ENVIRONMENT_SCHEMA,
    LOGGING_SCHEMA,
    SCHEDULE_SCHEMA,
    SECURITY_SCHEMA,
)
from totem.notify.schema import NOTIFICATIONS_SCHEMA

TEMPLATE = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {},
        "priority": {"type": "integer"},
        "encrypted": {"type": "boolean"},
        "template": {"type": "boolean", "description": "false: the value is taken literally"},
    },
}
VARIABLES_KEY = "variables"  # a block of them may sit in any mapping before evaluation
VARIABLES = {"type": "object", "description": "names → values or {value: <jinja>, priority, template}"}
SWITCH = {"type": "object", "properties": {"enabled": {"type": "boolean"}}}
HOOK_KINDS = ("builder", "ci", "scm", "scm-push", "scm-create")  # only builder and ci gate a deploy
DEPLOYER = {
    "type": "object",
    "required": ["enabled"],
    # evaluated only: an enabled deployer has a url (filled from TOTEM_DEPLOYER_URL when none is given)
    "if": {"properties": {"enabled": {"const": True}}},
    "then": {"required": ["url"]},
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
# docs/approvals.md: who must approve a deploy; `environments.<TOTEM_ENV>` overrides fields in that environment
APPROVAL_FIELDS: dict[str, Any] = {
    "required": {"type": "boolean", "description": "hold every passing job for a decision (default false)"},
    "approvers": {
        "type": "array",
        "minItems": 1,
        "maxItems": 50,
        "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,62}$"},
        "description": "role names (that role or higher) or token names; default [admin]",
    },
    "timeout": {**DURATION, "description": "rejected when undecided this long (default 24h; at most 1d)"},
    "self-approval": {"type": "boolean", "description": "may the push's author approve it (default false)"},
}
APPROVAL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **APPROVAL_FIELDS,
        "environments": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": False, "properties": APPROVAL_FIELDS},
        },
    },
}
EVALUATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "hooks": {
            "type": "object",
            "properties": {kind: {"type": "object", "additionalProperties": SWITCH} for kind in HOOK_KINDS},
            "additionalProperties": False,
        },
        "deployers": {"type": "object", "additionalProperties": DEPLOYER},
        "variables": VARIABLES,
        "security": SECURITY_SCHEMA,
        "logging": LOGGING_SCHEMA,  # docs/logging.md: set per environment in its own totem.yml level
        "notifications": NOTIFICATIONS_SCHEMA,  # levels by name (or the legacy 1–5)
        "environment": ENVIRONMENT_SCHEMA,
        "schedule": SCHEDULE_SCHEMA,
        "scm": {"type": "object"},
        "approval": APPROVAL,
    },
}


def templated(schema: Any) -> Any:
    """The same schema before evaluation: any value below the top level may also be a `{value: ...}`
    template, a boolean or integer may also be text (convert.py makes it one), any mapping may hold
    a `variables` block, and the rules that only hold once values are evaluated and filled in
    (`if`/`then`) are left out."""

    def walk(node: Any, top: bool) -> Any:
        if not isinstance(node, dict):
            return node
        node = {key: copy.deepcopy(value) for key, value in node.items() if key not in ("if", "then", "else")}
        if "properties" in node:
            node["properties"] = {name: walk(sub, False) for name, sub in node["properties"].items()}
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = walk(node["additionalProperties"], False)
        if node.get("type") == "object" or "properties" in node:
            node["properties"] = {VARIABLES_KEY: VARIABLES, **node.get("properties", {})}
        if top:
            return node
        kinds = {node["type"]} if isinstance(node.get("type"), str) else set(node.get("type") or ())
        if kinds & {"boolean", "integer", "number"} and "string" not in kinds:  # `port: '80'`: converted later
            return {"anyOf": [TEMPLATE, node, {"type": "string"}]}
        return {"anyOf": [TEMPLATE, node]}

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
    key = _frozen(config)
    if key is None:
        errors = _problems(config, evaluated)
    else:  # the same config (every job of an app before evaluation) is judged once: the verdict is kept
        errors = _cached_problems((evaluated, key), config, evaluated)
    if errors:
        stage = "schema" if evaluated else "schema-raw"
        raise ConfigError(f"{errors[0]['path']}: {errors[0]['message']}", copy.deepcopy(errors), stage)


def _frozen(value: Any) -> Any:
    """A hashable image of a YAML/JSON value that tells apart what JSON Schema tells apart (1, 1.0,
    True and "1"; key order kept); None when it holds anything else (then nothing is cached)."""
    kind = type(value)
    if kind is dict:
        items = []
        for name, item in value.items():
            inner = _frozen(item)
            if type(name) is not str or inner is None:
                return None
            items.append((name, inner))
        return ("d", tuple(items))
    if kind is list:
        inner_items = tuple(_frozen(item) for item in value)
        return None if any(item is None for item in inner_items) else ("l", inner_items)
    if kind in (str, int, bool) or value is None or (kind is float and value == value):  # NaN never equals
        return (kind.__name__, value)
    return None


class _Verdicts:
    """The last MAX checks' problems, by frozen config (errors are plain data)."""

    MAX = 512

    def __init__(self) -> None:
        self.kept: OrderedDict[Any, list[dict]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, key: Any, config: Any, evaluated: bool) -> list[dict]:
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key]
        errors = _problems(config, evaluated)
        with self.lock:
            self.kept[key] = errors
            while len(self.kept) > self.MAX:
                self.kept.popitem(last=False)
        return errors


_cached_problems = _Verdicts()


def _problems(config: Any, evaluated: bool) -> list[dict]:
    schema = EVALUATED_SCHEMA if evaluated else RAW_SCHEMA
    errors = []
    for error in _VALIDATORS[id(schema)].iter_errors(config):
        for leaf in _leaves(error):
            errors.append({"path": _path(leaf.absolute_path), "message": leaf.message})
    schedule = config.get("schedule") if evaluated and isinstance(config, dict) else None
    if isinstance(schedule, str) and schedule.strip():
        try:  # the deployer would refuse it: say so before any hook waits on it
            oncalendar.parse(schedule)
        except oncalendar.CalendarError as exc:
            errors.append({"path": "schedule", "message": str(exc)})
    errors.sort(key=lambda e: e["path"])
    return errors

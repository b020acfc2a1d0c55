"""The deploy request (docs/architecture.md §3.2): what the orchestrator POSTs to `<deployer url>/apps`.

    {
      "meta-info": {"job-id", "job-url", "env", "cluster", "deployer", "git": {owner, repo, ref, commit}},
      "deployment": {"name", "version", "mode", "nodes", "check": {...}, "stop": {...}, "drain", "ab-weight",
                     "canary": {...}, "preview": {...}, "placement": {"constraints", "preferences"}},
      "templates": {"app": {"args": {"image": "<registry>/<owner>-<repo>:<commit>", ...}}, ...},
      "proxy": {...}, "environment": {NAME: "text" | {"value", "encrypted": true}},
      "security": {"profile"}, "logging": {"syslog"}, "notifications": {...}, "schedule": null | "<OnCalendar>"
    }

Only `deployment.name`, `deployment.version` and `templates.app.args.image` are required; every
other field has a default, written in the schema as a JSON Schema `default` keyword and filled in by
`with_defaults`. Three defaults are the deployer's own settings (`meta-info.env` TOTEM_ENV,
`meta-info.cluster` TOTEM_CLUSTER, `deployment.drain` TOTEM_DEPLOYER_DRAIN): `served_schema` sets
them, and that is the document a deployer serves at `/schemas/deploy-request-v1`.

Patterns are anchored with `$`, meaning the end of the text as in JSON Schema (ECMA-262):
`validator` checks them that way (Python's `re` would let a trailing newline through).

Encrypted environment values arrive still encrypted. Requests carry `Idempotency-Key: <job-id>-<deployer>`.
"""

from __future__ import annotations

import copy
import itertools
import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from totem import commit_time, git_names, syslog_url
from totem.contracts import canary
from totem.notify.schema import NOTIFICATIONS_SCHEMA

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"  # an app: a DNS label, no "_" (it ends the app in /yoda names)
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
# a deployment's id: <name>-<version>-<sequence>
DEPLOYMENT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}-[A-Za-z0-9][A-Za-z0-9_.-]{0,127}-[1-9][0-9]{0,17}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,255}$"  # what systemd and the shell accept as a variable
CHECK_PATH_PATTERN = r"^/?[A-Za-z0-9._~!$'()*+,=:@%/-]{0,1024}$"  # a leading "/" is added when missing
MAX_NODES = 12
MAX_DURATION = 86400  # seconds: no timeout or drain is longer than a day

_GIT = {
    "type": "object",
    "description": "the commit deployed; every field is required when `git` is given",
    "required": list(git_names.FIELDS),
    "properties": {field: git_names.schema(field) for field in git_names.FIELDS},  # what totem.git_names checks
}
# seconds per unit of a duration ("10s", "2h", "1d"; a bare number is seconds): `duration_seconds` reads them
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_TEXT = re.compile(r"^([0-9]+)(ms|s|m|h|d|w)?$")  # ASCII digits: \d would take "２s"


def duration_seconds(text: str) -> float | None:
    """The seconds of a duration as DURATION spells it ("10s", "1d"); None when it is not one. The
    one reader of durations: the deployer and the config check both call it."""
    match = _DURATION_TEXT.match(text.strip())
    return int(match.group(1)) * DURATION_UNITS[match.group(2) or "s"] if match else None


DURATION = {
    "type": "string",
    "pattern": r"^[0-9]{1,9}(ms|s|m|h|d|w)?$",
    "description": f"10s, 500ms, 1m, 2h, 1d, 1w (a bare number: seconds); at most {MAX_DURATION} s",
}

# Swarm placement (the `swarm` scheduler; `docker` spreads by itself): Docker's own syntax
CONSTRAINT_PATTERN = r"^(node|engine)\.[A-Za-z0-9_.-]{1,200} ?(==|!=) ?[A-Za-z0-9_.:/-]{1,200}$"
SPREAD_PATTERN = r"^(node|engine)\.labels\.[A-Za-z0-9_.-]{1,200}$"
PLACEMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "swarm only: where the swarm may put the instances; absent: anywhere",
    "properties": {
        "constraints": {
            "type": "array",
            "maxItems": 20,
            "items": {"type": "string", "pattern": CONSTRAINT_PATTERN},
            "description": "e.g. node.labels.edge==true, node.role!=manager",
        },
        "preferences": {
            "type": "array",
            "maxItems": 5,
            "items": {
                "type": "object",
                "required": ["spread"],
                "additionalProperties": False,
                "properties": {"spread": {"type": "string", "pattern": SPREAD_PATTERN}},
            },
            "description": "e.g. [{spread: node.labels.zone}]",
        },
    },
}

# Sections of an evaluated totem.yml that travel in the request as they are; the totem.yml schema
# (orchestrator/config/schema.py) is built on them, so both always agree.
DEPLOYMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "version": {"type": "string", "pattern": VERSION_PATTERN},
        "mode": {"enum": ["blue-green", "red-green", "a/b", "canary"], "default": "blue-green"},
        "nodes": {"type": "integer", "minimum": 1, "maximum": MAX_NODES, "default": 1},
        "check": {
            "type": "object",
            "default": {},
            "properties": {
                "min-nodes": {"type": "integer", "minimum": 1, "default": 1, "description": "at most `nodes`"},
                "port": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "maximum": 65535,
                    "default": None,
                    "description": "the port the discovery check uses; null: the port of the proxy's locations, "
                    "else 8080; 0: no discovery check",
                },
                "path": {"type": "string", "pattern": CHECK_PATH_PATTERN, "default": "/"},
                "timeout": {**DURATION, "default": "10s"},
                "attempts": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            },
        },
        "stop": {
            "type": "object",
            "default": {},
            "properties": {
                "timeout": {**DURATION, "default": "30s"},
                "check-retries": {"type": "integer", "minimum": 0},
            },
        },
        "drain": {
            "anyOf": [DURATION, {"type": "number", "minimum": 0, "maximum": MAX_DURATION}],
            "description": f"how long older versions keep serving after the switch (at most {MAX_DURATION} s); "
            "default: the deployer's TOTEM_DEPLOYER_DRAIN",
        },
        "ab-weight": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "default": 50,
            "description": "a/b mode: the percentage of requests the new version gets",
        },
        "canary": canary.canary_schema(DURATION),
        "preview": canary.PREVIEW_SCHEMA,
        "placement": PLACEMENT_SCHEMA,
    },
}
ENCRYPTED_VALUE = {
    "type": "object",
    "required": ["value", "encrypted"],
    "additionalProperties": False,
    "properties": {"value": {}, "priority": {"type": "integer"}, "encrypted": {"const": True}},
}
ENVIRONMENT_SCHEMA = {
    "type": "object",
    "propertyNames": {"pattern": ENV_NAME_PATTERN},
    "additionalProperties": {"anyOf": [{"type": ["string", "number", "boolean"]}, ENCRYPTED_VALUE]},
}
SECURITY_SCHEMA = {
    "type": "object",
    "properties": {
        "profile": {"type": "string", "maxLength": 200, "default": "default"},
        "secrets-as-env": {
            "type": "array",
            "items": {"type": "string", "pattern": ENV_NAME_PATTERN},
            "uniqueItems": True,
            "maxItems": 200,
            "description": "encrypted variables the app also gets as plain environment variables (visible "
            "in `docker inspect`); every encrypted NAME is always the file /run/secrets/NAME, named by NAME_FILE",
        },
    },
}
LOGGING_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "syslog": {
            "type": "string",
            "maxLength": 300,
            "pattern": syslog_url.PATTERN,
            "description": "where the instances' output goes: tcp://HOST:PORT or tls://HOST:PORT (RFC 5424, "
            "octet-counted); empty: not shipped; absent: the deployer's TOTEM_SYSLOG_URL (docs/logging.md)",
        },
    },
}
SCHEDULE_SCHEMA = {"type": ["string", "null"], "maxLength": 200, "pattern": r"^[^\x00-\x1f\x7f]*$"}

DEPLOY_REQUEST_SCHEMA: dict[str, Any] = {
    "$id": "https://totem.localhost/schemas/deploy-request-v1.json",
    "title": "Totem deploy request",
    "type": "object",
    "required": ["deployment", "templates"],
    "properties": {
        "meta-info": {
            "type": "object",
            "default": {},
            "properties": {
                "job-id": {"type": "string", "maxLength": 200, "description": "the orchestrator's job; absent: none"},
                "job-url": {"type": "string", "maxLength": 2000},
                "env": {"type": "string", "maxLength": 200, "description": "default: the deployer's TOTEM_ENV"},
                "cluster": {
                    "type": "string",
                    "maxLength": 200,
                    "description": "default: the deployer's TOTEM_CLUSTER",
                },
                "deployer": {
                    "type": "string",
                    "maxLength": 200,
                    "default": "default",
                    "description": "the deployer's name in totem.yml",
                },
                "git": _GIT,
                "commit-time": {
                    "type": "string",
                    "maxLength": commit_time.MAX_LENGTH,
                    "pattern": commit_time.PATTERN,
                    "description": "when the commit was made (ISO 8601 with an offset); the lead time of "
                    "docs/delivery-metrics.md starts there. Absent: the first time the deployer saw the commit",
                },
            },
        },
        "deployment": {**DEPLOYMENT_SCHEMA, "required": ["name", "version"]},
        "templates": {
            "type": "object",
            "required": ["app"],
            "properties": {
                "app": {
                    "type": "object",
                    "required": ["args"],
                    "properties": {
                        "args": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {"image": {"type": "string", "minLength": 1, "maxLength": 1000}},
                        }
                    },
                }
            },
        },
        "proxy": {"type": "object", "default": {}, "description": "hosts and upstreams; default: no routes"},
        "environment": {**ENVIRONMENT_SCHEMA, "default": {}},
        "security": {**SECURITY_SCHEMA, "default": {}},
        "logging": {**LOGGING_SCHEMA, "default": {}},
        "notifications": {**NOTIFICATIONS_SCHEMA, "default": {}},  # channel levels by name (or the legacy 1–5)
        "schedule": {
            **SCHEDULE_SCHEMA,
            "default": None,
            "description": "run as a scheduled job at these times (a systemd OnCalendar calendar event, UTC: "
            "`*:0/15`, `Mon..Fri 09:00`, `daily`; totem/oncalendar.py) on every scheduler, never wired into "
            "the proxy; null: a long-running service",
        },
    },
}


def served_schema(
    env: str, cluster: str, drain: float, proxy: dict | None = None, syslog: str | None = None
) -> dict[str, Any]:
    """The schema as one deployer serves and applies it: its own settings as the defaults of
    `meta-info.env`, `meta-info.cluster` and `deployment.drain`, and `proxy` (when given) as the
    schema it checks that section with."""
    schema = copy.deepcopy(DEPLOY_REQUEST_SCHEMA)
    meta = schema["properties"]["meta-info"]["properties"]
    meta["env"]["default"] = env
    meta["cluster"]["default"] = cluster
    schema["properties"]["deployment"]["properties"]["drain"]["default"] = drain
    if syslog is not None:  # the deployer's TOTEM_SYSLOG_URL
        schema["properties"]["logging"]["properties"]["syslog"]["default"] = syslog
    if proxy is not None:
        schema["properties"]["proxy"] = {**copy.deepcopy(proxy), "default": {}}
    return schema


def with_defaults(request: dict, schema: dict[str, Any] = DEPLOY_REQUEST_SCHEMA) -> dict:
    """A copy of `request` with every absent property that has a `default` in `schema` filled in,
    objects within objects included (a defaulted `check: {}` gets its own defaults). It walks the
    schema's `properties` (a fixed depth), never arbitrary request data."""
    filled = copy.deepcopy(request)
    pending = [(filled, schema)]
    while pending:
        node, node_schema = pending.pop()
        for name, sub in (node_schema.get("properties") or {}).items():
            if name not in node and "default" in sub:
                node[name] = copy.deepcopy(sub["default"])
            if isinstance(node.get(name), dict):
                pending.append((node[name], sub))
    return filled


# -- validation -----------------------------------------------------------------------------------
def _pattern(validator, pattern: str, instance: Any, schema: dict):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{_shown(instance)} does not match {pattern!r}")


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    # "$" at the very end means the end of the text (JSON Schema's ECMA-262), not "before a final newline"
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern)


def _property_names(validator, property_names: dict, instance: Any, schema: dict):
    if validator.is_type(instance, "object"):
        for name in instance:
            for error in validator.descend(instance=name, schema=property_names):
                error.message = f"name {error.message}"
                yield error


StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern, "propertyNames": _property_names})
_validators: dict[int, tuple[dict, Any]] = {}  # id → (schema, validator): the schema is kept, its id stays its own
MAX_PROBLEMS = 20


def validator(schema: dict[str, Any] = DEPLOY_REQUEST_SCHEMA):
    entry = _validators.get(id(schema))
    if entry is None or entry[0] is not schema:
        StrictValidator.check_schema(schema)
        entry = _validators[id(schema)] = (schema, StrictValidator(schema))
    return entry[1]


def _shown(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path(parts) -> str:
    path = "body"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _problem(error: ValidationError) -> dict[str, str]:
    parts = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        # one error per missing property: name it in the path
        missing = next((n for n in error.validator_value if error.message == f"{n!r} is a required property"), None)
        if missing is not None:
            return {"path": _path([*parts, missing]), "message": "required"}
    message, spelled = error.message, repr(error.instance)
    if len(spelled) > 80 and message.startswith(spelled):  # jsonschema spells the whole value
        message = _shown(error.instance) + message[len(spelled) :]
    return {"path": _path(parts), "message": message[:300]}


def problems(data: Any, schema: dict[str, Any] = DEPLOY_REQUEST_SCHEMA) -> list[dict[str, str]]:
    """How `data` breaks `schema`, as {"path": "body.meta-info.git.commit", "message": "required"},
    sorted by path; at most MAX_PROBLEMS of them."""
    errors = itertools.islice(validator(schema).iter_errors(data), MAX_PROBLEMS)
    found = [_problem(e) for e in errors]
    unique = {(p["path"], p["message"]): p for p in found}
    return sorted(unique.values(), key=lambda p: (p["path"], p["message"]))

"""The deploy request (docs/architecture.md §3.2): what the orchestrator POSTs to `<deployer url>/apps`.

    {
      "meta-info": {"job-id", "job-url", "env", "cluster", "deployer", "git": {owner, repo, ref, commit}},
      "deployment": {"name", "version", "mode", "nodes", "check": {...}, "stop": {...}},
      "templates": {"app": {"args": {"image": "<registry>/<owner>-<repo>:<commit>", ...}}, ...},
      "proxy": {...}, "environment": {NAME: "text" | {"value", "encrypted": true}},
      "security": {"profile"}, "notifications": {...}, "schedule": null | "<OnCalendar>"
    }

Encrypted environment values arrive still encrypted. Requests carry `Idempotency-Key: <job-id>-<deployer>`.
"""

from __future__ import annotations

from totem.notify.schema import NOTIFICATIONS_SCHEMA

_GIT = {
    "type": "object",
    "required": ["owner", "repo", "ref", "commit"],
    "properties": {k: {"type": "string", "minLength": 1} for k in ("owner", "repo", "ref", "commit")},
}
DURATION = {"type": "string", "pattern": r"^\d+(ms|s|m|h)?$"}

# Sections of an evaluated totem.yml that travel in the request as they are; the totem.yml schema
# (orchestrator/config/schema.py) is built on them, so both always agree.
DEPLOYMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,127}$"},
        "version": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"},
        "mode": {"enum": ["blue-green", "red-green", "a/b"]},
        "nodes": {"type": "integer", "minimum": 1, "maximum": 12},
        "check": {
            "type": "object",
            "properties": {
                "min-nodes": {"type": "integer", "minimum": 1},
                "port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
                "path": {"type": "string"},
                "timeout": DURATION,
                "attempts": {"type": "integer", "minimum": 1},
            },
        },
        "stop": {
            "type": "object",
            "properties": {"timeout": DURATION, "check-retries": {"type": "integer", "minimum": 0}},
        },
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
    "additionalProperties": {"anyOf": [{"type": ["string", "number", "boolean"]}, ENCRYPTED_VALUE]},
}
SECURITY_SCHEMA = {"type": "object", "properties": {"profile": {"type": "string"}}}
SCHEDULE_SCHEMA = {"type": ["string", "null"]}

DEPLOY_REQUEST_SCHEMA = {
    "$id": "https://totem.localhost/schemas/deploy-request-v1.json",
    "title": "Totem deploy request",
    "type": "object",
    "required": [
        "meta-info",
        "deployment",
        "templates",
        "proxy",
        "environment",
        "security",
        "notifications",
        "schedule",
    ],
    "properties": {
        "meta-info": {
            "type": "object",
            "required": ["job-id", "git", "env", "cluster", "deployer"],
            "properties": {
                "job-id": {"type": "string"},
                "job-url": {"type": "string"},
                "env": {"type": "string"},
                "cluster": {"type": "string"},
                "deployer": {"type": "string"},
                "git": _GIT,
            },
        },
        "deployment": {**DEPLOYMENT_SCHEMA, "required": ["name", "version", "mode", "nodes"]},
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
                            "properties": {"image": {"type": "string", "minLength": 1}},
                        }
                    },
                }
            },
        },
        "proxy": {"type": "object"},
        "environment": ENVIRONMENT_SCHEMA,
        "security": SECURITY_SCHEMA,
        "notifications": NOTIFICATIONS_SCHEMA,  # channel levels by name (or the legacy 1–5)
        "schedule": SCHEDULE_SCHEMA,
    },
}

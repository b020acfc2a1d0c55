"""The deployment request the orchestrator POSTs to `<deployer url>/apps` (the deployer accepts this shape).

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

from orchestrator.config.schema import DEPLOYER, EVALUATED_SCHEMA

_GIT = {"type": "object", "required": ["owner", "repo", "ref", "commit"],
        "properties": {k: {"type": "string", "minLength": 1} for k in ("owner", "repo", "ref", "commit")}}

DEPLOY_REQUEST_SCHEMA = {
    "$id": "https://totem.localhost/schemas/deploy-request-v1.json",
    "title": "Totem deploy request",
    "type": "object",
    "required": ["meta-info", "deployment", "templates", "proxy", "environment", "security", "notifications", "schedule"],
    "properties": {
        "meta-info": {"type": "object", "required": ["job-id", "git", "env", "cluster", "deployer"], "properties": {
            "job-id": {"type": "string"}, "job-url": {"type": "string"}, "env": {"type": "string"},
            "cluster": {"type": "string"}, "deployer": {"type": "string"}, "git": _GIT}},
        "deployment": {**DEPLOYER["properties"]["deployment"], "required": ["name", "version", "mode", "nodes"]},
        "templates": {"type": "object", "required": ["app"], "properties": {"app": {
            "type": "object", "required": ["args"], "properties": {"args": {
                "type": "object", "required": ["image"],
                "properties": {"image": {"type": "string", "minLength": 1}}}}}}},
        "proxy": {"type": "object"},
        "environment": EVALUATED_SCHEMA["properties"]["environment"],
        "security": EVALUATED_SCHEMA["properties"]["security"],
        "notifications": EVALUATED_SCHEMA["properties"]["notifications"],
        "schedule": EVALUATED_SCHEMA["properties"]["schedule"],
    },
}

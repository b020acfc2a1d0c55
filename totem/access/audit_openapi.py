"""`GET /audit`'s part of the orchestrator's OpenAPI document."""

from __future__ import annotations

from typing import Any

from totem.access.audit import MAX_QUERY
from totem.access.audit_api import DEFAULT_LIMIT, FORMATS, NAME, NDJSON
from totem.access.roles import ACTIONS
from totem.api.openapi import json_content, nullable, obj, operation, query_param

TEXT = {"type": "string", "pattern": f"^{NAME.pattern}$"}
TIME = {"type": "string", "description": "Unix seconds, ISO 8601 (UTC unless it says otherwise), or 10m / 24h / 7d ago"}
RECORD = obj(
    ["id", "time", "actor", "actor-kind", "action", "target", "outcome"],
    {
        "id": {"type": "string", "description": "the Redis stream entry id (<milliseconds>-<sequence>)"},
        "time": {"type": "number", "description": "Unix time"},
        "actor": {"type": "string", "description": "the token's name, bootstrap, or the hook's sender"},
        "actor-kind": {"enum": ["token", "bootstrap", "dev", "hook", "link", "none"]},
        "source": nullable({"type": "string", "description": "the caller's address"}),
        "action": {"type": "string"},
        "target": {"type": "object", "description": "app, owner, repo, ref, version, job, token: those known"},
        "outcome": {"enum": ["ok", "denied", "refused", "error"]},
        "status": nullable({"type": "integer"}),
        "details": {"type": "object", "description": "via (the service that acted for a hook), delivery, job..."},
    },
)
PAGE = obj(["records", "count"], {"records": {"type": "array", "items": RECORD}, "count": {"type": "integer"}})


def audit_paths() -> dict[str, Any]:
    answer = operation(
        "The audit trail (any valid token; the records of the repos it is scoped to): newest first, or as "
        "JSON lines oldest first (format=jsonl or Accept: application/x-ndjson), the export",
        {"200": ("audit records", PAGE)},
        "400",
        "503",
        write=True,
        parameters=[
            query_param("app", "records whose target is this app, owner/repo or owner/repo/ref", TEXT),
            query_param("actor", "records of this actor (token name, bootstrap, hook sender)", TEXT),
            query_param("action", "records of this action", {"enum": list(ACTIONS)}),
            query_param("since", "records from this time on", TIME),
            query_param("until", "records up to this time", TIME),
            query_param(
                "limit",
                f"how many, the newest (1-{MAX_QUERY})",
                {"type": "integer", "minimum": 1, "maximum": MAX_QUERY, "default": DEFAULT_LIMIT},
            ),
            query_param("format", "json (default) or jsonl", {"enum": list(FORMATS), "default": "json"}),
        ],
    )
    ok = answer["responses"]["200"]
    ok["content"] = {
        **json_content(PAGE)["content"],
        NDJSON: {"schema": {"type": "string", "description": "one record (as in `records`) per line, oldest first"}},
    }
    return {"/audit": {"get": answer}}

"""The approval routes' part of the orchestrator's OpenAPI document (orchestrator/api/approvals.py)."""

from __future__ import annotations

from typing import Any

from orchestrator.api.approvals import APPROVE_BODY, REJECT_BODY
from orchestrator.jobs.approval import APPROVED, EXPIRED, REJECTED, WAITING
from totem.api.openapi import error_response, nullable, obj, operation, path_param, query_param

HTML = "text/html"
_NOTE = {"type": "string"}
APPROVAL = nullable(
    obj(
        ["state", "commit", "policy", "requested", "deadline", "decision"],
        {
            "state": {"enum": [WAITING, APPROVED, REJECTED, EXPIRED]},
            "commit": {"type": "string", "description": "the commit held (a newer one asks again)"},
            "policy": obj(
                ["approvers", "timeout", "timeout-s", "self-approval", "env"],
                {
                    "approvers": {"type": "array", "items": {"type": "string"}},
                    "timeout": {"type": "string"},
                    "timeout-s": {"type": "number"},
                    "self-approval": {"type": "boolean"},
                    "env": {"type": "string"},
                },
            ),
            "requested": {"type": "number", "description": "Unix time"},
            "deadline": {"type": "number", "description": "Unix time: expired (rejected) after it"},
            "decision": nullable(
                obj(
                    ["decision", "by", "at"],
                    {
                        "decision": {"enum": ["approve", "reject", "expire"]},
                        "by": {"type": "string", "description": "token name, signed-link, or deadline"},
                        "kind": {"type": "string"},
                        "at": {"type": "number"},
                        "note": _NOTE,
                    },
                )
            ),
        },
        description="docs/approvals.md; null when the job's commit was never held for approval",
    )
)
DECIDED = obj(
    ["id", "state", "error", "approval"],
    {
        "id": {"type": "string"},
        "state": {"type": "string"},
        "error": nullable({"type": "object"}),
        "approval": APPROVAL,
    },
)


def _html(description: str) -> dict:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def approval_paths(job_id_schema: dict) -> dict[str, Any]:
    job = path_param("job_id", "job id", job_id_schema)
    decision = path_param("decision", "approve or reject", {"enum": ["approve", "reject"]})
    link_params = [
        job,
        decision,
        query_param("commit", "the commit held when the link was issued", {"type": "string"}),
        query_param("expires", "Unix time the link expires (the approval's deadline)", {"type": "string"}),
        query_param("signature", "hex HMAC-SHA256 of job, commit, decision and expires", {"type": "string"}),
    ]
    paths: dict[str, Any] = {}
    for name, verb, body in (("approve", "Approve", APPROVE_BODY), ("reject", "Reject", REJECT_BODY)):
        op = operation(
            f"{verb} a job awaiting approval: a token its policy names (a role: that role or higher; else "
            "a token name), not the push's own author unless the policy allows self-approval; the body is optional",
            {"200": (f"{name}d", DECIDED)},
            "400",
            "404",
            "409",
            "415",
            "503",
            body=body,
            write=True,
            parameters=[job],
        )
        op["requestBody"]["required"] = False
        op["responses"]["409"]["description"] = "the job is not awaiting approval (decided, expired, superseded)"
        paths[f"/jobs/{{job_id}}/{name}"] = {"post": op}
    page = {
        "summary": "The signed link of a notification, opened: a page with a button; it decides nothing",
        "parameters": link_params,
        "responses": {
            "200": _html("what the link would decide, and a form that POSTs it"),
            "403": _html("bad or expired signature"),
            "404": error_response("no such job"),
            "409": _html("the job is not awaiting approval"),
            "503": error_response("Redis is unavailable; retry"),
        },
    }
    decide = operation(
        "The signed link's button: decides (audited as actor signed-link); form field or JSON `note`",
        {"200": ("decided (an HTML page for a form post)", DECIDED)},
        "403",
        "404",
        "409",
        "503",
        parameters=link_params,
    )
    decide["responses"]["403"]["description"] = "bad or expired signature: nothing changed"
    paths["/approvals/{job_id}/{decision}"] = {"get": page, "post": decide}
    return paths

"""`GET /openapi.json`: the orchestrator's HTTP API, with the hook, job, event, config and deploy-request
schemas. Every status a route sends is listed; the parameter schemas carry the checks the routes make."""

from __future__ import annotations

from typing import Any

from orchestrator.api.approvals_openapi import APPROVAL, approval_paths
from orchestrator.api.routes import JOB_ID, MAX_EVENTS, MAX_LIMIT, MAX_OFFSET
from orchestrator.config.schema import EVALUATED_SCHEMA
from orchestrator.hooks.github import MAX_NAME
from orchestrator.states import ALL, Event
from totem.access.audit_openapi import audit_paths
from totem.access.openapi import token_paths
from totem.api import openapi
from totem.api.openapi import (
    ERROR_TEXTS,
    error_response,
    github_hook_body,
    nullable,
    obj,
    operation,
    path_param,
    query_param,
    ref,
    request_body,
    retry_after,
    service_paths,
)
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from totem.contracts.hook import GENERIC_HOOK_SCHEMA, HookStatus
from totem.git_names import FIELDS
from totem.git_names import schema as git_schema
from totem.github import FORM, JSON

JOB_ID_PATTERN = f"^{JOB_ID.pattern}$"

OWNER, REPO, REF, COMMIT = (git_schema(field) for field in FIELDS)  # what totem.git_names checks
JOB_ID_SCHEMA = {"type": "string", "pattern": JOB_ID_PATTERN}
STATE = {"enum": list(ALL)}


def _git_filters(what: str) -> list[dict]:
    """owner=, repo=, ref=: present means a valid name (empty is a 400)."""
    return [
        query_param("owner", f"{what} of this owner (repository owner or organisation)", OWNER),
        query_param("repo", f"{what} of this repository", REPO),
        query_param("ref", f"{what} of this branch or tag (slashes kept: feature/login)", REF),
    ]


def limit(description: str, high: int, default: int) -> dict:
    return query_param("limit", description, {"type": "integer", "minimum": 1, "maximum": high, "default": default})


GIT = obj(
    ["owner", "repo", "ref", "commit"],
    {"owner": {"type": "string"}, "repo": {"type": "string"}, "ref": {"type": "string"}, "commit": nullable(COMMIT)},
)
JOB_SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": JOB_ID_SCHEMA,
    "owner": {"type": "string"},
    "repo": {"type": "string"},
    "ref": {"type": "string"},
    "commit": COMMIT,
    "state": STATE,
    "created": {"type": "number", "description": "Unix time"},
    "updated": {"type": "number", "description": "Unix time"},
    "reason": nullable({"type": "string"}),  # why a job is NOOP
    "error": nullable(
        obj(["message"], {"code": {"type": "string"}, "message": {"type": "string"}}, description="why it FAILED")
    ),
    "url": {"type": "string", "description": "/jobs/<id>"},
}
SCHEMAS: dict[str, Any] = {
    "GenericHook": GENERIC_HOOK_SCHEMA,
    "EvaluatedConfig": EVALUATED_SCHEMA,
    "DeployRequest": {k: v for k, v in DEPLOY_REQUEST_SCHEMA.items() if k != "$id"},
    "Index": obj(
        ["service", "openapi", "jobs", "events"],
        {"service": {"const": "orchestrator"}, **{k: {"type": "string"} for k in ("openapi", "jobs", "events")}},
    ),
    "Event": obj(
        ["date", "type", "component", "meta-info", "details"],
        {
            "date": {"type": "string", "format": "date-time"},
            "type": {"enum": list(Event)},
            "component": {"type": "string"},
            "meta-info": obj(["git"], {"git": GIT, "job-id": JOB_ID_SCHEMA}),
            "details": {"type": "object"},
        },
    ),
    "Events": obj(
        ["events", "count"],
        {"events": {"type": "array", "items": ref("Event")}, "count": {"type": "integer", "minimum": 0}},
    ),
    "JobSummary": obj(list(JOB_SUMMARY_PROPERTIES), JOB_SUMMARY_PROPERTIES),
    "JobPage": obj(
        ["jobs", "total", "limit", "offset"],
        {
            "jobs": {"type": "array", "items": ref("JobSummary")},
            "total": {"type": "integer", "minimum": 0, "description": "jobs matching the filters"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0},
        },
    ),
    "HookRecord": obj(
        ["type", "name", "status", "result", "force-deploy", "source", "received"],
        {
            "type": {"enum": ["builder", "ci", "scm-push", "scm-create"]},
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
            "status": {"enum": list(HookStatus)},
            "result": {"type": "object"},
            "force-deploy": {"type": "boolean"},
            "source": {
                "enum": ["generic", "github", "travis", "recovered"],
                "description": "recovered: read from the image factory's build by the missing-hook check",
            },
            "received": {"type": "number", "description": "Unix time"},
        },
    ),
    "DeployResult": obj(
        ["ok", "status", "response", "attempts"],
        {
            "ok": {"type": "boolean"},
            "status": nullable({"type": "integer"}),
            "response": {"description": "the deployer's answer"},
            "attempts": {"type": "integer", "minimum": 0},
        },
    ),
    "Job": obj(
        [
            *JOB_SUMMARY_PROPERTIES,
            *("commits", "hooks", "required-hooks", "force-deploy", "config", "deploy", "approval", "events"),
        ],
        {
            **JOB_SUMMARY_PROPERTIES,
            "commits": {"type": "array", "items": COMMIT, "description": "every commit the job has seen"},
            "hooks": {"type": "object", "additionalProperties": ref("HookRecord"), "description": "by <type>:<name>"},
            "required-hooks": nullable({"type": "array", "items": {"type": "string"}}),
            "force-deploy": {"type": "boolean"},
            "config": nullable(
                {"type": "object", "description": "the EvaluatedConfig, encrypted values and secret keys as ***"}
            ),
            "deploy": nullable(
                obj(
                    ["task", "deployers"],
                    {
                        "task": {"type": "string"},
                        "deployers": {"type": "object", "additionalProperties": ref("DeployResult")},
                    },
                )
            ),
            "approval": APPROVAL,
            "events": {"type": "array", "items": ref("Event"), "description": "oldest first"},
        },
    ),
    "HookAnswer": obj(
        ["status", "hook"],
        {
            "status": {"enum": ["accepted", "ignored"]},
            "hook": {"type": "string", "description": "<type>:<name>"},
            "reason": {"type": "string", "description": "why it was ignored (superseded commit)"},
            "job": obj(["id", "url"], {"id": JOB_ID_SCHEMA, "url": {"type": "string"}}),
        },
    ),
    "HookAnswers": obj(
        ["status", "hooks"],
        {"status": {"enum": ["accepted", "ignored"]}, "hooks": {"type": "array", "items": ref("HookAnswer")}},
        description="one GitHub delivery that made several hooks (a status event on several branches)",
    ),
    "BranchAction": obj(
        ["status", "action", "app"],
        {
            "status": {"const": "accepted"},
            "action": {"enum": ["unfreeze", "undeploy"]},
            "app": {"type": "string", "description": "owner/repo/ref"},
        },
    ),
    "Ignored": obj(["status", "reason"], {"status": {"const": "ignored"}, "reason": {"type": "string"}}),
    "Pong": obj(["status", "zen"], {"status": {"const": "pong"}, "zen": {"type": "string"}}),
    "Duplicate": obj(
        ["status", "delivery"],
        {"status": {"const": "duplicate"}, "delivery": {"type": "string", "description": "X-GitHub-Delivery"}},
    ),
}


def _hook(summary: str, body: dict, accepted: dict, ok: tuple[str, dict], *errors: str) -> dict:
    """A hook route: 202 when the hook is stored, 200 when it is not needed, `body` its request body."""
    op = operation(summary, {"202": ("stored; the job is processed in the background", accepted), "200": ok}, *errors)
    op["responses"]["202"]["headers"] = {
        "Location": {"description": "/jobs/<id> of the job a hook landed on", "schema": {"type": "string"}}
    }
    op["responses"]["413"]["description"] = f"{ERROR_TEXTS['413']} ({_max_body() // 2**20} MB)"
    op["responses"]["503"]["description"] = "the hook could not be stored (Redis or the queue is down); retry"
    op["requestBody"] = body
    return {"post": retry_after(op, "503")}


def _max_body() -> int:
    from orchestrator.app import MAX_BODY  # the app imports this module

    return MAX_BODY


def hook_paths() -> dict[str, Any]:
    hook_answers = {"anyOf": [ref("HookAnswer"), ref("HookAnswers")]}
    return {
        "/hooks/generic": _hook(
            "Generic hook (docs/architecture.md §3.1), signed X-Hook-Signature: sha256=<hex HMAC of the body>",
            request_body({JSON: ref("GenericHook")}),
            ref("HookAnswer"),
            ("not stored: the hook is for a superseded commit", ref("HookAnswer")),
            "400",
            "401",
            "413",
            "503",
        ),
        "/hooks/github": _hook(
            "GitHub webhook, signed X-Hub-Signature-256 over the body as sent, as JSON or form-encoded "
            "(`payload=<JSON>`): push → scm-push hook; create (branch) → unfreeze; delete (branch) → undeploy "
            "and freeze; workflow_run, check_suite, status → ci hook (a workflow run is named after "
            "workflow_run.name, else workflow.name, else its file name); ping → pong; a repeated "
            "X-GitHub-Delivery → duplicate; other events, tags and pull-request runs → ignored",
            github_hook_body(),
            {"anyOf": [ref("HookAnswer"), ref("HookAnswers"), ref("BranchAction")]},
            (
                "pong, duplicate delivery, ignored event, or hooks that were not needed",
                {"anyOf": [ref("Pong"), ref("Duplicate"), ref("Ignored"), ref("HookAnswer"), ref("HookAnswers")]},
            ),
            "400",
            "401",
            "413",
            "415",
            "503",
        ),
        "/hooks/travis": _hook(
            "Travis CI notification: form field `payload`, `Signature` header = base64 RSA-SHA1 of it "
            "(TOTEM_TRAVIS_PUBLIC_KEY; without one the answer is 503)",
            request_body({FORM: obj(["payload"], {"payload": {"type": "string"}})}),
            ref("HookAnswer"),
            ("pull request (never deploys) or superseded commit", {"anyOf": [ref("Ignored"), hook_answers]}),
            "400",
            "401",
            "413",
            "503",
        ),
    }


def document() -> dict:
    storage = error_response("Redis is unavailable; retry")
    paths: dict[str, Any] = {
        "/": {"get": operation("Where the API is", {"200": ("links", ref("Index"))})},
        **hook_paths(),
        "/jobs": {
            "get": operation(
                "Jobs, newest first, paged; a filter given must be valid (an empty or unknown value is a 400)",
                {"200": ("a page of jobs", ref("JobPage"))},
                "400",
                "503",
                parameters=[
                    *_git_filters("jobs"),
                    query_param("state", "jobs in this state", STATE),
                    limit(f"page size (1-{MAX_LIMIT})", MAX_LIMIT, 50),
                    query_param(
                        "offset", "jobs to skip", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
                    ),
                ],
            )
        },
        "/jobs/{job_id}": {
            "get": operation(
                "A job: commit, commits seen, hooks, evaluated config (secrets masked), deploy results, events",
                {"200": ("the job", ref("Job"))},
                "404",
                "503",
                parameters=[path_param("job_id", "job id (jobs expire after TOTEM_JOB_TTL)", JOB_ID_SCHEMA)],
            )
        },
        "/events": {
            "get": operation(
                "Events, oldest first: of a job (`job`), of an app (`owner`, `repo` and `ref` together), "
                "or the latest of all; `job` wins over an app",
                {"200": ("events", ref("Events"))},
                "400",
                "503",
                parameters=[
                    query_param("job", "events of this job", JOB_ID_SCHEMA),
                    *_git_filters("events"),
                    limit(f"how many, the latest (1-{MAX_EVENTS})", MAX_EVENTS, 100),
                ],
            )
        },
        "/apps/{owner}/{repo}/{ref}": {
            "delete": operation(
                "Undeploy a branch from every deployer (queued)",
                {"202": ("undeploy queued", ref("BranchAction"))},
                "400",
                "401",
                "404",
                "503",
                write=True,
                parameters=[
                    path_param("owner", "owner", OWNER),
                    path_param("repo", "repository", REPO),
                    path_param("ref", "branch, slashes kept as they are (/apps/acme/shop/feature/login)", REF),
                ],
            )
        },
        **approval_paths(JOB_ID_SCHEMA),
        **token_paths(),
        **audit_paths(),
        **service_paths("etcd and Redis"),
    }
    # a path no route takes (an empty segment, a line break in the ref) is the app's 404, before any check
    paths["/apps/{owner}/{repo}/{ref}"]["delete"]["responses"]["404"]["description"] = (
        "no such route: an empty segment or a line break in the ref"
    )
    paths["/apps/{owner}/{repo}/{ref}"]["delete"]["responses"]["503"] = error_response(
        "Redis (the token store, the jobs) or the queue is unavailable; retry"
    )
    for route in ("/jobs", "/jobs/{job_id}", "/events"):
        paths[route]["get"]["responses"]["503"] = storage
    return openapi.document(
        "Totem orchestrator",
        description="Hooks → jobs → evaluated totem.yml → deploy requests to every deployer.",
        paths=paths,
        schemas=SCHEMAS,
    )


blueprint = openapi.openapi_blueprint(document)

"""`GET /openapi.json`: the orchestrator's HTTP API, with the hook, config and deploy-request schemas."""

from __future__ import annotations

from orchestrator.config.schema import EVALUATED_SCHEMA
from orchestrator.states import ALL
from totem.api import openapi
from totem.api.openapi import BEARER, error_response, json_content, path_params, query_param
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from totem.contracts.hook import GENERIC_HOOK_SCHEMA


def _responses(ok: str, ok_code: str = "200", *errors: str) -> dict:
    responses = {ok_code: {"description": ok, **json_content({"type": "object"})}}
    texts = {
        "400": "malformed request",
        "401": "bad signature or token",
        "404": "not found",
        "503": "storage unavailable or not configured; retry",
    }
    for code in errors:
        responses[code] = error_response(texts[code])
    return responses


def _hook(summary: str, body: dict) -> dict:
    responses = _responses("accepted (with a link to the job) or ignored", "202", "400", "401", "503")
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": body}, "responses": responses}}


def document() -> dict:
    return openapi.document(
        "Totem orchestrator",
        description="Hooks → jobs → evaluated totem.yml → deploy requests to every deployer.",
        paths={
            "/hooks/generic": _hook(
                "Generic hook, signed X-Hook-Signature: sha256=<hex HMAC of the body>",
                {"application/json": {"schema": {"$ref": "#/components/schemas/GenericHook"}}},
            ),
            "/hooks/github": _hook(
                "GitHub webhook (push, create, delete, ping, workflow_run, check_suite, status), "
                "signed X-Hub-Signature-256",
                {"application/json": {"schema": {"type": "object"}}},
            ),
            "/hooks/travis": _hook(
                "Travis CI notification: form field `payload`, RSA-SHA1 `Signature` header",
                {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["payload"],
                            "properties": {"payload": {"type": "string"}},
                        }
                    }
                },
            ),
            "/jobs": {
                "get": {
                    "summary": "Jobs, newest first",
                    "parameters": [
                        query_param("owner", "owner"),
                        query_param("repo", "repository"),
                        query_param("ref", "branch or tag"),
                        query_param("state", "job state", {"enum": list(ALL)}),
                        query_param("limit", "page size (1-200)", {"type": "integer"}),
                        query_param("offset", "skip", {"type": "integer"}),
                    ],
                    "responses": _responses("a page of jobs", "200", "400"),
                }
            },
            "/jobs/{id}": {
                "get": {
                    "summary": "A job: commit, hooks, evaluated config (secrets masked), events",
                    "parameters": path_params("id"),
                    "responses": _responses("the job", "200", "404"),
                }
            },
            "/events": {
                "get": {
                    "summary": "Events (oldest first) for a job, an app, or all",
                    "parameters": [
                        query_param("job", "job id"),
                        query_param("owner", "owner"),
                        query_param("repo", "repository"),
                        query_param("ref", "ref"),
                        query_param("limit", "how many (1-1000)", {"type": "integer"}),
                    ],
                    "responses": _responses("events", "200", "400"),
                }
            },
            "/apps/{owner}/{repo}/{ref}": {
                "delete": {
                    "summary": "Undeploy a branch from every deployer",
                    "security": BEARER,
                    "parameters": path_params("owner", "repo", "ref"),
                    "responses": _responses("undeploy queued", "202", "400", "401", "503"),
                }
            },
            "/health": {
                "get": {"summary": "etcd and Redis reachability", "responses": _responses("healthy", "200", "503")}
            },
            "/openapi.json": {"get": {"summary": "This document", "responses": _responses("OpenAPI 3.1")}},
        },
        schemas={
            "GenericHook": GENERIC_HOOK_SCHEMA,
            "EvaluatedConfig": EVALUATED_SCHEMA,
            "DeployRequest": {k: v for k, v in DEPLOY_REQUEST_SCHEMA.items() if k != "$id"},
        },
    )


blueprint = openapi.openapi_blueprint(document)

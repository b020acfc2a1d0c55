"""`GET /openapi.json`: the orchestrator's HTTP API, with the hook, config and deploy-request schemas."""
from __future__ import annotations

from flask import Blueprint, jsonify

from orchestrator.config.schema import EVALUATED_SCHEMA
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from orchestrator.states import State
from totem import __version__
from totem.contracts.hook import GENERIC_HOOK_SCHEMA

blueprint = Blueprint("openapi", __name__)
ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: str, ok_code: str = "200", *errors: str) -> dict:
    responses = {ok_code: {"description": ok, **_json({"type": "object"})}}
    texts = {"400": "malformed request", "401": "bad signature or token", "404": "not found",
             "503": "storage unavailable or not configured; retry"}
    for code in errors:
        responses[code] = {"description": texts[code], **_json(ERROR)}
    return responses


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _hook(summary: str, body: dict) -> dict:
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": body},
                     "responses": _responses("accepted (with a link to the job) or ignored", "202", "400", "401", "503")}}


def document() -> dict:
    git_path = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in ("owner", "repo", "ref")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Totem orchestrator", "version": __version__,
                 "description": "Hooks → jobs → evaluated totem.yml → deploy requests to every deployer."},
        "paths": {
            "/hooks/generic": _hook("Generic hook, signed X-Hook-Signature: sha256=<hex HMAC of the body>",
                                    {"application/json": {"schema": {"$ref": "#/components/schemas/GenericHook"}}}),
            "/hooks/github": _hook("GitHub webhook (push, create, delete, ping, workflow_run, check_suite, status), "
                                   "signed X-Hub-Signature-256", {"application/json": {"schema": {"type": "object"}}}),
            "/hooks/travis": _hook("Travis CI notification: form field `payload`, RSA-SHA1 `Signature` header",
                                   {"application/x-www-form-urlencoded": {"schema": {
                                       "type": "object", "required": ["payload"],
                                       "properties": {"payload": {"type": "string"}}}}}),
            "/jobs": {"get": {"summary": "Jobs, newest first", "parameters": [
                _query("owner", "owner"), _query("repo", "repository"), _query("ref", "branch or tag"),
                _query("state", "job state", {"enum": list(State.ALL)}),
                _query("limit", "page size (1-200)", {"type": "integer"}), _query("offset", "skip", {"type": "integer"})],
                "responses": _responses("a page of jobs", "200", "400")}},
            "/jobs/{id}": {"get": {"summary": "A job: commit, hooks, evaluated config (secrets masked), events",
                                   "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                                   "responses": _responses("the job", "200", "404")}},
            "/events": {"get": {"summary": "Events (oldest first) for a job, an app, or all", "parameters": [
                _query("job", "job id"), _query("owner", "owner"), _query("repo", "repository"), _query("ref", "ref"),
                _query("limit", "how many (1-1000)", {"type": "integer"})],
                "responses": _responses("events", "200", "400")}},
            "/apps/{owner}/{repo}/{ref}": {"delete": {
                "summary": "Undeploy a branch from every deployer", "security": [{"bearer": []}],
                "parameters": git_path, "responses": _responses("undeploy queued", "202", "400", "401", "503")}},
            "/health": {"get": {"summary": "etcd and Redis reachability", "responses": _responses("healthy", "200", "503")}},
            "/openapi.json": {"get": {"summary": "This document", "responses": _responses("OpenAPI 3.1")}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "details"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}},
                "GenericHook": GENERIC_HOOK_SCHEMA,
                "EvaluatedConfig": EVALUATED_SCHEMA,
                "DeployRequest": {k: v for k, v in DEPLOY_REQUEST_SCHEMA.items() if k != "$id"},
            },
        },
    }


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(document())

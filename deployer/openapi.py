"""`GET /openapi.json`: the deployer's HTTP API, with the deploy-request schema."""

from __future__ import annotations

from deployer.proxy_spec import PROXY_SCHEMA
from deployer.states import Event, State
from totem.api import openapi
from totem.api.openapi import BEARER, error_response, json_content, path_params
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA

TEXTS = {
    "400": "malformed request",
    "401": "missing or wrong bearer token",
    "404": "not found",
    "409": "conflicts with the app's current state",
    "415": "not JSON",
}


def _op(summary: str, ok: str, *errors: str, body: dict | None = None, write: bool = False) -> dict:
    responses = {ok: {"description": "ok", **json_content({"type": "object"})}}
    for code in errors:
        responses[code] = error_response(TEXTS[code])
    op: dict = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **json_content(body)}
    if write:
        op["security"] = BEARER
    return op


def document() -> dict:
    request = {"$ref": "#/components/schemas/DeployRequest"}
    return openapi.document(
        "Totem deployer",
        paths={
            "/apps": {
                "get": _op("apps with their live deployment", "200"),
                "post": {
                    **_op(
                        "request a deployment (202, Location: /deployments/<id>); an Idempotency-Key "
                        "header makes retries return the first deployment",
                        "202",
                        "400",
                        "401",
                        "415",
                        body=request,
                        write=True,
                    ),
                    "parameters": [
                        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
                    ],
                },
            },
            "/apps/{name}": {
                "parameters": path_params("name"),
                "get": _op("an app's deployments, newest first", "200", "404"),
                "delete": _op("undeploy the app: routes, then instances", "202", "401", "404", write=True),
            },
            "/apps/{name}/versions": {
                "parameters": path_params("name"),
                "get": _op("deployments by version", "200", "404"),
            },
            "/apps/{name}/versions/{version}": {
                "parameters": path_params("name", "version"),
                "get": _op("one version's deployments", "200", "404"),
                "delete": _op("remove a version no route points at", "202", "401", "404", "409", write=True),
            },
            "/apps/{name}/rollback": {
                "parameters": path_params("name"),
                "post": _op(
                    "redeploy the previous promoted version (or body.version)",
                    "202",
                    "400",
                    "401",
                    "404",
                    "409",
                    body={"type": "object", "properties": {"version": {"type": "string"}}},
                    write=True,
                ),
            },
            "/deployments/{id}": {
                "parameters": path_params("id"),
                "get": _op("a deployment with its timeline (encrypted values shown as ***)", "200", "404"),
            },
            "/schemas/{name}": {"parameters": path_params("name"), "get": _op("a JSON Schema", "200", "404")},
            "/health": {"get": _op("dependency health (503 when one is down)", "200")},
        },
        schemas={
            "DeployRequest": DEPLOY_REQUEST_SCHEMA,
            "Proxy": PROXY_SCHEMA,
            "State": {"enum": [s.value for s in State]},
            "Event": {"enum": [e.value for e in Event]},
        },
    )


blueprint = openapi.openapi_blueprint(document)

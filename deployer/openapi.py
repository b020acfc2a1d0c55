"""`GET /openapi.json`: the deployer's HTTP API, with the deploy-request schema."""
from __future__ import annotations

from flask import Blueprint, jsonify

from deployer.proxy_spec import PROXY_SCHEMA
from deployer.states import Event, State
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from totem import __version__

blueprint = Blueprint("openapi", __name__)
ERROR = {"$ref": "#/components/schemas/Error"}
TEXTS = {"400": "malformed request", "401": "missing or wrong bearer token", "404": "not found",
         "409": "conflicts with the app's current state", "415": "not JSON"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: str, *errors: str, body: dict | None = None, write: bool = False) -> dict:
    responses = {ok: {"description": "ok", **_json({"type": "object"})}}
    for code in errors:
        responses[code] = {"description": TEXTS[code], **_json(ERROR)}
    op: dict = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if write:
        op["security"] = [{"bearer": []}]
    return op


def _params(*names: str) -> list[dict]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def document() -> dict:
    request = {"$ref": "#/components/schemas/DeployRequest"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Totem deployer", "version": __version__},
        "paths": {
            "/apps": {
                "get": _op("apps with their live deployment", "200"),
                "post": {**_op("request a deployment (202, Location: /deployments/<id>); an Idempotency-Key "
                               "header makes retries return the first deployment", "202", "400", "401", "415",
                               body=request, write=True),
                         "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                         "schema": {"type": "string"}}]},
            },
            "/apps/{name}": {"parameters": _params("name"),
                             "get": _op("an app's deployments, newest first", "200", "404"),
                             "delete": _op("undeploy the app: routes, then instances", "202", "401", "404",
                                           write=True)},
            "/apps/{name}/versions": {"parameters": _params("name"), "get": _op("deployments by version", "200", "404")},
            "/apps/{name}/versions/{version}": {
                "parameters": _params("name", "version"),
                "get": _op("one version's deployments", "200", "404"),
                "delete": _op("remove a version no route points at", "202", "401", "404", "409", write=True)},
            "/apps/{name}/rollback": {"parameters": _params("name"), "post": _op(
                "redeploy the previous promoted version (or body.version)", "202", "400", "401", "404", "409",
                body={"type": "object", "properties": {"version": {"type": "string"}}}, write=True)},
            "/deployments/{id}": {"parameters": _params("id"), "get": _op(
                "a deployment with its timeline (encrypted values shown as ***)", "200", "404")},
            "/schemas/{name}": {"parameters": _params("name"), "get": _op("a JSON Schema", "200", "404")},
            "/health": {"get": _op("dependency health (503 when one is down)", "200")},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "DeployRequest": DEPLOY_REQUEST_SCHEMA, "Proxy": PROXY_SCHEMA,
                "State": {"enum": [s.value for s in State]}, "Event": {"enum": [e.value for e in Event]},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "details"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}},
            },
        },
    }


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(document())

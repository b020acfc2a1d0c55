"""What every service's `GET /openapi.json` is made of: the document's frame (version, the error
envelope, bearer auth), small builders for operations, and the blueprint that serves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify

from totem import __version__
from totem.github import FORM, JSON

OPENAPI_VERSION = "3.1.0"
ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]  # an operation's `security` when it needs TOTEM_API_TOKEN
# what every service means by an error status; an operation lists the ones it can send
ERROR_TEXTS = {
    "400": "malformed request (the envelope's message names the field)",
    "401": "missing or wrong signature or bearer token",
    "403": "the token's role, repo scope or environment does not allow this",
    "404": "not found",
    "409": "conflicts with the current state",
    "413": "body larger than the service accepts",
    "414": "request line (path and query) longer than 8190 bytes, refused by gunicorn",
    "415": "unsupported content type",
    "429": "too many concurrent requests of this kind; retry after Retry-After seconds",
    "503": "a dependency (etcd, Redis, Docker) is unavailable; retry",
}
HEALTH_SCHEMA = {
    "type": "object",
    "required": ["service", "status", "checks"],
    "properties": {
        "service": {"type": "string"},
        "status": {"enum": ["ok", "degraded"]},
        "checks": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["ok", "latency_ms"],
                "properties": {
                    "ok": {"type": "boolean"},
                    "latency_ms": {"type": "number"},
                    "error": {"type": "string"},
                },
            },
        },
    },
}


_GLOB_LIST = {"type": "array", "items": {"type": "string"}}
PRINCIPAL = {
    "type": "object",
    "required": ["name", "role", "scopes", "envs"],
    "properties": {
        "name": {"type": "string"},
        "role": {"enum": ["viewer", "deployer", "admin"]},
        "scopes": {**_GLOB_LIST, "description": "owner/repo globs"},
        "envs": {**_GLOB_LIST, "description": "environment globs"},
    },
}


def ref(name: str) -> dict:
    """A schema of the document's components."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: list[str], properties: dict[str, Any], **more: Any) -> dict:
    """An object schema."""
    return {"type": "object", "required": required, "properties": properties, **more}


def json_content(schema: dict) -> dict:
    return {"content": {JSON: {"schema": schema}}}


def request_body(content: dict[str, dict]) -> dict:
    """A required request body: {media type: schema}."""
    return {"required": True, "content": {media: {"schema": schema} for media, schema in content.items()}}


def github_hook_body() -> dict:
    """The request body of `POST /hooks/github` (the orchestrator's and the image factory's): a GitHub
    delivery as the webhook is set to send it, JSON or form-encoded (`payload=<JSON>`)."""
    form = obj(["payload"], {"payload": {"type": "string", "description": "the JSON payload, url-encoded"}})
    return request_body(
        {JSON: {"type": "object", "description": "the event's payload, as GitHub documents it"}, FORM: form}
    )


def error_response(description: str) -> dict:
    return {"description": description, **json_content(ERROR)}


def operation(
    summary: str,
    ok: dict[str, str | tuple[str, dict]],
    *errors: str,
    body: dict | None = None,
    write: bool = False,
    parameters: list[dict] | None = None,
) -> dict:
    """One operation: `ok` maps each success status to its description (or (description, schema);
    an object by default), `errors` are ERROR_TEXTS keys, `body` is the JSON request body schema,
    `write` means it needs the bearer token."""
    responses: dict[str, dict] = {}
    for code, answer in ok.items():
        description, schema = answer if isinstance(answer, tuple) else (answer, {"type": "object"})
        responses[code] = {"description": description, **json_content(schema)}
    for code in (*errors, "414"):  # gunicorn refuses a long request line before any route is reached
        responses[code] = error_response(ERROR_TEXTS[code])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = request_body({JSON: body})
    if write:  # every write checks the token: a 401 without one, a 403 for one that may not
        op["security"] = BEARER
        for code in ("401", "403"):
            responses.setdefault(code, error_response(ERROR_TEXTS[code]))
    return op


def retry_after(op: dict, *codes: str) -> dict:
    """Document the Retry-After header (seconds) on these error answers of `op`; returns `op`."""
    for code in codes:
        op["responses"][code]["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
    return op


def metrics_operation() -> dict:
    """`GET /metrics`: Prometheus' text format (docs/metrics.md), without a token."""
    op = operation("Prometheus metrics", {"200": "the text exposition format"})
    op["responses"]["200"] = {
        "description": "Prometheus text exposition format 0.0.4",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    return op


def service_paths(dependencies: str) -> dict[str, Any]:
    """`/health`, `/metrics` and `/openapi.json`, which every service serves."""
    health = {"description": f"{dependencies}: every check passed", **json_content(HEALTH_SCHEMA)}
    degraded = {"description": "a check failed (named in `checks`)", **json_content(HEALTH_SCHEMA)}
    return {
        "/health": {"get": {"summary": f"{dependencies} reachability", "responses": {"200": health, "503": degraded}}},
        "/openapi.json": {"get": operation("This document", {"200": "OpenAPI 3.1"})},
        "/metrics": {"get": metrics_operation()},
        "/whoami": {
            "get": {
                **operation(
                    "The bearer token's name, role, repo scopes and environments",
                    {"200": ("it", PRINCIPAL)},
                    "401",
                    "503",
                ),
                "security": BEARER,
            }
        },
    }


def path_param(name: str, description: str, schema: dict) -> dict:
    """A path parameter with the constraints its route checks."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def query_param(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def document(
    title: str, paths: dict[str, Any], schemas: dict[str, Any] | None = None, description: str | None = None
) -> dict:
    """An OpenAPI 3.1 document with the shared `Error` schema and `bearer` security scheme."""
    info: dict[str, Any] = {"title": title, "version": __version__}
    if description:
        info["description"] = description
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA, **(schemas or {})},
        },
    }


def openapi_blueprint(build: Callable[[], dict]) -> Blueprint:
    """Serves `build()` at `GET /openapi.json`."""
    blueprint = Blueprint("openapi", __name__)

    @blueprint.get("/openapi.json")
    def openapi():
        return jsonify(build())

    return blueprint

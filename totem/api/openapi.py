"""What every service's `GET /openapi.json` is made of: the document's frame (version, the error
envelope, bearer auth), small builders for operations, and the blueprint that serves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify

from totem import __version__

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


def json_content(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def error_response(description: str) -> dict:
    return {"description": description, **json_content(ERROR)}


def path_params(*names: str) -> list[dict]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


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

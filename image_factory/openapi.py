"""`GET /openapi.json`: the image factory's HTTP API, with the build request schema."""

from __future__ import annotations

from image_factory.api_builds import BUILD_REQUEST_SCHEMA, MAX_LIMIT
from image_factory.states import STATUSES
from totem.api import openapi
from totem.api.openapi import BEARER, error_response, json_content, path_params, query_param

TEXTS = {
    "400": "malformed request or filter",
    "401": "bad signature or token",
    "404": "no such build",
    "415": "not JSON",
    "503": "write endpoints disabled: TOTEM_API_TOKEN is not set",
}
BUILD = {"description": "the build", **json_content({"$ref": "#/components/schemas/Build"})}


def _errors(*codes: str) -> dict:
    return {code: error_response(TEXTS[code]) for code in codes}


def document() -> dict:
    build_id = path_params("build_id")
    return openapi.document(
        "Totem image factory",
        description="Signed GitHub pushes → docker build → registry → builder hook to the orchestrator.",
        paths={
            "/hooks/github": {
                "post": {
                    "summary": "GitHub webhook, signed X-Hub-Signature-256: push starts a build; ping answers pong; "
                    "deleted refs and other events are acknowledged (204); a repeated X-GitHub-Delivery is "
                    "answered `duplicate`",
                    "requestBody": {"required": True, **json_content({"type": "object"})},
                    "responses": {
                        "202": {"description": "build queued", **json_content({"type": "object"})},
                        "200": {
                            "description": "pong, duplicate, or an existing build reused",
                            **json_content({"type": "object"}),
                        },
                        "204": {"description": "acknowledged, nothing to build"},
                        **_errors("400", "401"),
                    },
                }
            },
            "/builds": {
                "post": {
                    "summary": "Build a commit",
                    "security": BEARER,
                    "requestBody": {"required": True, **json_content({"$ref": "#/components/schemas/BuildRequest"})},
                    "responses": {
                        "202": {"description": "build queued", **json_content({"type": "object"})},
                        "200": {"description": "an existing build reused", **json_content({"type": "object"})},
                        **_errors("400", "401", "415", "503"),
                    },
                },
                "get": {
                    "summary": "Builds, newest first, paged (`next_offset`)",
                    "parameters": [
                        query_param("owner", "owner"),
                        query_param("repo", "repository"),
                        query_param("ref", "branch or tag"),
                        query_param("commit", "commit"),
                        query_param("status", "build status", {"enum": list(STATUSES)}),
                        query_param("limit", f"page size (1-{MAX_LIMIT})", {"type": "integer"}),
                        query_param("offset", "skip", {"type": "integer"}),
                    ],
                    "responses": {
                        "200": {"description": "a page of builds", **json_content({"type": "object"})},
                        **_errors("400"),
                    },
                },
            },
            "/builds/{build_id}": {
                "parameters": build_id,
                "get": {
                    "summary": "A build: status, steps with durations and errors, images",
                    "responses": {"200": BUILD, **_errors("404")},
                },
            },
            "/builds/{build_id}/log": {
                "parameters": build_id,
                "get": {
                    "summary": "The whole log as text; `?follow=1` streams new lines as server-sent events "
                    "(`line`, then `end` with the final status; resume with Last-Event-ID)",
                    "parameters": [query_param("follow", "1 to stream")],
                    "responses": {
                        "200": {
                            "description": "the log",
                            "content": {
                                "text/plain": {"schema": {"type": "string"}},
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors("404"),
                    },
                },
            },
            "/health": {
                "get": {
                    "summary": "Redis and Docker reachability",
                    "responses": {
                        "200": {"description": "healthy", **json_content({"type": "object"})},
                        "503": {"description": "a dependency is down", **json_content({"type": "object"})},
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", **json_content({"type": "object"})}},
                }
            },
        },
        schemas={
            "BuildRequest": BUILD_REQUEST_SCHEMA,
            "Build": {
                "type": "object",
                "required": ["id", "status"],
                "properties": {
                    "id": {"type": "string"},
                    "status": {"enum": list(STATUSES)},
                    **{name: {"type": "string"} for name in ("owner", "repo", "ref", "commit")},
                    "steps": {"type": "array", "items": {"type": "object"}},
                    "image": {"type": ["string", "null"]},
                    "images": {"type": "array", "items": {"type": "string"}},
                    "error": {"type": ["string", "null"]},
                },
            },
        },
    )


blueprint = openapi.openapi_blueprint(document)

"""The token API's part of the orchestrator's OpenAPI document."""

from __future__ import annotations

from typing import Any

from totem.access.routes import TOKEN_SCHEMA
from totem.api.openapi import obj, operation, path_param

_GLOBS = {"type": "array", "items": {"type": "string"}}
_NUMBER_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "null"}]}
TOKEN = obj(
    ["name"],
    {
        "name": {"type": "string"},
        "role": {"enum": ["viewer", "deployer", "admin"]},
        "scopes": _GLOBS,
        "envs": _GLOBS,
        "created": {"type": "number"},
        "expires": _NUMBER_OR_NULL,
        "created-by": {"type": "string"},
        "expired": {"type": "boolean", "description": "past its ttl (listed until revoked or replaced)"},
    },
)
CREATED = {
    **TOKEN,
    "required": ["token", "name", "role"],
    "properties": {
        "token": {"type": "string", "description": "shown in this answer only; stored as its SHA-256"},
        **TOKEN["properties"],
    },
}


def token_paths() -> dict[str, Any]:
    name = path_param("token_name", "the token's name", {"type": "string"})
    return {
        "/tokens": {
            "post": operation(
                "Issue a token (admin); its value is in this answer only",
                {"201": ("the token", CREATED)},
                "400",
                "409",
                "415",
                "503",
                body=TOKEN_SCHEMA,
                write=True,
            ),
            "get": operation(
                "Every token (admin), never a value",
                {"200": ("tokens", obj(["tokens"], {"tokens": {"type": "array", "items": TOKEN}}))},
                "503",
                write=True,
            ),
        },
        "/tokens/{token_name}": {
            "delete": operation(
                "Revoke a token (admin): refused at once by every service",
                {
                    "200": (
                        "revoked",
                        obj(["name", "revoked"], {"name": {"type": "string"}, "revoked": {"const": True}}),
                    )
                },
                "404",
                "503",
                write=True,
                parameters=[name],
            )
        },
    }

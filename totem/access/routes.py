"""`GET /whoami` (every service) and the token API (the orchestrator's): `POST /tokens`,
`GET /tokens`, `DELETE /tokens/<name>`. A created token is in the answer once, never again."""

from __future__ import annotations

from flask import Blueprint, jsonify

from totem.access import guard
from totem.access.tokens import MAX_TTL, TokenError, TokenExists
from totem.api import ApiError, json_body
from totem.contracts.deploy_request import duration_seconds

whoami_blueprint = Blueprint("whoami", __name__)
tokens_blueprint = Blueprint("tokens", __name__)
_GLOBS = {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 200}}
TOKEN_SCHEMA = {
    "type": "object",
    "required": ["name", "role"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 63},
        "role": {"enum": ["viewer", "deployer", "admin"]},
        "scopes": {**_GLOBS, "description": "owner/repo globs, e.g. acme/*; default every repo"},
        "envs": {**_GLOBS, "description": "environment globs; default every environment"},
        "ttl": {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_TTL}, {"type": "string", "maxLength": 20}],
            "description": "seconds or a duration (90d, 12h); default: no expiry",
        },
    },
}


@whoami_blueprint.get("/whoami")
def whoami():
    """The token's own name, role, scopes and environments (401 for a bad token)."""
    return jsonify(guard.authenticate().as_dict())


def _ttl(value) -> int | None:
    if value is None or isinstance(value, (int, float)):  # the schema's integer (47442.0 is one)
        return None if value is None else int(value)
    parsed = duration_seconds(value)
    if parsed is None or not 1 <= parsed <= MAX_TTL:
        raise ApiError(
            400,
            "invalid_body",
            f"ttl {value!r} is not a duration like 90d or 12h (at most 10 years)",
            {"path": "body.ttl"},
        )
    return int(parsed)


@tokens_blueprint.post("/tokens")
@guard.require("tokens")
def create_token():
    body = json_body(TOKEN_SCHEMA)
    by = guard.authenticate().name
    guard.g.audit["target"] = {"token": body["name"]}
    try:
        token, record = guard.access().tokens.create(
            body["name"], body["role"], body.get("scopes"), body.get("envs"), _ttl(body.get("ttl")), by
        )
    except TokenExists as exc:
        raise ApiError(409, "token_exists", str(exc), {"name": body["name"]}) from None
    except TokenError as exc:
        raise ApiError(400, "invalid_body", str(exc)) from None
    return jsonify({"token": token, **record}), 201


@tokens_blueprint.get("/tokens")
@guard.require("tokens", audited=False)
def list_tokens():
    return jsonify({"tokens": guard.access().tokens.list()})


@tokens_blueprint.delete("/tokens/<token_name>")
@guard.require("tokens")
def revoke_token(token_name: str):
    if not guard.access().tokens.revoke(token_name):
        raise ApiError(404, "not_found", f"no token named {token_name[:80]!r}")
    return jsonify({"name": token_name, "revoked": True})

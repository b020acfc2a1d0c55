"""Routes: an environment's key ring (deployer/secret_keys.py) and encryption of totem.yml values.

`POST /secrets/<env>/encrypt` {"value"} -> {"value": token, "encrypted": true, "key": id}
`POST /secrets/<env>/rotate` -> the new primary key; `POST /secrets/<env>/reencrypt` {"values"} ->
the same values encrypted with the primary key; `GET /secrets/<env>/keys` -> ids and dates;
`DELETE /secrets/<env>/keys/<id>` -> an old key retired (never the primary).

A plaintext is never logged, echoed or stored: it is registered with the log redactor as soon as
it is read, and answers hold tokens and key ids only."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, jsonify

from deployer.secret_keys import (
    ENV_PATTERN,
    KEY_ID_PATTERN,
    KeyRing,
    KeyRingError,
    PrimaryKey,
    UndecryptableValue,
    UnknownKey,
    ring_for,
)
from totem.access.guard import authenticate, forbidden, require
from totem.api import ApiError, json_body
from totem.logs import register_secret

blueprint = Blueprint("deployer_secrets", __name__)
ENV = re.compile(ENV_PATTERN)
KEY_ID = re.compile(KEY_ID_PATTERN)
MAX_VALUE = 64 * 1024  # characters of one plaintext
MAX_VALUES = 1000  # tokens of one re-encryption
ENCRYPT_SCHEMA = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {"value": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE, "description": "plaintext"}},
}
REENCRYPT_SCHEMA = {
    "type": "object",
    "required": ["values"],
    "additionalProperties": False,
    "properties": {
        "values": {
            "type": "array",
            "maxItems": MAX_VALUES,
            "items": {"type": "string", "minLength": 1, "maxLength": 4 * MAX_VALUE},
            "description": "tokens, each encrypted with a key of the ring or the master key",
        }
    },
}


def _ring(env: str) -> KeyRing:
    """The ring of `env`, once the token covers that environment."""
    if not ENV.fullmatch(env):
        raise ApiError(404, "not_found", f"not an environment name: {env[:80]!r}")
    g.setdefault("audit", {}).setdefault("target", {})["env"] = env
    principal = authenticate()
    if not principal.covers_env(env):
        raise forbidden(principal, f"is not valid in environment {env}")
    try:
        return ring_for(current_app.extensions["deployer"].ctx, env)
    except KeyRingError as exc:
        raise ApiError(503, "no_master_key", str(exc)) from None


def _plaintext(body) -> str:
    """The body's value, checked against ENCRYPT_SCHEMA by hand: a schema error would quote it."""
    value = body.get("value") if isinstance(body, dict) else None
    if isinstance(value, str):
        register_secret(value)
    problem = None
    if not isinstance(body, dict) or set(body) != {"value"}:
        problem = "send exactly one property, value"
    elif not isinstance(value, str) or not value:
        problem = "value: a non-empty string"
    elif len(value) > MAX_VALUE:
        problem = f"value: at most {MAX_VALUE} characters"
    if problem or not isinstance(value, str):
        raise ApiError(400, "validation_failed", f"body: {problem}", {"errors": [{"path": "body", "message": problem}]})
    return value


def _refused(exc: KeyRingError) -> ApiError:
    if isinstance(exc, UnknownKey):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, PrimaryKey):
        return ApiError(409, "primary_key", str(exc))
    if isinstance(exc, UndecryptableValue):
        return ApiError(400, "undecryptable", str(exc))
    return ApiError(503, "key_ring", str(exc))


@blueprint.post("/secrets/<env>/encrypt")
@require("secrets")
def encrypt(env: str):
    ring = _ring(env)
    plaintext = _plaintext(json_body())
    try:
        token, key_id = ring.encrypt(plaintext)
    except KeyRingError as exc:
        raise _refused(exc) from None
    del plaintext
    g.audit.setdefault("details", {})["key"] = key_id
    return jsonify({"value": token, "encrypted": True, "key": key_id, "env": env})


@blueprint.post("/secrets/<env>/rotate")
@require("secrets.keys")
def rotate(env: str):
    ring = _ring(env)
    try:
        key = ring.rotate()
    except KeyRingError as exc:
        raise _refused(exc) from None
    g.audit.setdefault("details", {})["key"] = key.id
    return jsonify({"env": env, "primary": key.shown(primary=True), "keys": ring.listed()}), 201


@blueprint.post("/secrets/<env>/reencrypt")
@require("secrets")
def reencrypt(env: str):
    ring = _ring(env)
    tokens = json_body(REENCRYPT_SCHEMA)["values"]
    try:
        values, key_id = ring.reencrypt(tokens)
    except KeyRingError as exc:
        raise _refused(exc) from None
    g.audit.setdefault("details", {}).update(key=key_id, values=len(values))
    return jsonify({"env": env, "key": key_id, "values": values})


@blueprint.get("/secrets/<env>/keys")
def keys(env: str):
    ring = _ring(env)
    try:
        return jsonify({"env": env, "keys": ring.listed()})
    except KeyRingError as exc:
        raise _refused(exc) from None


@blueprint.delete("/secrets/<env>/keys/<key_id>")
@require("secrets.keys")
def retire(env: str, key_id: str):
    ring = _ring(env)
    if not KEY_ID.fullmatch(key_id):
        raise ApiError(404, "not_found", f"{env} has no key {key_id[:40]!r}")
    g.audit.setdefault("details", {})["key"] = key_id
    try:
        ring.retire(key_id)
        return jsonify({"env": env, "retired": key_id, "keys": ring.listed()})
    except KeyRingError as exc:
        raise _refused(exc) from None

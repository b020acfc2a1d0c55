"""Routes: maintenance and pausing of an app's traffic at the proxies (deployer/traffic.py).

`POST /apps/<name>/maintenance` {"enabled", "retry-after"}, `POST /apps/<name>/pause` {"max"},
`POST /apps/<name>/resume`: each answers once every live proxy applied it (200), or 503 with the
state etcd holds when one did not in time (the lagging proxies apply it when they catch up).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from deployer import intake, traffic
from deployer.api import APP_NAME, authorized_records
from deployer.durations import seconds
from totem.access.guard import require
from totem.api import ApiError, json_body
from totem.contracts.deploy_request import DURATION
from totem.contracts.yoda import MAX_PAUSE, MAX_RETRY_AFTER

blueprint = Blueprint("deployer_traffic", __name__)
MAINTENANCE_SCHEMA = {
    "type": "object",
    "required": ["enabled"],
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean", "description": "true: the maintenance page; false: serve again"},
        "retry-after": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_RETRY_AFTER,
            "default": traffic.DEFAULT_RETRY_AFTER,
            "description": "seconds, the page's Retry-After header",
        },
    },
}
PAUSE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max": {
            "anyOf": [DURATION, {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_PAUSE}],
            "default": f"{traffic.DEFAULT_PAUSE:g}s",
            "description": f"the longest a request is held, above 0 and at most {MAX_PAUSE} s; then it goes "
            "through as usual",
        }
    },
}


def _ctx():
    return current_app.extensions["deployer"].ctx


def _authorized(name: str) -> None:
    """404 for an app nobody deployed, 403 for a token not scoped to its repo: before the body is read."""
    if not APP_NAME.fullmatch(name):
        raise ApiError(404, "not_found", f"no app named {name[:80]!r}")
    authorized_records(name)


def _switched(name: str, switch) -> dict:
    """Run `switch(ctx)` for app `name`, its refusals as API errors."""
    try:
        return switch(_ctx())
    except traffic.UnknownApp as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except traffic.NoLiveVersion as exc:
        raise ApiError(409, "no_live_version", str(exc)) from None
    except traffic.NotApplied as exc:
        details = {"revision": exc.revision, "state": exc.state}
        raise ApiError(503, "not_applied", str(exc), details, {"Retry-After": "5"}) from None


def _pause_seconds(body: dict) -> float:
    try:
        held = seconds(body.get("max"), traffic.DEFAULT_PAUSE)
    except ValueError as exc:
        raise intake.refusal([{"path": "body.max", "message": str(exc)}]) from None
    if not 0 < round(held, 3) <= MAX_PAUSE:
        raise intake.refusal([{"path": "body.max", "message": f"must be above 0 and at most {MAX_PAUSE} s"}])
    return held


@blueprint.post("/apps/<name>/maintenance")
@require("maintenance")
def maintenance(name: str):
    _authorized(name)
    body = intake.check(json_body(), MAINTENANCE_SCHEMA)
    on, retry_after = body["enabled"], body.get("retry-after", traffic.DEFAULT_RETRY_AFTER)
    return jsonify(_switched(name, lambda ctx: traffic.set_maintenance(ctx, name, on, retry_after)))


@blueprint.post("/apps/<name>/pause")
@require("pause")
def pause(name: str):
    _authorized(name)
    held = _pause_seconds(intake.check(json_body() if request.content_length else {}, PAUSE_SCHEMA))
    return jsonify(_switched(name, lambda ctx: traffic.set_paused(ctx, name, True, held)))


@blueprint.post("/apps/<name>/resume")
@require("resume")
def resume(name: str):
    _authorized(name)
    return jsonify(_switched(name, lambda ctx: traffic.set_paused(ctx, name, False)))

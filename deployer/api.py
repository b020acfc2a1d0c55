"""Routes: deployments in (`POST /apps`), apps and versions out, undeploy, rollback, promote and
abort of a rollout, timelines."""

from __future__ import annotations

import logging
import re

import redis
from flask import Blueprint, current_app, jsonify, request
from kombu.exceptions import OperationalError

from deployer import intake, job_runs, traffic, views, wiring
from deployer.records import add_event
from deployer.states import ACTIVE, PROMOTABLE, Event
from totem.access.guard import authorize, require
from totem.api import ApiError, json_body
from totem.contracts.deploy_request import DEPLOYMENT_ID_PATTERN, NAME_PATTERN, VERSION_PATTERN

log = logging.getLogger("deployer.api")
blueprint = Blueprint("deployer", __name__)
APP_NAME = re.compile(NAME_PATTERN)
VERSION = re.compile(VERSION_PATTERN)
DEPLOYMENT_ID = re.compile(DEPLOYMENT_ID_PATTERN)
SCHEMA_NAMES = ("deploy-request-v1",)
MAX_BODY = 1024 * 1024  # bytes; larger bodies are a 413
MAX_IDEMPOTENCY_KEY = 200  # longer keys are cut to this length
ROLLBACK_SCHEMA = {
    "type": "object",
    "properties": {
        "version": {"type": "string", "pattern": VERSION_PATTERN, "description": "default: the previous one"}
    },
}
PROMOTE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"full": {"type": "boolean", "description": "skip every remaining step: switch now"}},
}
ABORT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": 200}},
}
QUEUE_DOWN = (OperationalError, redis.RedisError, OSError)


def _runtime():
    return current_app.extensions["deployer"]


def _shown(text: str) -> str:
    """A path segment as error messages quote it: at most 80 characters."""
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


def _app_name(name: str) -> str:
    if not APP_NAME.fullmatch(name):
        raise ApiError(404, "not_found", f"no app named {_shown(name)}")
    return name


def _records_of(name: str) -> list[dict]:
    records = _runtime().ctx.records.for_app(_app_name(name))
    if not records:
        raise ApiError(404, "not_found", f"no app named {_shown(name)}")
    return records


def git_of(request: dict) -> dict:
    """The owner, repo and ref a deploy request names (its meta-info), for scopes and the audit trail."""
    git = (request.get("meta-info") or {}).get("git") or {}
    return {k: git.get(k) for k in ("owner", "repo", "ref")}


def authorized_records(name: str) -> list[dict]:
    """The app's records, once the token's scope covers the repo its latest deployment came from."""
    records = _records_of(name)
    git = git_of(records[-1].get("request") or {})
    authorize(git["owner"], git["repo"], ref=git["ref"], app=name)
    return records


def _no_version(name: str, version: str) -> ApiError:
    return ApiError(404, "not_found", f"{name} has no version {_shown(version)}")


def _accepted(record: dict, status: int = 202):
    response = jsonify({"deployment": views.summary(record), "links": {"self": f"/deployments/{record['id']}"}})
    response.status_code = status
    response.headers["Location"] = f"/deployments/{record['id']}"
    return response


def _queue(*task) -> None:
    """Queue a task whose record is already stored: when the queue is down the sweep resumes it."""
    try:
        _runtime().dispatch(*task)
    except QUEUE_DOWN:
        log.warning("could not queue %s; the sweep resumes it", task[0], exc_info=True)


def _dispatch(*task) -> None:
    """Queue a task nothing else records: 503 when the queue is down, so the caller retries."""
    try:
        _runtime().dispatch(*task)
    except QUEUE_DOWN:
        log.warning("could not queue %s", task[0], exc_info=True)
        raise ApiError(
            503, "unavailable", "the task queue is unavailable; retry later", None, {"Retry-After": "5"}
        ) from None


@blueprint.post("/apps")
@require("deploy")
def create_deployment():
    ctx = _runtime().ctx
    prepared = intake.prepare(ctx, json_body())  # every check: nothing is written before it passes
    git = git_of(prepared.request)
    authorize(git["owner"], git["repo"], ref=git["ref"], app=prepared.request["deployment"]["name"])
    key = request.headers.get("Idempotency-Key", "").strip()[:MAX_IDEMPOTENCY_KEY]
    earlier_id = ctx.records.idempotent(key) if key else None  # a replay takes no sequence number
    earlier = ctx.records.get(earlier_id) if earlier_id else None
    if earlier is not None:
        return _accepted(earlier, 200)
    record = intake.new_record(ctx, prepared)
    if key:
        claimed = ctx.records.claim_idempotency_key(key, record["id"])
        earlier = ctx.records.get(claimed) if claimed != record["id"] else None
        if earlier is not None:  # a concurrent request with the same key won
            return _accepted(earlier, 200)
    ctx.records.create(record)
    _queue("deployer.run_app", record["app"])
    return _accepted(record)


@blueprint.get("/apps")
def list_apps():
    ctx = _runtime().ctx
    apps = []
    for name in ctx.records.apps():
        records = ctx.records.for_app(name)
        live = ctx.records.live(name)
        apps.append(
            {
                "name": name,
                "live": live,
                "deployments": len(records),
                "latest": views.summary(records[-1]) if records else None,
            }
        )
    return jsonify({"apps": apps})


@blueprint.get("/apps/<name>")
def show_app(name: str):
    records = _records_of(name)
    ctx = _runtime().ctx
    live = ctx.records.live(name)
    return jsonify(
        {
            "name": name,
            "live": live,
            "deployments": [views.summary(r) for r in reversed(records)],
            "schedule": job_runs.view(ctx, next((r for r in records if r["id"] == live), None)),
            "rollout": views.rollout(records),
            "traffic": traffic.state(ctx, name),
        }
    )


def _control(name: str, records: list[dict], action: str, what: str, change) -> dict:
    """Apply `change(record) -> control fields or None` to the app's deployment in progress (read by
    the lifecycle between steps and by a rollout every second); 409 `nothing_to_<action>` otherwise."""
    active = [r for r in records if r["state"] in ACTIVE]

    def update(record: dict):
        fields = change(record) if record["state"] in ACTIVE else None
        if fields is None:
            return None, None
        event = fields.pop("event")
        record["control"] = {**(record.get("control") or {}), **fields, "by": "operator"}
        add_event(record, event, **fields)
        return record, record

    updated = _runtime().ctx.records.update(active[-1]["id"], update) if active else None
    if updated is None:
        raise ApiError(409, f"nothing_to_{action}", f"{name} has no {what}")
    return {"name": name, "deployment": views.summary(updated), "action": action}


@blueprint.post("/apps/<name>/promote")
@require("promote")
def promote(name: str):
    """End the rollout's current wait (a manual step, the preview gate, a step's pause), or all of them."""
    records = authorized_records(name)
    full = bool(intake.check(json_body() if request.content_length else {}, PROMOTE_SCHEMA).get("full"))

    def change(record: dict) -> dict | None:
        shown = record.get("rollout") or {}
        if shown.get("phase") not in PROMOTABLE:
            return None
        return {"event": Event.PROMOTE_REQUESTED, "promote": shown.get("step"), "full": full}

    return jsonify(_control(name, records, "promote", "rollout waiting to be promoted", change)), 202


@blueprint.post("/apps/<name>/abort")
@require("abort")
def abort(name: str):
    """Stop the deployment in progress: its canary gets no more traffic, its instances go, FAILED."""
    records = authorized_records(name)
    reason = intake.check(json_body() if request.content_length else {}, ABORT_SCHEMA).get("reason") or "operator"
    answer = _control(
        name, records, "abort", "deployment in progress", lambda r: {"event": Event.ABORT_REQUESTED, "abort": reason}
    )
    return jsonify(answer), 202


@blueprint.get("/apps/<name>/versions")
def list_versions(name: str):
    versions: dict[str, list] = {}
    for record in reversed(_records_of(name)):
        versions.setdefault(record["version"], []).append(views.summary(record))
    return jsonify({"name": name, "versions": versions})


@blueprint.get("/apps/<name>/versions/<version>")
def show_version(name: str, version: str):
    found = [views.summary(r) for r in reversed(_records_of(name)) if r["version"] == version]
    if not found:
        raise _no_version(name, version)
    return jsonify({"name": name, "version": version, "deployments": found})


@blueprint.delete("/apps/<name>")
@require("undeploy")
def undeploy_app(name: str):
    authorized_records(name)
    _dispatch("deployer.undeploy", name)
    return jsonify({"name": name, "undeploy": "accepted"}), 202


@blueprint.delete("/apps/<name>/versions/<version>")
@require("undeploy")
def undeploy_version(name: str, version: str):
    records = [r for r in authorized_records(name) if r["version"] == version]
    if not records:
        raise _no_version(name, version)
    ctx = _runtime().ctx
    routed = wiring.routed_upstreams(ctx.store, ctx.yoda, name)
    if any(r["upstream"] in routed for r in records):
        raise ApiError(
            409, "version_live", f"{name} {version} serves traffic: roll back or deploy another version first"
        )
    _dispatch("deployer.undeploy", name, version)
    return jsonify({"name": name, "version": version, "undeploy": "accepted"}), 202


@blueprint.post("/apps/<name>/rollback")
@require("rollback")
def rollback(name: str):
    records = authorized_records(name)
    body = intake.check(json_body() if request.content_length else {}, ROLLBACK_SCHEMA)
    wanted = body.get("version")
    if any(r["state"] in ACTIVE for r in records):
        raise ApiError(409, "deployment_in_progress", f"{name} has a deployment in progress")
    ctx = _runtime().ctx
    live = ctx.records.get(ctx.records.live(name) or "")
    promoted = [
        r for r in reversed(records) if any(e["type"] == Event.DEPLOYMENT_PROMOTED for e in r.get("events", []))
    ]
    if wanted:
        candidates = [r for r in promoted if r["version"] == wanted]
    else:
        candidates = [r for r in promoted if not live or r["version"] != live["version"]]
    if not candidates:
        raise ApiError(
            409, "no_rollback_target", f"{name} has no earlier promoted version" + (f" {wanted!r}" if wanted else "")
        )
    target = candidates[0]
    try:
        prepared = intake.prepare(ctx, target["request"])
    except ApiError as exc:  # accepted once, refused by today's rules
        raise ApiError(
            409, "rollback_target_invalid", f"{target['id']} cannot be deployed again: {exc.message}", exc.details
        ) from None
    record = intake.new_record(ctx, prepared, target["scheduler"])
    add_event(record, Event.ROLLBACK_REQUESTED, to=target["id"], replacing=live["id"] if live else None)
    ctx.records.create(record)
    _queue("deployer.run_app", name)
    return _accepted(record)


@blueprint.get("/deployments/<deployment_id>")
def show_deployment(deployment_id: str):
    record = _runtime().ctx.records.get(deployment_id) if DEPLOYMENT_ID.fullmatch(deployment_id) else None
    if record is None:
        raise ApiError(404, "not_found", f"no deployment {_shown(deployment_id)}")
    return jsonify(views.detail(record))


@blueprint.get("/schemas")
def list_schemas():
    return jsonify({"schemas": {name: f"/schemas/{name}" for name in SCHEMA_NAMES}})


@blueprint.get("/schemas/<name>")
def show_schema(name: str):
    if name.removesuffix(".json") not in SCHEMA_NAMES:
        raise ApiError(404, "not_found", f"no schema {_shown(name)}")
    return jsonify(intake.request_schema(_runtime().ctx))

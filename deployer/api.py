"""Routes: deployments in (`POST /apps`), apps and versions out, undeploy, rollback, timelines."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from deployer import views, wiring
from deployer.intake import new_record
from deployer.records import add_event
from deployer.states import ACTIVE, Event
from totem.api import ApiError, json_body, require_token
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA

blueprint = Blueprint("deployer", __name__)
APP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SCHEMAS = {"deploy-request-v1": DEPLOY_REQUEST_SCHEMA}


def _runtime():
    return current_app.extensions["deployer"]


def _app_name(name: str) -> str:
    if not APP_NAME.match(name):
        raise ApiError(404, "not_found", f"no app named {name!r}")
    return name


def _records_of(name: str) -> list[dict]:
    records = _runtime().ctx.records.for_app(_app_name(name))
    if not records:
        raise ApiError(404, "not_found", f"no app named {name!r}")
    return records


def _accepted(record: dict, status: int = 202):
    response = jsonify({"deployment": views.summary(record), "links": {"self": f"/deployments/{record['id']}"}})
    response.status_code = status
    response.headers["Location"] = f"/deployments/{record['id']}"
    return response


@blueprint.post("/apps")
@require_token
def create_deployment():
    body = json_body()
    rt = _runtime()
    record = new_record(body, rt.ctx.records, rt.ctx.options, rt.ctx.settings.cluster, rt.ctx.settings.scheduler)
    key = request.headers.get("Idempotency-Key", "").strip()
    if key:
        claimed = rt.ctx.records.claim_idempotency_key(key[:200], record["id"])
        if claimed != record["id"]:
            existing = rt.ctx.records.get(claimed)
            if existing is not None:
                return _accepted(existing, 200)
    rt.ctx.records.create(record)
    rt.dispatch("deployer.run_app", record["app"])
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
    return jsonify(
        {
            "name": name,
            "live": _runtime().ctx.records.live(name),
            "deployments": [views.summary(r) for r in reversed(records)],
        }
    )


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
        raise ApiError(404, "not_found", f"{name} has no version {version!r}")
    return jsonify({"name": name, "version": version, "deployments": found})


@blueprint.delete("/apps/<name>")
@require_token
def undeploy_app(name: str):
    _records_of(name)
    _runtime().dispatch("deployer.undeploy", name)
    return jsonify({"name": name, "undeploy": "accepted"}), 202


@blueprint.delete("/apps/<name>/versions/<version>")
@require_token
def undeploy_version(name: str, version: str):
    records = [r for r in _records_of(name) if r["version"] == version]
    if not records:
        raise ApiError(404, "not_found", f"{name} has no version {version!r}")
    ctx = _runtime().ctx
    routed = wiring.routed_upstreams(ctx.store, ctx.yoda, name)
    if any(r["upstream"] in routed for r in records):
        raise ApiError(
            409, "version_live", f"{name} {version} serves traffic: roll back or deploy another version first"
        )
    _runtime().dispatch("deployer.undeploy", name, version)
    return jsonify({"name": name, "version": version, "undeploy": "accepted"}), 202


@blueprint.post("/apps/<name>/rollback")
@require_token
def rollback(name: str):
    body = json_body() if request.content_length else {}
    wanted = body.get("version") if isinstance(body, dict) else None
    if wanted is not None and (not isinstance(wanted, str) or not VERSION.match(wanted)):
        raise ApiError(400, "validation_failed", "body.version: must be a version name")
    records = _records_of(name)
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
    record = new_record(target["request"], ctx.records, ctx.options, ctx.settings.cluster, target["scheduler"])
    add_event(record, Event.ROLLBACK_REQUESTED, to=target["id"], replacing=live["id"] if live else None)
    ctx.records.create(record)
    _runtime().dispatch("deployer.run_app", name)
    return _accepted(record)


@blueprint.get("/deployments/<deployment_id>")
def show_deployment(deployment_id: str):
    record = _runtime().ctx.records.get(deployment_id) if VERSION.match(deployment_id) else None
    if record is None:
        raise ApiError(404, "not_found", f"no deployment {deployment_id!r}")
    return jsonify(views.detail(record))


@blueprint.get("/schemas")
def list_schemas():
    return jsonify({"schemas": {name: f"/schemas/{name}" for name in SCHEMAS}})


@blueprint.get("/schemas/<name>")
def show_schema(name: str):
    schema = SCHEMAS.get(name.removesuffix(".json"))
    if schema is None:
        raise ApiError(404, "not_found", f"no schema {name!r}")
    return jsonify(schema)

"""A deployment request (the orchestrator's schema) turned into a NEW deployment record."""

from __future__ import annotations

import copy
from typing import Any

from deployer import proxy_spec
from deployer.durations import seconds
from deployer.records import Record, Records, add_event, now
from deployer.states import Event, State
from totem.api import ApiError, validate
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from totem.contracts.yoda import upstream_name

DEFAULT_PORT = 8080
MODES = ("blue-green", "red-green", "a/b")


def _bad(path: str, message: str) -> ApiError:
    return ApiError(400, "validation_failed", f"{path}: {message}", {"errors": [{"path": path, "message": message}]})


def _validate_proxy(proxy: dict) -> None:
    """The proxy section against PROXY_SCHEMA, with paths named from the request's root."""
    try:
        validate(proxy, proxy_spec.PROXY_SCHEMA)
    except ApiError as exc:
        errors = [{**e, "path": "body.proxy" + e["path"][len("body") :]} for e in exc.details["errors"]]
        raise ApiError(
            400, "validation_failed", f"{errors[0]['path']}: {errors[0]['message']}", {"errors": errors}
        ) from None


def plan(request: dict, options) -> dict[str, Any]:
    """What the lifecycle needs, read once from the request (raises a 400 ApiError when unusable)."""
    _validate_proxy(request.get("proxy", {}))
    deployment = request["deployment"]
    check = deployment.get("check") or {}
    stop = deployment.get("stop") or {}
    ports = proxy_spec.logical_ports(request["proxy"])
    if len(ports) > 1:
        raise _bad(
            "body.proxy.hosts", f"every location must use one port (an instance listens on one); got {sorted(ports)}"
        )
    port = check.get("port") or (ports.pop() if ports else DEFAULT_PORT)
    path = check.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    try:
        durations = {
            "check_timeout": seconds(check.get("timeout"), 10.0),
            "stop_timeout": seconds(stop.get("timeout"), 30.0),
            "drain": seconds(deployment.get("drain"), options.drain),
        }
    except ValueError as exc:
        raise _bad("body.deployment", str(exc)) from None
    nodes = int(deployment["nodes"])
    return {
        "image": request["templates"]["app"]["args"]["image"],
        "nodes": nodes,
        "min_nodes": min(int(check.get("min-nodes", 1)), nodes),
        "check_path": path,
        "attempts": int(check.get("attempts", 10)),
        "port": int(port),
        "ab_weight": int(deployment.get("ab-weight", 50)),
        "schedule": request.get("schedule"),
        "upstream_config": proxy_spec.upstream_config(request["proxy"], int(port), path),
        "wiring": proxy_spec.wiring_for(deployment["name"], request["proxy"]),
        **durations,
    }


def new_record(request: dict, records: Records, options, cluster: str, scheduler: str) -> Record:
    validate(request, DEPLOY_REQUEST_SCHEMA)
    deployment = request["deployment"]
    if deployment["mode"] not in MODES:
        raise _bad("body.deployment.mode", f"must be one of {', '.join(MODES)}")
    spec = plan(request, options)
    app, version = deployment["name"], deployment["version"]
    sequence = records.next_sequence()
    record: Record = {
        "id": f"{app}-{version}-{sequence}",
        "sequence": sequence,
        "app": app,
        "version": version,
        "mode": deployment["mode"],
        "state": State.NEW,
        "cluster": cluster,
        "scheduler": scheduler,
        "upstream": upstream_name(app, version, spec["port"]),
        "spec": spec,
        "request": copy.deepcopy(request),
        "instances": {},
        "created": now(),
        "updated": now(),
        "error": None,
        "events": [],
    }
    add_event(record, Event.NEW_DEPLOYMENT, job=request["meta-info"].get("job-id"), git=request["meta-info"].get("git"))
    return record

"""A deploy request (totem/contracts/deploy_request.py) turned into a NEW deployment record.

`prepare` does every check that can refuse a request — the schema, its defaults, the proxy section,
the ports, the durations — and touches nothing; only `new_record` then takes a sequence number,
so a refused request leaves etcd as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from deployer import proxy_spec
from deployer.durations import seconds
from deployer.records import Record, add_event, now
from deployer.states import Event, Phase, State
from totem import syslog_url
from totem.api import ApiError
from totem.contracts import deploy_request
from totem.contracts.deploy_request import MAX_DURATION
from totem.contracts.yoda import HEALTH_INTERVAL, HEALTH_TIMEOUT, upstream_name
from totem.oncalendar import CalendarError
from totem.oncalendar import parse as parse_calendar

DEFAULT_PORT = 8080
MAX_RECORD = 1024 * 1024  # bytes of request and plan a record starts with; etcd refuses values over 1.5 MiB


def refusal(problems: list[dict[str, str]]) -> ApiError:
    """A 400 whose message is the first problem on one line: `body.meta-info.git.commit: required`."""
    first = problems[0]
    return ApiError(400, "validation_failed", f"{first['path']}: {first['message']}", {"errors": problems})


def _bad(path: str, message: str) -> ApiError:
    return refusal([{"path": path, "message": message}])


def check(data: Any, schema: dict) -> Any:
    """Raise the 400 `refusal` when `data` breaks `schema`."""
    problems = deploy_request.problems(data, schema)
    if problems:
        raise refusal(problems)
    return data


@lru_cache(maxsize=8)
def schema_for(env: str, cluster: str, drain: float, syslog: str | None = None) -> dict:
    """The deploy request schema a deployer with these settings applies and serves (one object
    per settings: callers must not change it)."""
    return deploy_request.served_schema(env, cluster, drain, proxy=proxy_spec.PROXY_SCHEMA, syslog=syslog)


def request_schema(ctx) -> dict:
    """The deploy request schema this deployer applies and serves: its settings as the defaults."""
    return schema_for(ctx.settings.env, ctx.settings.cluster, ctx.options.drain, ctx.settings.syslog_url)


@dataclass(frozen=True)
class Prepared:
    request: dict  # with every default filled in
    spec: dict[str, Any]  # what the lifecycle needs, read once from the request


def _duration(value: Any, path: str) -> float:
    try:
        duration = seconds(value, 0.0)
    except ValueError as exc:
        raise _bad(path, str(exc)) from None
    if duration > MAX_DURATION:
        raise _bad(path, f"at most {MAX_DURATION} s")
    return duration


def _schedule(value: str | None) -> str | None:
    """The request's `schedule` (a calendar event, totem/oncalendar.py), None when absent or blank;
    a 400 naming `body.schedule` and what is wrong, or that it never comes."""
    if value is None or not value.strip():
        return None
    try:
        event = parse_calendar(value)
    except CalendarError as exc:
        raise _bad("body.schedule", str(exc)) from None
    if event.next_after(datetime.now(UTC)) is None:
        raise _bad("body.schedule", f"{value.strip()!r} never comes again (its times are all in the past)")
    return value.strip()


def _rollout(deployment: dict) -> dict | None:
    """Canary mode: its steps (pause in seconds, None for manual), checks (None: the defaults)."""
    if deployment["mode"] != "canary":
        return None
    canary = deployment["canary"]
    steps = []
    for index, step in enumerate(canary["steps"]):
        pause = step.get("pause", "30s")
        path = f"body.deployment.canary.steps[{index}].pause"
        steps.append({"weight": int(step["weight"]), "pause": None if pause == "manual" else _duration(pause, path)})
    return {"steps": steps, "checks": canary.get("analysis"), "min_requests": int(canary["min-requests"])}


def _preview(deployment: dict) -> dict | None:
    preview = deployment["preview"]
    return {"prefix": preview["host-prefix"], "gate": preview["gate"]} if preview["enabled"] else None


def _syslog(logging: dict) -> str:
    """The instances' log destination (docs/logging.md), normalised; "" when not shipped."""
    try:
        return syslog_url.setting(logging.get("syslog") or "")
    except syslog_url.SyslogUrlError as exc:
        raise _bad("body.logging.syslog", str(exc)) from None


def plan(request: dict) -> dict[str, Any]:
    """What the lifecycle needs, from a request with its defaults filled in (a 400 when unusable)."""
    deployment = request["deployment"]
    check, stop = deployment["check"], deployment["stop"]
    schedule = _schedule(request["schedule"])
    ignored = sorted(h["hostname"].lower() for h in (request["proxy"].get("hosts") or {}).values()) if schedule else []
    if schedule:  # a scheduled job is never wired: its proxy section is ignored (the timeline says so)
        request = {**request, "proxy": {}}
    host_problems = proxy_spec.problems(request["proxy"])
    if host_problems:
        raise refusal(host_problems)
    ports = proxy_spec.logical_ports(request["proxy"])
    if len(ports) > 1:
        raise _bad(
            "body.proxy.hosts", f"every location must use one port (an instance listens on one); got {sorted(ports)}"
        )
    # JSON Schema's integers include 2.0: the plan holds Python ints
    port = int(check["port"] or (ports.pop() if ports else DEFAULT_PORT))
    # 2015: check.port 0 skips the discovery check (and so the HTTP one); an empty check.path skips
    # the HTTP check only (the instance still registers, on a TCP check). Absent, the path is "/".
    path = check["path"]
    if path and not path.startswith("/"):
        path = "/" + path
    nodes = int(deployment["nodes"])
    upstream = proxy_spec.upstream_config(request["proxy"], port, path)
    for key in (HEALTH_TIMEOUT, HEALTH_INTERVAL):  # HAProxy takes no timer past 24 days
        _duration(upstream[key], f"body.proxy.upstreams.{port}.{key.replace('/', '.')}")
    return {
        "image": request["templates"]["app"]["args"]["image"],
        "nodes": nodes,
        "min_nodes": min(int(check["min-nodes"]), nodes),
        "check_path": path,
        "discover": check["port"] != 0,
        "attempts": int(check["attempts"]),
        "port": port,
        "ab_weight": int(deployment["ab-weight"]),
        "rollout": _rollout(deployment),
        "preview": _preview(deployment) if not schedule else None,
        "schedule": schedule,
        **({"ignored_proxy_hosts": ignored} if ignored else {}),
        "upstream_config": upstream,
        "wiring": proxy_spec.wiring_for(deployment["name"], request["proxy"]),
        "check_timeout": _duration(check["timeout"], "body.deployment.check.timeout"),
        "stop_timeout": _duration(stop["timeout"], "body.deployment.stop.timeout"),
        "drain": _duration(deployment["drain"], "body.deployment.drain"),
        "syslog": _syslog(request.get("logging") or {}),
    }


def prepare(ctx, body: Any) -> Prepared:
    """Every check a deploy request must pass, nothing written: a 400 naming the field otherwise."""
    schema = request_schema(ctx)
    check(body, schema)
    request = deploy_request.with_defaults(body, schema)
    spec = plan(request)
    size = len(json.dumps({"request": request, "spec": spec}))
    if size > MAX_RECORD:
        raise ApiError(413, "too_large", f"the deployment record would hold {size} bytes; at most {MAX_RECORD}")
    return Prepared(request, spec)


def new_record(ctx, request: dict | Prepared, scheduler: str | None = None) -> Record:
    """A NEW record for `request` (checked first, when not `Prepared` yet); takes the next sequence
    number, the first thing written, and writes nothing else (`Records.create` stores it)."""
    prepared = request if isinstance(request, Prepared) else prepare(ctx, request)
    request, spec = prepared.request, prepared.spec
    deployment = request["deployment"]
    app, version = deployment["name"], deployment["version"]
    sequence = ctx.records.next_sequence()
    record: Record = {
        "id": f"{app}-{version}-{sequence}",
        "sequence": sequence,
        "app": app,
        "version": version,
        "mode": deployment["mode"],
        "state": State.NEW,
        "cluster": ctx.settings.cluster,
        "scheduler": scheduler or ctx.settings.scheduler,
        "upstream": upstream_name(app, version, spec["port"]),
        "spec": spec,
        "request": request,
        "instances": {},
        "created": now(),
        "updated": now(),
        "error": None,
        "events": [],
    }
    if spec["rollout"] or spec["preview"]:
        record["rollout"] = {"phase": Phase.STARTING, "step": None, "weight": 0}
    meta = request["meta-info"]
    add_event(record, Event.NEW_DEPLOYMENT, job=meta.get("job-id"), git=meta.get("git"))
    return record

"""Events: one envelope {date, type, component, meta-info, details}, kept per job, per app and globally."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from orchestrator.runtime import Runtime

log = logging.getLogger("orchestrator.events")
COMPONENT = "orchestrator"
GLOBAL_CAP = 10000
PER_KEY_CAP = 1000


def make(event_type: str, git: dict[str, Any], job_id: str | None = None, details: dict | None = None) -> dict:
    meta: dict[str, Any] = {"git": {k: git.get(k) for k in ("owner", "repo", "ref", "commit")}}
    if job_id:
        meta["job-id"] = job_id
    return {
        "date": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "type": event_type,
        "component": COMPONENT,
        "meta-info": meta,
        "details": details or {},
    }


def emit(rt: Runtime, job: dict[str, Any], *items: tuple[str, dict]) -> None:
    """Record (type, details) events of a job."""
    record(rt, *(make(kind, job, job["id"], details) for kind, details in items))


def app_of(event: dict) -> str:
    git = event["meta-info"]["git"]
    return f"{git['owner']}/{git['repo']}/{git['ref']}"


def record(rt: Runtime, *events: dict) -> None:
    """Store events (best effort: a lost event never fails the work it describes)."""
    if not events:
        return
    ttl = rt.options.job_ttl
    try:
        with rt.redis.pipeline(transaction=False) as pipe:
            for event in events:
                raw = json.dumps(event)
                keys = [rt.key("events", "app", app_of(event))]
                if event["meta-info"].get("job-id"):
                    keys.append(rt.key("events", "job", event["meta-info"]["job-id"]))
                for key in keys:
                    pipe.rpush(key, raw)
                    pipe.ltrim(key, -PER_KEY_CAP, -1)
                    pipe.expire(key, ttl)
                pipe.rpush(rt.key("events"), raw)
                pipe.ltrim(rt.key("events"), -GLOBAL_CAP, -1)
                log.info(
                    "event %s",
                    event["type"],
                    extra={"event": event["type"], "job_id": event["meta-info"].get("job-id")},
                )
            pipe.execute()
    except Exception:  # noqa: BLE001 - events are a record, not the work itself
        log.warning("could not store %d event(s)", len(events), exc_info=True)


def query(rt: Runtime, job_id: str | None = None, app: str | None = None, limit: int = 100) -> list[dict]:
    """Oldest first; by job, by app (owner/repo/ref), or the most recent of all."""
    if job_id:
        key = rt.key("events", "job", job_id)
    elif app:
        key = rt.key("events", "app", app)
    else:
        key = rt.key("events")
    return [json.loads(raw) for raw in rt.redis.lrange(key, -limit, -1)]

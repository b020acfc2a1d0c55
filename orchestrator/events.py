"""Events: one envelope {date, type, component, meta-info, details}, kept per job, per app and globally."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from orchestrator.jobs import atomic
from orchestrator.jobs.atomic import Batch
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


def of_job(job: dict[str, Any], *items: tuple[str, dict]) -> list[dict]:
    """Events of a job from (type, details) pairs."""
    return [make(kind, job, job["id"], details) for kind, details in items]


def emit(rt: Runtime, job: dict[str, Any], *items: tuple[str, dict]) -> None:
    """Record (type, details) events of a job."""
    record(rt, *of_job(job, *items))


def app_of(event: dict) -> str:
    git = event["meta-info"]["git"]
    return f"{git['owner']}/{git['repo']}/{git['ref']}"


def stage(rt: Runtime, batch: Batch, *events: dict) -> None:
    """Add the writes that keep `events` (per app, per job, globally; capped) to `batch`, best effort."""
    ttl, everything = rt.options.job_ttl, rt.key("events")
    for event in events:
        raw = json.dumps(event)
        keys = [rt.key("events", "app", app_of(event))]
        if event["meta-info"].get("job-id"):
            keys.append(rt.key("events", "job", event["meta-info"]["job-id"]))
        for key in keys:
            batch.add("RPUSH", key, raw, best_effort=True)
            batch.add("LTRIM", key, -PER_KEY_CAP, -1, best_effort=True)
            batch.add("EXPIRE", key, ttl, best_effort=True)
        batch.add("RPUSH", everything, raw, best_effort=True)
        batch.add("LTRIM", everything, -GLOBAL_CAP, -1, best_effort=True)


def announce(*events: dict) -> None:
    """One log line for events stored together."""
    if events:
        kinds = ",".join(event["type"] for event in events)
        log.info("event %s", kinds, extra={"event": kinds, "job_id": events[0]["meta-info"].get("job-id")})


class Staged:
    """Events stored in the same atomic step as the job change they describe (the `effects` of
    jobs.store `update`/`land`): `describe(result)` makes them from the change's result (none for
    None); `announce()` logs them once the change is written."""

    def __init__(self, rt: Runtime, describe: Callable[[Any], list[dict]]):
        self.rt, self.describe, self.events = rt, describe, cast(list[dict], [])

    def __call__(self, result: Any, batch: Batch) -> None:
        self.events = [] if result is None else self.describe(result)
        stage(self.rt, batch, *self.events)

    def announce(self) -> None:
        announce(*self.events)


def record(rt: Runtime, *events: dict) -> None:
    """Store events (best effort: a lost event never fails the work it describes)."""
    if not events:
        return
    batch = Batch()
    stage(rt, batch, *events)
    try:
        atomic.write(rt.redis, batch)
    except Exception:  # noqa: BLE001 - events are a record, not the work itself
        log.warning("could not store %d event(s)", len(events), exc_info=True)
        return
    announce(*events)


def query(rt: Runtime, job_id: str | None = None, app: str | None = None, limit: int = 100) -> list[dict]:
    """Oldest first; by job, by app (owner/repo/ref), or the most recent of all."""
    if job_id:
        key = rt.key("events", "job", job_id)
    elif app:
        key = rt.key("events", "app", app)
    else:
        key = rt.key("events")
    return [json.loads(raw) for raw in rt.redis.lrange(key, -limit, -1)]

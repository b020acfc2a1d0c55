"""Deployment records in etcd: one JSON document per deployment, updated atomically.

<prefix>/<cluster>/deployments/<id>           the record (request, state, instances, timeline)
<prefix>/<cluster>/apps/<app>/deployments/<id> index by app ("" values)
<prefix>/<cluster>/apps/<app>/live            id of the deployment serving traffic
<prefix>/<cluster>/idempotency/<sha256>       id created for an Idempotency-Key
<prefix>/<cluster>/sequence                   counter for deployment ids
<prefix>/<cluster>/runs/<id>/<run id>         a scheduled job's runs (deployer/job_runs.py)
<prefix>/<cluster>/run-active/<id>            the run in progress (leased)
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, TypeVar

from totem.store import Change, Store

Record = dict[str, Any]
R = TypeVar("R")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"


class Records:
    def __init__(self, store: Store, prefix: str, cluster: str):
        self.store = store
        self.root = f"{prefix.rstrip('/')}/{cluster}/"

    # -- keys ------------------------------------------------------------------
    def _record(self, deployment_id: str) -> str:
        return f"{self.root}deployments/{deployment_id}"

    def _app(self, app: str) -> str:
        return f"{self.root}apps/{app}/"

    # -- ids -------------------------------------------------------------------
    def next_sequence(self) -> int:
        def increment(old: str | None) -> tuple[str, int]:
            number = int(old or 0) + 1
            return str(number), number

        return self.store.update(f"{self.root}sequence", increment)

    def _idempotency(self, key: str) -> str:
        return f"{self.root}idempotency/{hashlib.sha256(key.encode()).hexdigest()}"

    def idempotent(self, key: str) -> str | None:
        """The id created for an Idempotency-Key, if any (reads only)."""
        return self.store.get(self._idempotency(key))

    def claim_idempotency_key(self, key: str, deployment_id: str) -> str:
        """The id already created for `key`, or `deployment_id` once claimed for it."""
        path = self._idempotency(key)
        if self.store.create(path, deployment_id):
            return deployment_id
        return self.store.get(path) or deployment_id

    # -- records ---------------------------------------------------------------
    def create(self, record: Record) -> None:
        self.store.put_json(self._record(record["id"]), record)
        self.store.put(self._app(record["app"]) + "deployments/" + record["id"], "")

    def get(self, deployment_id: str) -> Record | None:
        return self.store.get_json(self._record(deployment_id))

    def update(self, deployment_id: str, change: Change[Record, R]) -> R:
        """Apply `change` to the record atomically (the store's `Change` contract); KeyError if none."""

        def apply(old: str | None) -> tuple[str | None, R]:
            if old is None:
                raise KeyError(deployment_id)
            record, result = change(json.loads(old))
            if record is None:
                return None, result
            record["updated"] = now()
            return json.dumps(record, sort_keys=True), result

        return self.store.update(self._record(deployment_id), apply)

    def for_app(self, app: str) -> list[Record]:
        """The app's deployments, oldest first."""
        ids = [key.rsplit("/", 1)[1] for key in self.store.list(self._app(app) + "deployments/")]
        records = [r for r in (self.get(i) for i in ids) if r]
        return sorted(records, key=lambda r: r["sequence"])

    def apps(self) -> list[str]:
        names = {key[len(self.root) + 5 :].split("/", 1)[0] for key in self.store.list(self.root + "apps/")}
        return sorted(n for n in names if n)

    def live(self, app: str) -> str | None:
        return self.store.get(self._app(app) + "live")

    def set_live(self, app: str, deployment_id: str | None) -> None:
        if deployment_id is None:
            self.store.delete(self._app(app) + "live")
        else:
            self.store.put(self._app(app) + "live", deployment_id)


MAX_EVENTS = 300  # the lifecycle stays whole; the oldest reconcile events make room


def add_event(record: Record, event: str, component: str = "deployer", **details: Any) -> None:
    """Append to the timeline, in the shared event envelope."""
    events = record.setdefault("events", [])
    if len(events) >= MAX_EVENTS:
        drop = next((i for i, e in enumerate(events) if e["component"] != "deployer"), len(events) - 1)
        del events[drop]
    events.append(
        {
            "date": now(),
            "type": event,
            "component": component,
            "state": record["state"],
            "meta-info": {"deployment-id": record["id"], "app": record["app"], "version": record["version"]},
            "details": details,
        }
    )


def has_event(record: Record, event: str) -> bool:
    return any(e["type"] == event for e in record.get("events", []))


def with_fields(**fields: Any) -> Change[Record, Record]:
    """A change that sets `fields` on the record; `Records.update` then returns the stored record."""

    def change(record: Record) -> tuple[Record, Record]:
        record.update(fields)
        return record, record

    return change

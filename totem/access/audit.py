"""The audit trail: one Redis stream (`<prefix>:audit`, persisted by Redis's append-only file).

Records are only ever appended; `trim` (the retention job) is the one way any leave. A record:
{"id", "time", "actor", "actor-kind", "source", "action", "target": {...}, "outcome", "status", "details"}.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, cast

import redis

MAX_QUERY = 1000


class AuditLog:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis, self.key = client, f"{prefix}:audit"

    def append(
        self,
        actor: str,
        actor_kind: str,
        action: str,
        target: dict[str, Any],
        outcome: str,
        status: int | None = None,
        source: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        record = {
            "time": time.time(),
            "actor": actor,
            "actor-kind": actor_kind,
            "source": source,
            "action": action,
            "target": target,
            "outcome": outcome,
            "status": status,
            "details": details or {},
        }
        return cast(str, self.redis.xadd(self.key, {"record": json.dumps(record)}))  # decode_responses=True

    def query(
        self,
        app: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        where: Callable[[dict], bool] | None = None,
    ) -> list[dict]:
        """The newest `limit` matching records, newest first; `since`/`until` are Unix times (inclusive).
        `app` is a target's app name, its owner/repo or its owner/repo/ref (the deployer names apps
        differently from the orchestrator); `where(record)` is a further test (the reader's repo scopes)."""
        low = f"{int(since * 1000)}" if since is not None else "-"
        high = f"{int(until * 1000)}" if until is not None else "+"
        found: list[dict] = []
        cursor = high
        while len(found) < limit:
            batch = cast(
                list[tuple[str, dict[str, str]]], self.redis.xrevrange(self.key, max=cursor, min=low, count=500)
            )
            for entry_id, fields in batch:
                record = {"id": entry_id, **json.loads(fields["record"])}
                if _matches(record, app, actor, action) and (where is None or where(record)):
                    found.append(record)
                    if len(found) >= limit:
                        break
            if len(batch) < 500:
                break
            cursor = f"({batch[-1][0]}"
        return found

    def trim(self, older_than: float) -> int:
        """The retention job: drop records before the Unix time `older_than`; how many went."""
        return int(self.redis.xtrim(self.key, minid=f"{int(older_than * 1000)}-0", approximate=False))


def app_names(target: dict) -> set[str]:
    """Every name `query(app=...)` finds a target by: its app, owner/repo and owner/repo/ref."""
    names = {target["app"]} if isinstance(target.get("app"), str) else set()
    owner, repo, ref = target.get("owner"), target.get("repo"), target.get("ref")
    if owner and repo:
        names.add(f"{owner}/{repo}")
        if ref:
            names.add(f"{owner}/{repo}/{ref}")
    return names


def _matches(record: dict, app: str | None, actor: str | None, action: str | None) -> bool:
    target = record.get("target") or {}
    return (
        (app is None or app in app_names(target))
        and (actor is None or record.get("actor") == actor)
        and (action is None or record.get("action") == action)
    )

"""Jobs in Redis. Every change is an atomic read-modify-write (orchestrator.jobs.atomic: one read,
then one compare-and-write), so concurrent hooks never lose updates.

`update` and `update_current` follow the store's atomic-update contract (totem.store `Change`):
`change(job) -> (job to write or None, result)`, run again on a fresh copy after a lost race.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import redis

from orchestrator import states
from orchestrator.jobs import atomic
from orchestrator.runtime import Runtime
from totem import metrics
from totem.store import Change

Job = dict[str, Any]
R = TypeVar("R")
MAX_ATTEMPTS = 1000  # optimistic retries under contention (each round one writer wins)
Effects = Callable[[Any, atomic.Batch], None]  # (the change's result, the batch to add writes to)


def app_name(owner: str, repo: str, ref: str) -> str:
    return f"{owner}/{repo}/{ref}"


class JobStore:
    def __init__(self, runtime: Runtime):
        self.rt = runtime
        self.redis = runtime.redis
        self.ttl = runtime.options.job_ttl

    def _job_key(self, job_id: str) -> str:
        return self.rt.key("job", job_id)

    def _current_key(self, app: str) -> str:
        return self.rt.key("current", app)

    def get(self, job_id: str) -> Job | None:
        raw = self.redis.get(self._job_key(job_id))
        return json.loads(raw) if raw else None

    def current_id(self, app: str) -> str | None:
        # the client decodes responses (Runtime.create sets decode_responses=True)
        return cast("str | None", self.redis.get(self._current_key(app)))

    def _write(self, batch: atomic.Batch, job: Job, make_current: bool) -> None:
        job["updated"] = time.time()
        batch.add("SET", self._job_key(job["id"]), json.dumps(job), "EX", self.ttl)
        batch.add("ZADD", self.rt.key("jobs"), job["created"], job["id"])
        if make_current:
            batch.add("SET", self._current_key(job["app"]), job["id"], "EX", self.ttl)

    def _apply(
        self,
        read: dict[str, str | None],
        job: Job | None,
        change: Change[Any, R],
        current: bool,
        effects: Effects | None,
    ) -> tuple[bool, R]:
        """(written?, result): `change`, then `effects`, in one compare-and-write.
        A job written in another state (or a new job) counts in `totem_job_transitions_total`."""
        was = (job["id"], job.get("state")) if job is not None else None
        new_job, result = change(job)
        batch = atomic.Batch()
        if new_job is not None:
            self._write(batch, new_job, make_current=current)
        if effects is not None:
            effects(result, batch)
        replies = atomic.write(self.redis, batch, read)
        if replies is not None and new_job is not None and (new_job["id"], new_job.get("state")) != was:
            metrics.JOB_TRANSITIONS.labels(state=str(new_job.get("state"))).inc()
        return replies is not None, result

    def land(self, app: str, change: Change[Job | None, R], effects: Effects | None = None) -> R:
        """`update_current`, with `effects(result, batch)` adding writes (events, the queued mark and
        its task) that land in the same atomic step as the job; the result."""
        current_key = self._current_key(app)
        for _ in range(MAX_ATTEMPTS):
            found = atomic.run(self.redis, atomic.READ_CURRENT, [current_key], [self._job_key("")])
            job_id, raw = (list(found) + [None, None])[:2]
            read = {current_key: job_id, **({self._job_key(job_id): raw} if job_id else {})}
            written, result = self._apply(read, json.loads(raw) if raw else None, change, True, effects)
            if written:
                return result
        raise redis.RedisError(f"{app}: too many concurrent updates")

    def update_current(self, app: str, change: Change[Job | None, R]) -> R:
        """Atomically apply `change` to the app's current job (None when it has none); its result."""
        return self.land(app, change)

    def update(self, job_id: str, change: Change[Job, R], effects: Effects | None = None) -> R | None:
        """Atomically apply `change` to the job; its result, or None when the job is gone. `effects`:
        as for `land` (e.g. the events the change makes, stored with it)."""
        key = self._job_key(job_id)
        for _ in range(MAX_ATTEMPTS):
            raw = cast("str | None", self.redis.get(key))  # decoded: decode_responses=True
            if not raw:
                return None
            written, result = self._apply({key: raw}, json.loads(raw), change, False, effects)
            if written:
                return result
        raise redis.RedisError(f"job {job_id}: too many concurrent updates")

    def list(self, filters: dict[str, str], limit: int, offset: int) -> tuple[list[Job], int]:
        """Newest first, filtered by owner/repo/ref/state; returns (page, total matching)."""
        matching = [job for job in self._all() if all(job.get(f) == value for f, value in filters.items())]
        return matching[offset : offset + limit], len(matching)

    def count_by_state(self) -> dict[str, int]:
        """How many jobs (of the kept ones) are in each state, every state named."""
        counts = dict.fromkeys(states.ALL, 0)
        for job in self._all():
            counts[job.get("state", "")] = counts.get(job.get("state", ""), 0) + 1
        return {str(state): count for state, count in counts.items()}

    def _all(self) -> Iterator[Job]:
        """Every kept job, newest first (expired ones dropped from the index on the way)."""
        index = self.rt.key("jobs")
        self.redis.zremrangebyscore(index, "-inf", time.time() - self.ttl)
        # without scores, and with decode_responses=True, the members come back as str
        ids = cast(list[str], self.redis.zrevrange(index, 0, -1))
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            for job_id, raw in zip(chunk, self.redis.mget([self._job_key(i) for i in chunk]), strict=True):
                if not raw:
                    self.redis.zrem(index, job_id)
                    continue
                yield json.loads(raw)

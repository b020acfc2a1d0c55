"""Jobs in Redis. Every change is a WATCH/MULTI read-modify-write, so concurrent hooks never lose updates.

`update` and `update_current` follow the store's atomic-update contract (totem.store `Change`):
`change(job) -> (job to write or None, result)`, run again on a fresh copy after a lost race.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis

from orchestrator.runtime import Runtime
from totem.store import Change

Job = dict[str, Any]
R = TypeVar("R")
MAX_ATTEMPTS = 1000  # optimistic retries under contention (each round one writer wins)


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

    def _write(self, pipe, job: Job, make_current: bool) -> None:
        job["updated"] = time.time()
        pipe.set(self._job_key(job["id"]), json.dumps(job), ex=self.ttl)
        pipe.zadd(self.rt.key("jobs"), {job["id"]: job["created"]})
        if make_current:
            pipe.set(self._current_key(job["app"]), job["id"], ex=self.ttl)

    def _optimistic(self, what: str, attempt: Callable[[Any], Any]) -> Any:
        """Run `attempt(pipeline)` under WATCH until no watched key changed meanwhile."""
        for _ in range(MAX_ATTEMPTS):
            with self.redis.pipeline() as pipe:
                try:
                    return attempt(pipe)
                except redis.WatchError:
                    continue
        raise redis.RedisError(f"{what}: too many concurrent updates")

    def _apply(self, pipe, job: Job | None, change: Change[Any, R], make_current: bool) -> R:
        new_job, result = change(job)
        pipe.multi()
        if new_job is not None:
            self._write(pipe, new_job, make_current=make_current)
        pipe.execute()
        return result

    def update_current(self, app: str, change: Change[Job | None, R]) -> R:
        """Atomically apply `change` to the app's current job (None when it has none); its result."""
        current_key = self._current_key(app)

        def attempt(pipe) -> Any:
            pipe.watch(current_key)
            job_id = pipe.get(current_key)
            job = None
            if job_id:
                pipe.watch(self._job_key(job_id))
                raw = pipe.get(self._job_key(job_id))
                job = json.loads(raw) if raw else None
            return self._apply(pipe, job, change, make_current=True)

        return self._optimistic(app, attempt)

    def update(self, job_id: str, change: Change[Job, R]) -> R | None:
        """Atomically apply `change` to the job; its result, or None when the job is gone."""
        key = self._job_key(job_id)

        def attempt(pipe) -> Any:
            pipe.watch(key)
            raw = pipe.get(key)
            if not raw:
                return None
            return self._apply(pipe, json.loads(raw), change, make_current=False)

        return self._optimistic(f"job {job_id}", attempt)

    def list(self, filters: dict[str, str], limit: int, offset: int) -> tuple[list[Job], int]:
        """Newest first, filtered by owner/repo/ref/state; returns (page, total matching)."""
        index = self.rt.key("jobs")
        self.redis.zremrangebyscore(index, "-inf", time.time() - self.ttl)
        matching: list[Job] = []
        # without scores, and with decode_responses=True, the members come back as str
        ids = cast(list[str], self.redis.zrevrange(index, 0, -1))
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            for job_id, raw in zip(chunk, self.redis.mget([self._job_key(i) for i in chunk]), strict=True):
                if not raw:
                    self.redis.zrem(index, job_id)
                    continue
                job = json.loads(raw)
                if all(job.get(field) == value for field, value in filters.items()):
                    matching.append(job)
        return matching[offset : offset + limit], len(matching)

"""Build requests: reuse a queued, running or recent build of the same commit (one whose worker died is
queued again instead); supersede older queued ones."""

from __future__ import annotations

import time
from typing import Any, TypeGuard

from image_factory.records import RECORD_TTL, BuildStore
from image_factory.states import BuildStatus


def _reusable(record: dict[str, Any] | None, recent_seconds: int) -> TypeGuard[dict[str, Any]]:
    if not record:
        return False
    if record["status"] in (BuildStatus.QUEUED, BuildStatus.RUNNING):
        return True
    return record["status"] == BuildStatus.SUCCEEDED and (record["finished_at"] or 0) >= time.time() - recent_seconds


def request_build(
    store: BuildStore, git: dict[str, str], trigger: str, recent_seconds: int, force: bool = False
) -> tuple[dict[str, Any], bool]:
    """Returns (record, queued): queued for a new build, and for a running one whose worker died (its
    lease lapsed), queued again; either way the caller sends its task. Serialized per (owner, repo, ref)
    by a short Redis lock."""
    ref_id = f"{git['owner']}/{git['repo']}/{git['ref']}"
    commit_key = store.key("commit", f"{ref_id}@{git['commit']}")
    queued_key = store.key("queued", ref_id)
    with store.redis.lock(store.key("lock", ref_id), timeout=30, blocking_timeout=10):
        if not force:
            existing_id = store.redis.get(commit_key)
            existing = store.get(existing_id) if existing_id else None
            # its worker died: queued again, whatever its attempts (this is a new request for it)
            if existing and existing["status"] == BuildStatus.RUNNING and store.revive(existing["id"]):
                return store.get(existing["id"]) or existing, True
            if _reusable(existing, recent_seconds):
                return existing, False
        record = store.create(git, trigger, forced=force)
        older_id = store.redis.get(queued_key)
        if older_id and older_id != record["id"]:
            store.transition(
                older_id,
                (BuildStatus.QUEUED,),
                BuildStatus.SUPERSEDED,
                superseded_by=record["id"],
                finished_at=time.time(),
            )
        pipe = store.redis.pipeline()
        pipe.set(commit_key, record["id"], ex=RECORD_TTL)
        pipe.set(queued_key, record["id"], ex=RECORD_TTL)
        pipe.execute()
        return record, True


def enqueue_failed(store: BuildStore, build_id: str, error: str) -> None:
    """The queue refused the build: record that instead of leaving it queued forever."""
    store.transition(build_id, (BuildStatus.QUEUED,), BuildStatus.FAILED, error=error, finished_at=time.time())

"""The queued mark: a job whose `process_job` task is still waiting in the queue gets no second one.

A hook that lands on a job sets the mark (SET NX, in the hook's own atomic step: jobs.store `land`)
and queues the task only when it set it; the task clears the mark before it reads the job, so a
hook landing after that read queues a new task. A burst of hooks on one job thus costs one task
(one config load, one gate decision) rather than one per hook. The mark expires after MARK_TTL
seconds: a lost task holds a job back that long at most before the next hook queues another (and
the sweep re-queues idle open jobs in any case).
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis

from orchestrator.jobs.atomic import Batch
from orchestrator.runtime import Runtime

MARK_TTL = 30


def _key(rt: Runtime, job_id: str) -> str:
    return rt.key("queued", job_id)


def claim(rt: Runtime, batch: Batch, job_id: str) -> None:
    """Set the job's mark in `batch`; its reply says whether this caller queues the task (`claimed`)."""
    batch.add("SET", _key(rt, job_id), "1", "NX", "EX", MARK_TTL)


def claimed(reply: Any) -> bool:
    return reply is not None  # SET NX answers nil when the mark was already there


def release(rt: Runtime, job_id: str) -> None:
    """Clear the mark (the task, before it reads the job: later hooks queue a new one)."""
    rt.redis.delete(_key(rt, job_id))


def forget(rt: Runtime, job_id: str) -> None:
    """Clear the mark after queueing the task failed, so the sender's retry queues it (best effort)."""
    with contextlib.suppress(redis.RedisError):
        release(rt, job_id)

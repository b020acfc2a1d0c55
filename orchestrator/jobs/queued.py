"""The queued mark: a job whose `process_job` task is still waiting in the queue gets no second one.

A hook that lands on a job sets the mark (SET NX) and, only when it set it, queues the task (an
LPUSH of its message: totem.task_message), both in the hook's own atomic step (jobs.store `land`):
the job, its events and its task are written together or not at all. The task clears the mark
before it reads the job, so a hook landing after that read queues a new task. A burst of hooks on
one job thus costs one task (one config load, one gate decision) rather than one per hook. The
mark expires after MARK_TTL seconds: a lost task holds a job back that long at most before the next
hook queues another (and the sweep re-queues idle open jobs in any case).
"""

from __future__ import annotations

from orchestrator.jobs.atomic import Batch
from orchestrator.runtime import QUEUE, Runtime
from totem import task_message

MARK_TTL = 30


def _key(rt: Runtime, job_id: str) -> str:
    return rt.key("queued", job_id)


def claim(rt: Runtime, batch: Batch, job_id: str) -> None:
    """Set the job's mark in `batch` and, when that set it, queue its `process_job` task there too."""
    batch.add("SET", _key(rt, job_id), "1", "NX", "EX", MARK_TTL)
    batch.add("LPUSH", QUEUE, task_message.encode("orchestrator.process_job", [job_id], QUEUE), after=True)


def release(rt: Runtime, job_id: str) -> None:
    """Clear the mark (the task, before it reads the job: later hooks queue a new one)."""
    rt.redis.delete(_key(rt, job_id))

"""Re-queue open jobs nobody is working on (a task lost between persisting a hook and queueing it).

Safe at any time: processing a job twice never deploys twice.
"""

from __future__ import annotations

import time

from orchestrator.jobs.store import JobStore
from orchestrator.runtime import Runtime
from orchestrator.states import OPEN

IDLE_SECONDS = 60


def sweep(rt: Runtime, idle: float = IDLE_SECONDS) -> list[str]:
    """Queue `process_job` for open jobs (NEW, SCHEDULED, AWAITING_APPROVAL: an approved one whose task
    was lost) untouched for `idle` seconds; their ids."""
    jobs = JobStore(rt)
    queued = []
    for state in OPEN:
        page, _ = jobs.list({"state": state}, limit=10**6, offset=0)
        for job in page:
            if time.time() - job["updated"] >= idle:
                rt.enqueue("process_job", job["id"])
                queued.append(job["id"])
    return queued

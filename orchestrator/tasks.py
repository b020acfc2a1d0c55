"""Celery tasks (JSON arguments only; safe to run twice)."""

from __future__ import annotations

import functools

import redis
from celery import Celery

from orchestrator.runtime import Runtime
from orchestrator.settings import OrchestratorSettings, options_or_exit
from totem.logs import log_context
from totem.settings import load_or_exit
from totem.store import StoreUnavailable

TRANSIENT = (redis.RedisError, StoreUnavailable, OSError)


@functools.lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = load_or_exit("orchestrator worker")
    return Runtime.create(settings, options_or_exit(settings.config_providers))


def register(celery: Celery, options: OrchestratorSettings) -> None:
    @celery.task(name="orchestrator.process_job", bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
    def process_job(task, job_id: str) -> str | None:
        from orchestrator import pipeline

        with log_context(job_id=job_id, task_id=task.request.id):
            return pipeline.process(runtime(), job_id, task.request.id)

    @celery.task(name="orchestrator.undeploy", bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
    def undeploy(task, owner: str, repo: str, ref: str, trigger: dict | None = None) -> dict:
        from orchestrator.undeploy import undeploy as run

        with log_context(task_id=task.request.id):
            return run(runtime(), owner, repo, ref, trigger)

    @celery.task(name="orchestrator.sweep")
    def sweep() -> list[str]:
        from orchestrator.jobs.sweep import sweep as run

        return run(runtime())

    @celery.task(name="orchestrator.check_hooks")
    def check_hooks() -> list[str]:
        from orchestrator.jobs.missing import check

        return check(runtime())

    @celery.task(name="orchestrator.expire_approvals")
    def expire_approvals() -> list[str]:
        from orchestrator.jobs.approval import expire_due

        return expire_due(runtime())

    @celery.task(name="orchestrator.trim_audit")
    def trim_audit() -> int:
        """The audit trail's retention: records older than TOTEM_AUDIT_RETENTION go (nothing else removes any)."""
        import time

        from totem.access.audit import AuditLog

        rt = runtime()
        return AuditLog(rt.redis, rt.settings.access_prefix).trim(time.time() - rt.settings.audit_retention)

    every = options.hook_check_interval
    celery.conf.beat_schedule = {
        "orchestrator-sweep": {"task": "orchestrator.sweep", "schedule": 60.0},
        "orchestrator-expire-approvals": {
            "task": "orchestrator.expire_approvals",
            "schedule": options.approval_check_interval,
            "options": {"expires": options.approval_check_interval},
        },
        "orchestrator-trim-audit": {"task": "orchestrator.trim_audit", "schedule": 60.0, "options": {"expires": 60.0}},
        # a round not run before the next one is due is dropped: the next one does the same
        "orchestrator-check-hooks": {
            "task": "orchestrator.check_hooks",
            "schedule": every,
            "options": {"expires": every},
        },
    }

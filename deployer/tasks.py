"""Celery tasks. Each takes the per-app lock (lease kept alive) and works from the state in etcd,
so running one twice, or after a killed worker, is safe."""

from __future__ import annotations

import logging
from functools import lru_cache

from deployer import job_runs
from deployer.context import Context
from deployer.lifecycle import Lifecycle
from deployer.operations import reconcile, undeploy
from deployer.states import ACTIVE
from deployer.worker import celery
from totem.store import LockLost
from totem.store.lock import LOCK_PREFIX

log = logging.getLogger("deployer.tasks")
BUSY_RETRY = 1.0  # seconds before retrying when another worker holds the app's lock
BUSY_RETRIES = 1800


@lru_cache(maxsize=1)
def context() -> Context:
    return Context.from_env()


def lock_name(app: str) -> str:
    return f"deployer/{app}"


_BUSY = object()  # another worker holds the app's lock


def _with_lock(app: str, work):
    """`work(ctx, lock)` under the app's lock; _BUSY when another worker holds it, None when it was lost."""
    ctx = context()
    lock = ctx.store.lock(lock_name(app), ttl=ctx.options.lock_ttl)
    if not lock.acquire(blocking=False):
        return _BUSY
    try:
        return work(ctx, lock)
    except LockLost:
        log.warning("lost the lock for %s; the sweep resumes it", app)
        return None
    finally:
        lock.release()


def _locked(task, app: str, work):
    done = _with_lock(app, work)
    if done is _BUSY:
        raise task.retry(countdown=BUSY_RETRY, max_retries=BUSY_RETRIES)
    return done


def _pending(ctx, app: str) -> list:
    return [r for r in ctx.records.for_app(app) if r["state"] in ACTIVE]


@celery.task(name="deployer.run_app", bind=True)
def run_app(self, app: str) -> list[str]:
    """Take the app's deployments that are not finished, oldest first, to PROMOTED or FAILED."""

    def work(ctx, lock):
        finished = []
        while True:
            pending = _pending(ctx, app)
            if not pending:
                return finished
            record = Lifecycle(ctx, lock).run(pending[0]["id"])
            finished.append(f"{record['id']}:{record['state']}")

    finished = _locked(self, app, work)
    # A request that came in after our last look found the lock still held and will retry in
    # BUSY_RETRY: take its deployment now instead (when nobody else has meanwhile).
    while finished is not None and _pending(context(), app):
        more = _with_lock(app, work)
        if more is _BUSY or more is None:
            break
        finished += more
    return finished


@celery.task(name="deployer.undeploy", bind=True)
def undeploy_app(self, app: str, version: str | None = None) -> list[str]:
    return _locked(self, app, lambda ctx, lock: undeploy(ctx, app, version, lock.check))


@celery.task(name="deployer.sweep")
def sweep() -> list[str]:
    """Resume apps with unfinished deployments whose lock nobody holds (their worker died)."""
    ctx = context()
    resumed = []
    for app in ctx.records.apps():
        if ctx.store.get(LOCK_PREFIX + lock_name(app)) is None and any(
            r["state"] in ACTIVE for r in ctx.records.for_app(app)
        ):
            # a resume still queued when the next sweep runs is dropped rather than doubled
            run_app.apply_async((app,), expires=max(ctx.options.sweep_interval, BUSY_RETRY) * 2)
            resumed.append(app)
    return resumed


@celery.task(name="deployer.reconcile")
def reconcile_all() -> dict[str, list]:
    ctx = context()
    done = {}
    for app in ctx.records.apps():
        lock = ctx.store.lock(lock_name(app), ttl=ctx.options.lock_ttl)
        if not lock.acquire(blocking=False):
            continue  # a deployment is running: it owns the app's state now
        try:
            actions = reconcile(ctx, app)
            if actions:
                done[app] = actions
        finally:
            lock.release()
    return done


@celery.task(name="deployer.schedule_runs")
def schedule_runs() -> list[str]:
    """Claim the scheduled jobs' runs that are due and queue each (deployer/job_runs.py)."""
    queued = []
    for deployment, run in job_runs.due_runs(context()):
        # a run no worker starts within QUEUED_FOR is dropped here and marked lost by a later beat
        run_job.apply_async((deployment, run), expires=job_runs.QUEUED_FOR)
        queued.append(f"{deployment}@{run}")
    return queued


@celery.task(name="deployer.run_job")
def run_job(deployment: str, run: str) -> dict | None:
    """Run one claimed run of a scheduled job to its end and record it."""
    done = job_runs.execute(context(), deployment, run)
    return {k: done[k] for k in ("id", "status", "exit_code")} if done else None

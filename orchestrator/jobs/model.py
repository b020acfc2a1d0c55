"""The hook and job shapes, and how a hook changes a job (pure functions, no I/O)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from orchestrator.jobs.gate import NOT_CONFIGURED, forcing, is_inert
from orchestrator.jobs.store import Job, app_name
from orchestrator.states import OPEN, Event, State
from totem.contracts.hook import HookStatus

MAX_COMMITS = 200  # commits remembered per job to recognise superseded ones


@dataclass(frozen=True)
class Hook:
    owner: str
    repo: str
    ref: str
    commit: str
    type: str  # builder | ci | scm-push | scm-create
    name: str
    status: HookStatus
    result: dict[str, Any] = field(default_factory=dict)
    force_deploy: bool = False
    source: str = "generic"  # generic | github | travis | recovered (from the image factory: jobs.missing)
    commit_time: str | None = None  # the commit's time when the hook says it (GitHub push: head_commit.timestamp)

    @property
    def app(self) -> str:
        return app_name(self.owner, self.repo, self.ref)

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}"

    @property
    def git(self) -> dict[str, str]:
        return {"owner": self.owner, "repo": self.repo, "ref": self.ref, "commit": self.commit}

    def as_record(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "status": self.status,
            "result": self.result,
            "force-deploy": self.force_deploy,
            "source": self.source,
            "received": time.time(),
        }


@dataclass
class Outcome:
    """What applying a hook did: the job it landed on, events to record, whether to process the job."""

    job_id: str | None
    events: list[tuple[str, dict]] = field(default_factory=list)
    process: bool = False
    ignored: str | None = None


def new_job(hook: Hook, commits: list[str]) -> Job:
    now = time.time()
    return {
        "id": uuid.uuid4().hex,
        "app": hook.app,
        "owner": hook.owner,
        "repo": hook.repo,
        "ref": hook.ref,
        "commit": hook.commit,
        "commits": (commits + [hook.commit])[-MAX_COMMITS:],
        "state": State.NEW,
        "created": now,
        "updated": now,
        "hooks": {},
        "force-deploy": False,
        "required": None,
        "config": None,
        "deploy": None,
        "error": None,
        "reason": None,
        "scheduled": None,  # Unix time it became SCHEDULED for its commit
        "hook-check": None,  # what the missing-hook check last learnt (jobs.missing)
        **commit_times(hook, now),
    }


def commit_times(hook: Hook, now: float) -> dict[str, Any]:
    """A new commit's times (docs/delivery-metrics.md): `commit-time` when its hook says it,
    `commit-seen` (Unix) its first hook, the lead time's start when the commit time is unknown."""
    return {"commit-time": hook.commit_time, "commit-seen": now}


def _record(job: Job, hook: Hook) -> bool:
    """Store the hook on the job; False when it changes nothing (a repeated delivery)."""
    old = job["hooks"].get(hook.key)
    record = hook.as_record()
    if hook.commit_time and not job.get("commit-time"):  # a push heard after the commit's first hook
        job["commit-time"] = hook.commit_time
    if old and all(old.get(k) == record[k] for k in ("status", "result", "force-deploy")):
        return False
    job["hooks"][hook.key] = record
    job["force-deploy"] = bool(forcing(job))  # configured hooks only (none before the config loads)
    return True


def apply_hook(job: Job | None, hook: Hook) -> tuple[Job | None, Outcome]:
    """Land a hook on the app's current job, following the commit rules of docs/architecture.md §4.2."""
    details = {"hook": hook.key, "status": hook.status, "source": hook.source}
    if job is None:
        job = new_job(hook, [])
        _record(job, hook)
        return job, Outcome(job["id"], [(Event.NEW_JOB, {}), (Event.HOOK_RECEIVED, details)], process=True)
    if hook.commit == job["commit"]:
        if not _record(job, hook):
            return None, Outcome(job["id"], process=job["state"] in OPEN)
        open_job = job["state"] in OPEN
        if open_job and is_inert(job, hook.key, hook.type):  # kept for the record; it decides nothing
            details = {**details, "reason": NOT_CONFIGURED}
            return job, Outcome(job["id"], [(Event.HOOK_IGNORED, details)], ignored=NOT_CONFIGURED)
        event = Event.HOOK_RECEIVED if open_job else Event.HOOK_IGNORED
        if not open_job:
            details = {**details, "reason": f"job is {job['state']}"}
        return job, Outcome(job["id"], [(event, details)], process=open_job)
    if hook.commit in job["commits"]:
        return None, Outcome(
            job["id"], [(Event.COMMIT_IGNORED, {**details, "current": job["commit"]})], ignored="superseded commit"
        )
    if job["state"] in OPEN:
        previous = job["commit"]
        job.update(
            commit=hook.commit,
            commits=(job["commits"] + [hook.commit])[-MAX_COMMITS:],
            state=State.NEW,
            hooks={},
            required=None,
            config=None,
            error=None,
            reason=None,
            scheduled=None,
            **commit_times(hook, time.time()),
        )
        job["force-deploy"], job["hook-check"] = False, None
        _record(job, hook)
        return job, Outcome(
            job["id"], [(Event.NEW_COMMIT, {"previous": previous}), (Event.HOOK_RECEIVED, details)], process=True
        )
    fresh = new_job(hook, job["commits"])
    _record(fresh, hook)
    return fresh, Outcome(
        fresh["id"], [(Event.NEW_JOB, {"previous-job": job["id"]}), (Event.HOOK_RECEIVED, details)], process=True
    )

"""Land hooks on jobs (atomically, with their events), queue the work, and say what happened."""

from __future__ import annotations

import logging
from typing import Any, cast

from orchestrator import events
from orchestrator.hooks import trigger as hook_trigger
from orchestrator.jobs import freeze, queued
from orchestrator.jobs.atomic import Batch
from orchestrator.jobs.model import Hook, Outcome, apply_hook
from orchestrator.jobs.store import JobStore, app_name
from orchestrator.runtime import Runtime
from orchestrator.states import Event
from totem import metrics
from totem.github import GitRef
from totem.logs import log_context

log = logging.getLogger("orchestrator.hooks")
SERVICE = "orchestrator"
COMMIT_SET = (Event.NEW_JOB, Event.NEW_COMMIT)  # the events of a hook that set its job's commit


def _landing(hook: Hook, trigger: dict | None):
    """apply_hook, and the hook's trigger kept on the job when it set the job's commit."""

    def land(job):
        updated, outcome = apply_hook(job, hook)
        if updated is not None and any(kind in COMMIT_SET for kind, _ in outcome.events):
            updated["trigger"] = trigger or hook_trigger.make(hook.type, hook.source, None, None, None)
        return updated, outcome

    return land


def accept(rt: Runtime, hook: Hook, trigger: dict | None = None) -> dict:
    """Persist the hook on its job, with its events and the job's processing task (unless one is
    queued already: jobs.queued), in one atomic step before answering; the answer for the sender.
    `trigger` (hooks.trigger) names who the hook acts for, kept when the hook sets the job's commit.
    Counted in `totem_hooks_received_total` by type and outcome (accepted, ignored, error)."""
    try:
        answer = _accept(rt, hook, trigger)
    except Exception:
        metrics.hook_received(SERVICE, hook.type, "error")
        raise
    metrics.hook_received(SERVICE, hook.type, answer["status"])
    return answer


def _accept(rt: Runtime, hook: Hook, trigger: dict | None) -> dict:
    if hook.type == "scm-create" and freeze.unfreeze(rt, hook.app):
        events.record(rt, events.make(Event.BRANCH_UNFROZEN, hook.git))
    staged: list[dict] = []

    def effects(outcome: Outcome, batch: Batch) -> None:
        if outcome.process:
            queued.claim(rt, batch, cast(str, outcome.job_id))
        staged[:] = [events.make(kind, hook.git, outcome.job_id, details) for kind, details in outcome.events]
        events.stage(rt, batch, *staged)

    outcome = JobStore(rt).land(hook.app, _landing(hook, trigger), effects)
    ids = {"job_id": outcome.job_id} if outcome.job_id is not None else {}
    with log_context(**ids):
        events.announce(*staged)
    answer: dict[str, Any] = {"status": "ignored" if outcome.ignored else "accepted", "hook": hook.key}
    if outcome.ignored:
        answer["reason"] = outcome.ignored
    if outcome.job_id:
        answer["job"] = {"id": outcome.job_id, "url": f"/jobs/{outcome.job_id}"}
    return answer


def unfreeze(rt: Runtime, ref: GitRef) -> dict:
    app = app_name(ref.owner, ref.repo, ref.ref)
    if freeze.unfreeze(rt, app):
        events.record(rt, events.make(Event.BRANCH_UNFROZEN, ref.as_git()))
    return {"status": "accepted", "action": "unfreeze", "app": app}


def undeploy(rt: Runtime, owner: str, repo: str, ref: str, freeze_branch: bool, trigger: dict | None = None) -> dict:
    """Freeze the branch (when deleted) and queue the undeploy from every deployer; `trigger` names who
    asked (hooks.trigger), for the deployers' audit records."""
    app = app_name(owner, repo, ref)
    git = {"owner": owner, "repo": repo, "ref": ref, "commit": None}
    if freeze_branch:
        freeze.freeze(rt, app)
        events.record(rt, events.make(Event.BRANCH_FROZEN, git, details={"seconds": rt.options.freeze_ttl}))
    rt.enqueue("undeploy", owner, repo, ref, trigger)
    return {"status": "accepted", "action": "undeploy", "app": app}

"""What the worker does with a job: load its config, apply the gate, send the deploy requests.

Every step re-reads the job and changes it atomically, so running a step twice (a redelivered
task, 50 tasks for 50 hooks) never deploys twice: only the task that moves the job from
SCHEDULED to DEPLOYING sends deploy requests (or that same task, redelivered after a crash).
"""

from __future__ import annotations

import logging
import time
from typing import cast

from orchestrator import events, notify
from orchestrator.config import ConfigError, Location, load_config
from orchestrator.config import providers as config_providers
from orchestrator.deploy import client
from orchestrator.deploy.request import RequestError, build, enabled_deployers
from orchestrator.jobs import approval, freeze, queued
from orchestrator.jobs.gate import DEPLOY, FAIL, NOT_CONFIGURED, decide, forcing, required_hooks, unconfigured
from orchestrator.jobs.store import Job, JobStore
from orchestrator.runtime import Runtime
from orchestrator.states import Event, State
from totem.notify import Level

log = logging.getLogger("orchestrator.pipeline")


def location(rt: Runtime, job: Job, commit: str | None) -> Location:
    return Location(rt.settings.env, rt.settings.cluster, job["owner"], job["repo"], job["ref"], commit)


def configure(rt: Runtime, jobs: JobStore, job: Job) -> None:
    """NEW → SCHEDULED (or FAILED for an invalid config, NOOP for disabled/no deployers/frozen)."""
    commit = job["commit"]
    sources: list[str]
    state, config, required, error, reason, sources = State.SCHEDULED, None, None, None, None, []
    if freeze.is_frozen(rt, job["app"]):
        state, reason = State.NOOP, "branch is frozen (deleted recently)"
    else:
        try:
            providers = config_providers.build(rt, rt.settings.config_providers)
            config, sources = load_config(providers, location(rt, job, commit), rt.settings.deployer_url)
        except ConfigError as exc:
            state, error = State.FAILED, exc.as_dict()
        else:
            required = required_hooks(config)
            if not config.get("enabled"):
                state, reason = State.NOOP, "app is disabled"
            elif not enabled_deployers(config):
                state, reason = State.NOOP, "no enabled deployers"

    def change(current: Job):
        if current["state"] != State.NEW or current["commit"] != commit:
            return None, None
        current.update(state=state, config=config, required=required, error=error, reason=reason)
        current["force-deploy"] = bool(forcing(current))  # now that it is known which hooks count
        current["scheduled"] = time.time()  # config loaded: its hooks are waited for from now (jobs.missing)
        return current, current

    def describe(updated: Job) -> list[dict]:
        if state == State.FAILED:
            failure = cast(dict, error)  # State.FAILED is only ever set together with the ConfigError's dict
            invalid = (Event.CONFIG_INVALID, failure)
            return events.of_job(updated, invalid, (Event.JOB_FAILED, {"reason": failure["message"]}))
        if state == State.NOOP:
            return events.of_job(updated, (Event.JOB_NOOP, {"reason": reason}))
        hooks = cast(list[str], required)  # still SCHEDULED: the config loaded and required_hooks ran
        ignored = [(Event.HOOK_IGNORED, {"hook": key, "reason": NOT_CONFIGURED}) for key in unconfigured(updated)]
        return events.of_job(updated, (Event.CONFIG_LOADED, {"sources": sources, "required-hooks": hooks}), *ignored)

    staged = events.Staged(rt, describe)
    updated = jobs.update(job["id"], change, staged)
    if updated is None:
        return
    staged.announce()
    if state == State.FAILED:
        notify.send(rt, updated, Level.FAILED, f"invalid totem.yml: {cast(dict, error)['message']}")
    elif state == State.SCHEDULED:
        hooks = cast(list[str], required)
        notify.send(rt, updated, Level.PENDING, "waiting for " + (", ".join(hooks) or "no hooks"))


def gate(rt: Runtime, jobs: JobStore, job_id: str, task_id: str) -> bool:
    """SCHEDULED → DEPLOYING (True for the one caller that made the move) or → FAILED; or SCHEDULED →
    AWAITING_APPROVAL when the app's approval policy holds it, and → DEPLOYING once it is approved
    (jobs.approval). A required hook failing while the job awaits approval fails it."""

    def change(job: Job):
        if job["state"] not in (State.SCHEDULED, State.AWAITING_APPROVAL):
            return None, None
        decision, hooks = decide(job)
        policy = approval.policy(job["config"], rt.settings.env) if job["state"] == State.SCHEDULED else None
        if decision == FAIL:
            job.update(state=State.FAILED, error={"code": "hook_failed", "message": f"failed: {', '.join(hooks)}"})
        elif decision == DEPLOY and policy is not None:
            approval.request(job, policy)
            decision = approval.HELD
        elif decision == DEPLOY and approval.approved(job):
            passed = job["state"] == State.SCHEDULED  # an approved job's hooks passed before it was held
            job.update(state=State.DEPLOYING, deploy={"task": task_id, "deployers": {}})
            decision = DEPLOY if passed else approval.RELEASED
        else:
            return None, None
        return job, (decision, hooks, job)

    def describe(result) -> list[dict]:
        decision, hooks, job = result
        if decision == FAIL:
            failed = (Event.HOOK_FAILED, {"hooks": hooks})
            return events.of_job(job, failed, (Event.JOB_FAILED, {"reason": job["error"]["message"]}))
        if decision == approval.RELEASED:
            return []
        forced = bool(job.get("force-deploy"))
        passed = events.of_job(job, (Event.HOOKS_PASSED, {"hooks": hooks, "force-deploy": forced}))
        if decision == approval.HELD:
            record = job["approval"]
            asked = {k: record["policy"][k] for k in ("approvers", "timeout", "self-approval", "env")}
            passed += events.of_job(job, (Event.APPROVAL_REQUESTED, {**asked, "deadline": record["deadline"]}))
        return passed

    staged = events.Staged(rt, describe)
    result = jobs.update(job_id, change, staged)
    if result is None:
        return False
    staged.announce()
    decision, hooks, job = result
    if decision == FAIL:
        notify.send(rt, job, Level.FAILED, f"not deployed: {', '.join(hooks)} failed")
        return False
    if decision == approval.HELD:
        approval.announce(rt, job)
        return False
    notify.send(rt, job, Level.STARTED, "deploying to " + ", ".join(enabled_deployers(job["config"])))
    return True


def _save_result(jobs: JobStore, job_id: str, name: str, result: dict) -> None:
    def change(job: Job):
        job["deploy"]["deployers"][name] = result
        return job, None

    jobs.update(job_id, change)


def deploy(rt: Runtime, jobs: JobStore, job_id: str) -> None:
    """Send the request to every enabled deployer not yet answered; then COMPLETE or FAILED."""
    job = jobs.get(job_id)
    if job is None or job["state"] != State.DEPLOYING:
        return
    options = rt.options
    for name, deployer in enabled_deployers(job["config"]).items():
        if name in job["deploy"]["deployers"]:
            continue
        try:
            request = build(job, name, deployer, rt.settings.env, rt.settings.cluster, rt.job_url(job_id))
        except RequestError as exc:
            result = {"ok": False, "status": None, "response": {"error": str(exc)}, "attempts": 0}
        else:
            events.emit(rt, job, (Event.DEPLOY_REQUESTED, {"deployer": name, "url": deployer["url"]}))
            result = client.deploy(
                deployer["url"],
                rt.settings.api_token,
                request,
                f"{job_id}-{name}",
                options.deploy_attempts,
                options.deploy_backoff,
                {**job["trigger"], "job": job_id} if job.get("trigger") else None,  # the deployer audits it
            ).summary()
        _save_result(jobs, job_id, name, result)
        kind = Event.DEPLOY_ACCEPTED if result["ok"] else Event.DEPLOY_REJECTED
        events.emit(rt, job, (kind, {"deployer": name, "status": result["status"], "response": result["response"]}))

    def finish(current: Job):
        if current["state"] != State.DEPLOYING:
            return None, None
        rejected = {n: r for n, r in current["deploy"]["deployers"].items() if not r["ok"]}
        if rejected:
            current.update(
                state=State.FAILED,
                error={
                    "code": "deploy_rejected",
                    "message": "deployer(s) refused: " + ", ".join(sorted(rejected)),
                    "details": rejected,
                },
            )
        else:
            current["state"] = State.COMPLETE
        return current, current

    def describe(final: Job) -> list[dict]:
        if final["state"] == State.COMPLETE:
            return events.of_job(final, (Event.JOB_COMPLETE, {"deployers": sorted(final["deploy"]["deployers"])}))
        return events.of_job(final, (Event.JOB_FAILED, {"reason": final["error"]["message"]}))

    staged = events.Staged(rt, describe)
    final = jobs.update(job_id, finish, staged)
    if final is None:
        return
    staged.announce()
    if final["state"] == State.COMPLETE:
        notify.send(rt, final, Level.SUCCESS, "deploy requested on " + ", ".join(sorted(final["deploy"]["deployers"])))
    else:
        notify.send(rt, final, Level.FAILED, final["error"]["message"])


def process(rt: Runtime, job_id: str, task_id: str) -> str | None:
    """Advance a job as far as it can go now; returns its state."""
    queued.release(rt, job_id)  # before reading the job: a hook landing after this queues a new task
    jobs = JobStore(rt)
    for _ in range(4):
        job = jobs.get(job_id)
        if job is None:
            return None
        if job["state"] == State.NEW:
            configure(rt, jobs, job)
            continue
        if job["state"] in (State.SCHEDULED, State.AWAITING_APPROVAL):
            if not gate(rt, jobs, job_id, task_id):
                return (jobs.get(job_id) or {}).get("state")
            continue
        if job["state"] == State.DEPLOYING and job["deploy"]["task"] == task_id:
            deploy(rt, jobs, job_id)
            continue
        return job["state"]
    return (jobs.get(job_id) or {}).get("state")

"""Undeploy a branch from every deployer that had it (branch deleted, or `DELETE /apps/...`)."""

from __future__ import annotations

from orchestrator import events
from orchestrator.config import ConfigError, Location, load_config
from orchestrator.config import providers as config_providers
from orchestrator.deploy import client
from orchestrator.deploy.request import enabled_deployers
from orchestrator.jobs.store import Job, JobStore, app_name
from orchestrator.runtime import Runtime
from orchestrator.states import OPEN, Event, State


def _deployers(rt: Runtime, job: Job | None, owner: str, repo: str, ref: str) -> dict[str, dict]:
    if job and job.get("config"):
        return enabled_deployers(job["config"])
    where = Location(rt.settings.env, rt.settings.cluster, owner, repo, ref, None)
    config, _ = load_config(config_providers.build(rt, rt.settings.config_providers), where, rt.settings.deployer_url)
    return enabled_deployers(config)


def _close_open_job(job: Job | None):
    if job is None or job["state"] not in OPEN:
        return None, None
    job.update(state=State.NOOP, reason="undeployed")
    return job, job


def undeploy(rt: Runtime, owner: str, repo: str, ref: str, trigger: dict | None = None) -> dict[str, dict]:
    """DELETE <deployer url>/apps/<deployment name> everywhere; results by deployer. `trigger`: who asked
    (the deployers' audit records name it), or that the orchestrator recorded the action already."""
    git = {"owner": owner, "repo": repo, "ref": ref, "commit": None}
    jobs = JobStore(rt)
    closed = jobs.update_current(app_name(owner, repo, ref), _close_open_job)
    if closed:
        events.record(rt, events.make(Event.JOB_NOOP, closed, closed["id"], {"reason": "undeployed"}))
    current_id = jobs.current_id(app_name(owner, repo, ref))
    job = jobs.get(current_id) if current_id else None
    try:
        deployers = _deployers(rt, job, owner, repo, ref)
    except ConfigError as exc:
        events.record(rt, events.make(Event.UNDEPLOY_FAILED, git, details=exc.as_dict()))
        return {}
    results = {}
    for name, deployer in deployers.items():
        app = deployer["deployment"]["name"]
        result = client.undeploy(
            deployer["url"], rt.settings.api_token, app, rt.options.deploy_attempts, rt.options.deploy_backoff, trigger
        ).summary()
        results[name] = result
        kind = Event.UNDEPLOY_REQUESTED if result["ok"] or result["status"] == 404 else Event.UNDEPLOY_FAILED
        events.record(rt, events.make(kind, git, details={"deployer": name, "app": app, "status": result["status"]}))
    return results

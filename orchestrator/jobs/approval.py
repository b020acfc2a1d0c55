"""Approval gates (docs/approvals.md): the policy of a job's totem.yml, who may decide, and the decisions.

The gate (pipeline.gate) holds a job whose hooks passed in AWAITING_APPROVAL when its policy requires
approval. An approval only marks the job approved and queues it: the worker's gate then moves it to
DEPLOYING with its own task id, as for any job, so a commit is still deployed exactly once. A rejection
or a deadline passed fails the job. Each step is one atomic update that re-checks the state, so a
decision after another (or after the deadline) changes nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from orchestrator import approval_links, events, notify
from orchestrator.errors import OrchestratorError
from orchestrator.jobs.store import Job, JobStore
from orchestrator.runtime import Runtime
from orchestrator.states import Event, State
from totem.access.principal import Principal
from totem.access.roles import ROLES, includes
from totem.contracts.deploy_request import duration_seconds
from totem.notify import Level

log = logging.getLogger("orchestrator.approval")
DEFAULTS: dict[str, Any] = {"required": False, "approvers": ["admin"], "timeout": "24h", "self-approval": False}
WAITING, APPROVED, REJECTED, EXPIRED = "waiting", "approved", "rejected", "expired"
HELD, RELEASED = (
    "held",
    "released",
)  # the gate's outcomes besides jobs.gate's: held for approval, released once approved
MAX_NOTE = 500  # characters of a comment or reason kept


class Refused(OrchestratorError):
    """A decision this principal may not make now: (status, code, message)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def policy(config: dict | None, env: str) -> dict | None:
    """The job's policy in environment `env` (`approval`, then `approval.environments.<env>` over it);
    None when no approval is required."""
    block = (config or {}).get("approval") or {}
    chosen = {**DEFAULTS, **{k: v for k, v in block.items() if k in DEFAULTS}}
    override = (block.get("environments") or {}).get(env) or {}
    chosen.update({k: v for k, v in override.items() if k in DEFAULTS})
    if chosen["required"] is not True:
        return None
    seconds = duration_seconds(str(chosen["timeout"]))
    return {
        "approvers": list(chosen["approvers"]),
        "timeout": chosen["timeout"],
        "timeout-s": seconds if seconds is not None else duration_seconds(DEFAULTS["timeout"]),
        "self-approval": chosen["self-approval"] is True,
        "env": env,
    }


def request(job: Job, chosen: dict, now: float | None = None) -> None:
    """Hold the job (inside the gate's atomic change): AWAITING_APPROVAL with its approval record."""
    now = time.time() if now is None else now
    job["state"] = State.AWAITING_APPROVAL
    job["approval"] = {
        "state": WAITING,
        "commit": job["commit"],
        "policy": chosen,
        "requested": now,
        "deadline": now + chosen["timeout-s"],
        "decision": None,
    }


def approved(job: Job) -> bool:
    """Whether the gate may deploy the job: not held, or held and approved for its commit."""
    if job["state"] != State.AWAITING_APPROVAL:
        return True
    record = job.get("approval") or {}
    return record.get("state") == APPROVED and record.get("commit") == job["commit"]


def current(job: Job) -> dict | None:
    """The approval record of the job's commit (a newer commit's job has none until it asks)."""
    record = job.get("approval")
    return record if isinstance(record, dict) and record.get("commit") == job["commit"] else None


def matches(principal: Principal, approvers: list[str]) -> bool:
    """A role name admits that role or higher; any other entry is a token name."""
    return any(includes(principal.role, entry) if entry in ROLES else entry == principal.name for entry in approvers)


def trigger_actor(job: Job) -> str | None:
    actor = (job.get("trigger") or {}).get("actor")
    return actor if isinstance(actor, str) and actor else None


def check_decider(principal: Principal, job: Job) -> None:
    """Refused (403) unless the policy names the principal and allows it to decide its own push."""
    record = current(job)
    if job["state"] != State.AWAITING_APPROVAL or record is None or record["state"] != WAITING:
        raise Refused(409, "not_awaiting_approval", f"job {job['id']} is {job['state']}, not awaiting approval")
    chosen = record["policy"]
    if not matches(principal, chosen["approvers"]):
        raise Refused(403, "not_an_approver", f"token {principal.name} is not among {', '.join(chosen['approvers'])}")
    actor = trigger_actor(job)
    if not chosen["self-approval"] and actor and actor.casefold() == principal.name.casefold():
        raise Refused(403, "self_approval", f"{principal.name} triggered this job and may not decide it")


def decide(rt: Runtime, job_id: str, commit: str, decision: str, by: dict[str, str], note: str | None) -> Job:
    """Approve (then queue the job for the gate) or reject `commit`; the job as written. Refused (409)
    when it no longer awaits a decision on that commit; a deadline passed fails it as expired first."""
    now = time.time()
    text = (note or "")[:MAX_NOTE]

    def change(job: Job):
        record = current(job)
        if job["state"] != State.AWAITING_APPROVAL or record is None or record["state"] != WAITING:
            return None, None
        if record["commit"] != commit:  # a newer commit replaced the one decided on: it asks again
            return None, None
        if now >= record["deadline"]:
            _expire(job, now)
            return job, job
        record["decision"] = {"decision": decision, **by, "at": now, "note": text}
        if decision == "approve":
            record["state"] = APPROVED
        else:
            record["state"] = REJECTED
            message = f"rejected by {by['by']}" + (f": {text}" if text else "")
            job.update(state=State.FAILED, error={"code": "approval_rejected", "message": message})
        return job, job

    written = JobStore(rt).update(job_id, change)
    if written is None:
        raise Refused(409, "not_awaiting_approval", f"job {job_id} no longer awaits approval of {commit[:12]}")
    record = written["approval"]
    if record["state"] == EXPIRED:
        _expired(rt, written)
        raise Refused(409, "approval_expired", f"job {job_id}: the approval deadline has passed")
    details = {"by": by["by"], "note": text}
    if record["state"] == APPROVED:
        events.emit(rt, written, (Event.APPROVED, details))
        try:
            rt.enqueue("process_job", job_id)  # the gate moves it to DEPLOYING
        except Exception:  # noqa: BLE001 - decided and stored: the sweep re-queues an idle open job
            log.warning("job %s approved; queueing it failed, the sweep will", job_id, exc_info=True)
    else:
        error = written["error"]
        events.emit(rt, written, (Event.REJECTED, details), (Event.JOB_FAILED, {"reason": error["message"]}))
        notify.send(rt, written, Level.FAILED, f"not deployed: {error['message']}")
    return written


def _expire(job: Job, now: float) -> None:
    record = job["approval"]
    record.update(state=EXPIRED, decision={"decision": "expire", "by": "deadline", "at": now, "note": ""})
    message = f"not approved within {record['policy']['timeout']}"
    job.update(state=State.FAILED, error={"code": "approval_expired", "message": message})


def _expired(rt: Runtime, job: Job) -> None:
    reason = job["error"]["message"]
    events.emit(
        rt,
        job,
        (Event.APPROVAL_EXPIRED, {"deadline": job["approval"]["deadline"]}),
        (Event.JOB_FAILED, {"reason": reason}),
    )
    notify.send(rt, job, Level.FAILED, f"not deployed: {reason}")


def expire_due(rt: Runtime) -> list[str]:
    """Fail every job still waiting past its deadline (the beat runs this); their ids."""
    jobs = JobStore(rt)
    page, _ = jobs.list({"state": State.AWAITING_APPROVAL}, limit=10**6, offset=0)
    failed = []
    for job in page:
        record = current(job)
        if record is None or record["state"] != WAITING or time.time() < record["deadline"]:
            continue

        def change(found: Job):
            record = current(found)
            now = time.time()
            if found["state"] != State.AWAITING_APPROVAL or record is None or record["state"] != WAITING:
                return None, None
            if now < record["deadline"]:
                return None, None
            _expire(found, now)
            return found, found

        written = jobs.update(job["id"], change)
        if written is not None:
            _expired(rt, written)
            failed.append(job["id"])
    return failed


def announce(rt: Runtime, job: Job) -> None:
    """Tell the job's channels it waits, with signed approve/reject links (not on the public commit
    status: GitHub hears only that it is pending)."""
    record = job["approval"]
    chosen, expires = record["policy"], int(record["deadline"])
    message = f"awaiting approval by {', '.join(chosen['approvers'])} (within {chosen['timeout']})"
    secret = rt.settings.hook_secret
    links = {
        decision: approval_links.link(rt.settings.orchestrator_url, secret, job["id"], job["commit"], decision, expires)
        for decision in approval_links.DECISIONS
        if secret
    }
    fields = {
        "approval": {"approvers": chosen["approvers"], "deadline": expires, **{f"{d}-url": u for d, u in links.items()}}
    }
    actions = tuple((decision.capitalize(), url) for decision, url in links.items())
    notify.send(rt, job, Level.WARN, message, fields=fields, actions=actions, channels=("slack", "webhook"))
    notify.send(rt, job, Level.PENDING, message, channels=("github",))

"""Required hooks that never came, so no job waits in SCHEDULED forever (a hook lost in an outage).

A job still without its builder hook `TOTEM_HOOK_GRACE` s after its config loaded asks the image
factory about the commit's newest build and records what it learns: a finished build becomes the
builder hook it should have sent (source `recovered`), no build (or one that failed only delivering
its hook) becomes a build request, a queued or running one is noted. A job still missing a required
hook `TOTEM_HOOK_DEADLINE` s after its config loaded fails, naming the hook. The beat runs `check`
every `TOTEM_HOOK_CHECK_INTERVAL` s; an event marks each step.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from orchestrator import events, notify
from orchestrator.deploy import builds
from orchestrator.hooks import intake
from orchestrator.jobs.model import Hook
from orchestrator.jobs.store import Job, JobStore
from orchestrator.runtime import Runtime
from orchestrator.states import Event, State
from totem.contracts.build import BuildStatus
from totem.contracts.hook import HookStatus
from totem.notify import Level

log = logging.getLogger("orchestrator.missing")
BUILDER = "builder:image-factory"  # the one hook whose sender the orchestrator can ask about
# image_factory/states.py BuildStatus (a service never imports another): the finished ones, as hooks
FINISHED = {BuildStatus.SUCCEEDED: HookStatus.SUCCESS, BuildStatus.FAILED: HookStatus.FAILED}
GIT = ("owner", "repo", "ref", "commit")


def missing(job: Job) -> list[str]:
    """Required hooks that neither succeeded nor failed yet (absent, or pending)."""
    done = (HookStatus.SUCCESS, HookStatus.FAILED)
    return [key for key in job["required"] or [] if job["hooks"].get(key, {}).get("status") not in done]


def waited(job: Job) -> float:
    return time.time() - (job.get("scheduled") or job["created"])


def check(rt: Runtime) -> list[str]:
    """Look at every SCHEDULED job; the ids of those it acted on."""
    jobs = JobStore(rt)
    page, _ = jobs.list({"state": State.SCHEDULED}, limit=10**6, offset=0)
    acted = []
    for job in page:
        late = missing(job)
        if late and waited(job) >= rt.options.hook_deadline:
            done = expire(rt, jobs, job)
        elif BUILDER in late and waited(job) >= rt.options.hook_grace:
            done = ask_image_factory(rt, jobs, job)
        else:
            continue
        if done:
            acted.append(job["id"])
    return acted


def _rebuild(build: dict[str, Any] | None) -> bool:
    """No build, or one whose image was made but whose hook never got through (rebuilt, it is resent)."""
    if build is None:
        return True
    return build["status"] == BuildStatus.FAILED and any(
        step["name"] == "hook" and step["status"] == BuildStatus.FAILED for step in build.get("steps") or []
    )


def ask_image_factory(rt: Runtime, jobs: JobStore, job: Job) -> bool:
    """Learn what became of the commit's build and act on it; True when it learnt something new."""
    git = {key: job[key] for key in GIT}
    try:
        found = builds.newest(rt.settings.image_factory_url, git)
        requested = _rebuild(found)
        build = (
            builds.request(rt.settings.image_factory_url, rt.settings.api_token, git)
            if requested or found is None
            else found
        )
    except builds.BuildsUnavailable as exc:
        log.warning("job %s: cannot ask the image factory about its build: %s", job["id"], exc)
        return False
    finished = build["status"] in FINISHED  # (a requested one is queued, or a recent success reused)
    learnt = {"build": build["id"], "status": build["status"]}
    noted = _note(jobs, job, learnt)
    if noted is None or not (noted or finished):  # moved on, or nothing new (a finished build: until it lands)
        return False
    details = {"hook": BUILDER, "waited-s": round(waited(job)), "build": build["id"], "build-status": build["status"]}
    steps: list[tuple[str, dict]] = [(Event.HOOK_MISSING, details)]
    if requested:
        steps.append((Event.BUILD_REQUESTED, {"hook": BUILDER, "build": build["id"]}))
    if finished:
        steps.append((Event.HOOK_RECOVERED, {"hook": BUILDER, "build": build["id"], "status": build["status"]}))
    events.emit(rt, job, *steps)
    if finished:
        intake.accept(rt, recovered_hook(build))  # lands on the job as the hook itself would, and queues it
    return True


def _note(jobs: JobStore, job: Job, learnt: dict[str, str]) -> bool | None:
    """Record what was learnt on the job: True when new, False when known, None when the job moved on."""

    def change(current: Job):
        if current["state"] != State.SCHEDULED or current["commit"] != job["commit"]:
            return None, None
        if current.get("hook-check") == learnt:
            return None, False
        current["hook-check"] = learnt
        return current, True

    return jobs.update(job["id"], change)


def recovered_hook(build: dict[str, Any]) -> Hook:
    """The builder hook a finished build sends (image_factory/builder_hook.py), so a late original is a
    repeat that changes nothing."""
    result: dict[str, Any] = {"build": build["id"]}
    if build.get("image"):
        result.update(image=build["image"], images=build.get("images") or [build["image"]])
    if build.get("error"):
        result["error"] = build["error"][-2000:]
    git = {key: build[key] for key in GIT}
    return Hook(
        **git, type="builder", name="image-factory", status=FINISHED[build["status"]], result=result, source="recovered"
    )


def expire(rt: Runtime, jobs: JobStore, job: Job) -> bool:
    """Fail the job if it still misses a required hook; True when it did."""

    def change(current: Job):
        late = missing(current)
        if current["state"] != State.SCHEDULED or current["commit"] != job["commit"] or not late:
            return None, None
        seconds = round(waited(current))
        message = f"no {', '.join(late)} hook {seconds} s after the config loaded"
        current.update(
            state=State.FAILED,
            error={"code": "hook_missing", "message": message, "details": {"hooks": late, "waited-s": seconds}},
        )
        return current, current

    failed = jobs.update(job["id"], change)
    if failed is None:
        return False
    error = failed["error"]
    events.emit(rt, failed, (Event.HOOK_TIMEOUT, error["details"]), (Event.JOB_FAILED, {"reason": error["message"]}))
    notify.send(rt, failed, Level.FAILED, f"not deployed: {error['message']}")
    return True

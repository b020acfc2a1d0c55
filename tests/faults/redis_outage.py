"""Fault: Redis goes down just before a commit is pushed and comes back, empty, ~10 s later (a lost
node without persistence) while the app serves load through the proxy.

The push's GitHub webhooks are sent as the demo's post-receive hook sends them (its sender, its
retries), in a thread: the image factory and the orchestrator answer 503 while Redis is down, the
sender retries until they take the push, and the build, the builder hook and the deploy follow.
Expected: the new commit goes live, the load never sees a failed request, nothing is left waiting.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import requests

from tests.browser.fullstack import SETTLED, FullStack
from tests.faults import FaultOutcome
from tests.load import Load
from tests.private_redis import PrivateRedis
from totem.waiting import WaitTimeout, pause, wait
from totem_demo.github_push import ZERO

FAULT = "redis down during a push"
OPEN_JOBS = ("NEW", "SCHEDULED", "DEPLOYING")
BUSY_BUILDS = ("queued", "running")


def push_during_redis_outage(
    stack: FullStack, redis: PrivateRedis, version: str = "2", down_s: float = 10.0, timeout: float = 180.0
) -> FaultOutcome:
    """Push `version` of the stack's app while `redis` is down for `down_s` s; what the load saw and what
    was left stuck once the commit is live (or `timeout` s passed)."""
    before = list(stack.commits.values())[-1] if stack.commits else ZERO
    answers: dict[str, str] = {}
    with Load(stack.proxy.url("/"), stack.host) as load:
        load.wait_for(20)
        fault_at = time.monotonic()
        redis.stop()
        after = stack.commit(version)  # git alone: no Redis needed
        sender = threading.Thread(target=lambda: answers.update(stack.push_webhooks(before, after)), daemon=True)
        sender.start()
        pause(down_s)
        redis.start()
        sender.join(timeout)
        live = _wait_live(stack, version, after, timeout)
        load.wait_for(20)
    problems = [f"push to {name} answered {answer}" for name, answer in answers.items() if not answer.startswith("2")]
    if not answers:
        problems.append("the push was never delivered")
    if not live:
        problems.append(f"version={version} is not live (the proxy answers {stack.served()!r})")
    return FaultOutcome(FAULT, load.sent, load.failed, load.recovered_after(fault_at), problems + stuck(stack))


def _wait_live(stack: FullStack, version: str, commit: str, timeout: float) -> bool:
    def live() -> bool:
        app = stack.api("deployer", f"/apps/{stack.app}") or {}
        mine = [d for d in app.get("deployments", []) if d["version"] == commit[:12]]
        return bool(mine) and mine[0]["state"] in SETTLED and stack.served() == f"version={version}"

    try:
        return wait(live, timeout, 0.5, what=f"version={version} live", ignoring=(requests.RequestException,))
    except WaitTimeout:
        return False


def stuck(stack: FullStack) -> list[str]:
    """Work left waiting: open jobs of the app (a job waiting on a hook), builds still queued or running,
    deployments that never settled."""
    git = {"owner": stack.owner, "repo": stack.repo}
    problems = []
    jobs = (stack.api("orchestrator", "/jobs?" + urlencode({**git, "ref": stack.ref})) or {}).get("jobs", [])
    for job in jobs:
        if job["state"] in OPEN_JOBS:
            detail = stack.api("orchestrator", f"/jobs/{job['id']}") or {}
            waiting = [h for h in detail.get("required-hooks") or [] if h not in detail.get("hooks", {})]
            problems.append(f"job {job['id'][:8]} {job['state']} (no hook: {', '.join(waiting) or '-'})")
    builds = (stack.api("image_factory", "/builds?" + urlencode(git)) or {}).get("builds", [])
    problems += [f"build {b['id']} {b['status']}" for b in builds if b["status"] in BUSY_BUILDS]
    app = stack.api("deployer", f"/apps/{stack.app}") or {}
    problems += [
        f"deployment {d['version']} {d['state']}" for d in app.get("deployments", []) if d["state"] not in SETTLED
    ]
    return problems

"""What the whole pipeline (a `FullStack`) has left after a fault: the new version live, and no work
stuck (an open job, a busy build, an unsettled deployment)."""

from __future__ import annotations

from urllib.parse import urlencode

import requests

from tests.browser.fullstack import SETTLED, FullStack
from totem.waiting import WaitTimeout, wait

OPEN_JOBS = ("NEW", "SCHEDULED", "DEPLOYING")
BUSY_BUILDS = ("queued", "running")


def wait_live(stack: FullStack, version: str, commit: str, timeout: float) -> bool:
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

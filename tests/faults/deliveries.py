"""Fault: one GitHub push delivered many times at once (a sender's retries racing, a redelivery), to
the image factory and the orchestrator, while the app serves load through the proxy. Expected:
exactly one build, one job and one deployment for the commit; the commit goes live, no request fails.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import requests

from tests.browser.fullstack import SECRET, FullStack
from tests.faults import FaultOutcome
from tests.faults.pipeline import stuck, wait_live
from tests.load import Load
from totem_demo import github_push


def identical_deliveries(stack: FullStack, version: str = "3", copies: int = 30, timeout: float = 180) -> FaultOutcome:
    """`copies` identical signed deliveries of the push of `version`, to both receivers at once."""
    before = list(stack.commits.values())[-1]
    after = stack.commit(version)
    payload = github_push.push_payload(
        stack.git.bare, stack.owner, stack.repo, before, after, f"refs/heads/{stack.ref}"
    )
    body, headers = github_push.signed(SECRET, "push", payload)  # one delivery id for every copy
    urls = [f"{stack.urls[name]}/hooks/github" for name in ("image_factory", "orchestrator")] * copies

    def deliver(url: str) -> int:
        return requests.post(url, data=body, headers=headers, timeout=30).status_code

    with Load(stack.proxy.url("/"), stack.host) as load:
        load.wait_for(20)
        fault_at = time.monotonic()
        with ThreadPoolExecutor(len(urls)) as pool:
            answers = list(pool.map(deliver, urls))
        live = wait_live(stack, version, after, timeout)
        load.wait_for(20)
    problems = [f"{answers.count(code)} deliveries answered {code}" for code in set(answers) if code >= 300]
    if not live:
        problems.append(f"version={version} is not live (the proxy answers {stack.served()!r})")
    problems += _counted(stack, after)
    return FaultOutcome(
        f"{copies} x 2 identical deliveries",
        load.sent,
        load.failed,
        load.recovered_after(fault_at),
        [
            *problems,
            *stuck(stack),
        ],
    )


def _counted(stack: FullStack, commit: str) -> list[str]:
    """Not exactly one build, job and deployment of `commit`."""
    git = {"owner": stack.owner, "repo": stack.repo, "ref": stack.ref}
    builds = (stack.api("image_factory", "/builds?" + urlencode({**git, "commit": commit})) or {}).get("builds", [])
    jobs = (stack.api("orchestrator", "/jobs?" + urlencode(git)) or {}).get("jobs", [])
    jobs = [j for j in jobs if j["commit"] == commit]
    app = stack.api("deployer", f"/apps/{stack.app}") or {}
    deployments = [d for d in app.get("deployments", []) if d["version"] == commit[:12]]
    counts = {"builds": len(builds), "jobs": len(jobs), "deployments": len(deployments)}
    return [f"{count} {what} of the commit, not 1" for what, count in counts.items() if count != 1]

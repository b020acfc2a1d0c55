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

from tests.browser.fullstack import FullStack
from tests.faults import FaultOutcome
from tests.faults.pipeline import stuck, wait_live
from tests.load import Load
from tests.private_redis import PrivateRedis
from totem.waiting import pause
from totem_demo.github_push import ZERO

FAULT = "redis down during a push"


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
        live = wait_live(stack, version, after, timeout)
        load.wait_for(20)
    problems = [f"push to {name} answered {answer}" for name, answer in answers.items() if not answer.startswith("2")]
    if not answers:
        problems.append("the push was never delivered")
    if not live:
        problems.append(f"version={version} is not live (the proxy answers {stack.served()!r})")
    return FaultOutcome(FAULT, load.sent, load.failed, load.recovered_after(fault_at), problems + stuck(stack))

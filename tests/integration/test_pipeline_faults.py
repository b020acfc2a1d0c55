"""Issue #14, faults of the whole pipeline, on a stack of the test's own (tests/browser/fullstack.py)
over a private Redis that the tests stop and restart, with load through the proxy. A push delivered
thirty times at once makes one build, one job and one deployment. While Redis is down the hook routes
answer 503 with Retry-After; a push made then goes live once it is back, with no failed request and
nothing left waiting; and a push whose build never started is built on the orchestrator's request
(the missing-hook check, run by the orchestrator's beat)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser.fullstack import SECRET, FullStack
from tests.faults.deliveries import identical_deliveries
from tests.faults.redis_outage import push_during_redis_outage
from tests.private_redis import PrivateRedis
from totem import signed_post
from totem.waiting import wait
from totem_demo import github_push
from totem_demo.github_push import ZERO

FAST = {"TOTEM_HOOK_GRACE": "3", "TOTEM_HOOK_CHECK_INTERVAL": "1"}  # the missing-hook check, quickly


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(private_redis):
    stack = FullStack(redis_url=private_redis.url(), env=FAST)
    try:
        yield stack.start()
    finally:
        stack.stop()


def job_of(stack: FullStack, commit: str) -> dict:
    def found():
        query = urlencode({"owner": stack.owner, "repo": stack.repo, "ref": stack.ref})
        jobs = (stack.api("orchestrator", f"/jobs?{query}") or {}).get("jobs", [])
        return next((job for job in jobs if job["commit"] == commit), None)

    return wait(found, 30, 0.2, what=f"the job of {commit[:12]}")


def test_a_push_whose_build_never_started_is_built_on_the_orchestrators_request(stack):
    sha = stack.commit("1")
    answers = stack.push_webhooks(ZERO, sha, to=("orchestrator",))  # the image factory never hears of it
    assert answers == {"orchestrator": "202"}
    stack.wait_version(sha[:12])
    job = stack.api("orchestrator", f"/jobs/{job_of(stack, sha)['id']}")
    assert job is not None and job["state"] == "COMPLETE", job
    types = [event["type"] for event in job["events"]]
    assert types.index("HOOK_MISSING") < types.index("BUILD_REQUESTED") < types.index("JOB_COMPLETE"), types
    assert job["hooks"]["builder:image-factory"]["source"] == "generic"  # the build's own hook, sent as usual
    assert stack.served() == "version=1"


def test_the_github_hook_routes_answer_503_with_retry_after_while_redis_is_down(stack, private_redis):
    head = stack.commits.get("1") or stack.commit("1")
    payload = github_push.push_payload(stack.git.bare, stack.owner, stack.repo, ZERO, head, f"refs/heads/{stack.ref}")
    private_redis.stop()
    try:
        for service in ("image_factory", "orchestrator"):
            body, headers = github_push.signed(SECRET, "push", payload)
            answer = signed_post.post(f"{stack.urls[service]}/hooks/github", body, headers)  # one try
            assert answer.status_code == 503, (service, answer.status_code, answer.text)
            assert answer.headers["Retry-After"] == "5" and answer.json()["error"]["code"] == "unavailable"
    finally:
        private_redis.start()


def test_a_push_while_redis_is_down_goes_live_with_no_failed_request_and_nothing_stuck(stack, private_redis):
    if stack.served() != "version=1":
        stack.deploy("1")
    restarted = len(stack.restarted)
    outcome = push_during_redis_outage(stack, private_redis, "2")
    print(outcome.line(), f"(restarted by the supervisor: {', '.join(stack.restarted[restarted:]) or 'none'})")
    assert outcome.failed == 0 and outcome.stuck == [], f"{outcome.line()}\n{stack.logs()}"


def test_a_push_delivered_thirty_times_at_once_is_built_and_deployed_once(stack):
    if not stack.commits:
        stack.deploy("1")
    outcome = identical_deliveries(stack, "3")
    print(outcome.line())
    assert outcome.failed == 0 and outcome.stuck == [], f"{outcome.line()}\n{stack.logs()}"

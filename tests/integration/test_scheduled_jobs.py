"""Scheduled jobs through the real deployer (Celery worker with its beat, etcd, Redis, Docker,
yoda-discover): a busybox job with `schedule: "*:0/1"` on `docker` runs at least twice, each run's
exit code and output recorded and shown in GET /apps/<name>; a variant on a 20-second schedule
exits 3; neither is ever wired into the proxy (its request's proxy hosts are ignored), discovered,
or left running. On a single-node Swarm, a run is a one-off `replicated-job` service; on fleet the
timer units still run it.

2015: scheduled jobs existed on fleet only (systemd timers); a `schedule` sent to any other
scheduler was stored and ignored.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from deployer import fleet_units, job_runs
from deployer.lifecycle import Lifecycle
from deployer.openapi import document
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.deployer.private_swarm import PrivateSwarm
from tests.integration.test_deployer_fleet import ctx, fleet, record_for  # noqa: F401  (ctx, fleet: fixtures)
from tests.openapi_contract import check_answer
from totem.contracts import yoda
from totem.contracts.labels import DEPLOYMENT, RUN, selector
from totem.waiting import WaitTimeout, wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client

JOB_IMAGE = "totem-test/deployer-job:1"
# prints a line naming itself, then exits with EXIT_CODE (no shell built from input: the image's own)
DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
ENTRYPOINT ["/bin/busybox", "sh", "-c", "echo \\"job $JOB_NAME ran\\"; exit ${EXIT_CODE:-0}"]
"""


def build_job_image(client) -> str:
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(DOCKERFILE)
        shutil.copy("/bin/busybox", Path(context) / "busybox")
        client.images.build(path=context, tag=JOB_IMAGE, rm=True, network_mode="host")
    return JOB_IMAGE


def job_request(app: str, schedule: str, exit_code: int) -> dict:
    request = deploy_request(app, "v1", JOB_IMAGE, f"{app}.localhost", nodes=1)
    request["schedule"] = schedule
    request["environment"] = {"JOB_NAME": app, "EXIT_CODE": str(exit_code)}
    return request


def deploy_job(stack: DeployerStack, request: dict) -> dict:
    answer = stack.deploy(request)
    assert answer.status_code == 202, answer.get_json()
    record = stack.wait_finished(answer.get_json()["deployment"]["id"], timeout=60)
    assert record["state"] == "PROMOTED", record.get("error")
    return record


def wait_runs(stack: DeployerStack, app: str, count: int, timeout: float) -> dict:
    """GET /apps/<app>'s schedule once `count` runs have finished (exit code recorded)."""

    def finished():
        schedule = check_answer(stack.app, document(), stack.client.get(f"/apps/{app}"))["schedule"]
        done = [r for r in schedule["runs"] if r["exit_code"] is not None]
        return schedule if len(done) >= count else None

    try:
        return wait(finished, timeout, 0.5, what=f"{count} runs of {app}")
    except WaitTimeout:
        shown = stack.client.get(f"/apps/{app}").get_json()["schedule"]
        raise AssertionError(f"{app}: {shown}\n{stack.logs()}") from None


def assert_never_wired(stack: DeployerStack, record: dict) -> None:
    assert stack.store.list(yoda.hosts_prefix(stack.base.rstrip("/") + "/")) == {}
    assert stack.store.list(yoda.upstream_prefix(stack.base.rstrip("/") + "/", record["upstream"])) == {}
    events = [e["type"] for e in record["timeline"]]
    assert "JOB_SCHEDULED" in events and not {"INSTANCES_STARTED", "NODES_DISCOVERED", "WIRED"} & set(events)


@pytest.fixture(scope="module")
def stack(docker_client):
    build_job_image(docker_client)
    stack = DeployerStack(docker_client, with_proxy=False).start()
    yield stack
    stack.stop()


def test_a_job_every_minute_runs_twice_with_its_exit_codes(stack, docker_client):
    minutely, fast = f"job-{uuid.uuid4().hex[:6]}", f"job-{uuid.uuid4().hex[:6]}"
    refused = stack.deploy(job_request(minutely, "*:99", 0))
    assert check_answer(stack.app, document(), refused)["error"]["details"]["errors"][0]["path"] == "body.schedule"
    assert refused.status_code == 400 and "minute 99 is out of range" in refused.get_json()["error"]["message"]
    every_minute = deploy_job(stack, job_request(minutely, "*:0/1", 0))
    every_20s = deploy_job(stack, job_request(fast, "*:*:0/20", 3))  # its proxy hosts are in the request
    assert "ignored" in [e for e in every_20s["timeline"] if e["type"] == "JOB_SCHEDULED"][0]["details"]["proxy"]

    failing = wait_runs(stack, fast, 2, 90)
    schedule = wait_runs(stack, minutely, 2, 150)

    assert schedule["schedule"] == "*:0/1" and schedule["runner"] == "deployer" and schedule["next"]
    runs = [r for r in schedule["runs"] if r["exit_code"] is not None]
    assert [r["status"] for r in runs[:2]] == ["succeeded", "succeeded"]
    assert all(r["exit_code"] == 0 and f"job {minutely} ran" in r["output"] for r in runs)
    assert all(r["scheduled"].endswith(":00Z") for r in runs)  # at second 0 of a minute
    assert runs[0]["scheduled"] != runs[1]["scheduled"]
    ran = [r for r in failing["runs"] if r["exit_code"] is not None]
    assert all(r["status"] == "failed" and r["exit_code"] == 3 and f"job {fast} ran" in r["output"] for r in ran)

    for record in (every_minute, every_20s):
        assert_never_wired(stack, stack.deployment(record["id"]))
        assert stack.deployment(record["id"])["instances"] == {}

        def containers(deployment: str = record["id"]) -> list:
            return docker_client.containers.list(all=True, filters={"label": selector(DEPLOYMENT, deployment)})

        assert [c.name for c in containers() if RUN not in c.labels] == []  # no long-running instance
        wait(lambda: containers() == [], 15, what="every run's container removed")  # (one may be running now)


@pytest.fixture(scope="module")
def swarm():
    swarm = PrivateSwarm().start()
    yield swarm
    swarm.stop()


def test_a_job_on_swarm_runs_as_a_one_off_service(swarm):
    build_job_image(swarm.client)
    stack = DeployerStack(swarm.client, with_proxy=False, scheduler="swarm", swarm_host=swarm.socket).start()
    try:
        app = f"job-{uuid.uuid4().hex[:6]}"
        record = deploy_job(stack, job_request(app, "*:*:0/20", 3))
        schedule = wait_runs(stack, app, 1, 90)
        run = next(r for r in schedule["runs"] if r["exit_code"] is not None)
        assert run["status"] == "failed" and run["exit_code"] == 3 and f"job {app} ran" in run["output"]
        assert run["host"] == "127.0.0.1"  # the node it ran on
        assert_never_wired(stack, stack.deployment(record["id"]))
        services = swarm.client.services.list(filters={"label": selector(DEPLOYMENT, record["id"])})
        assert [s for s in services if RUN not in s.attrs["Spec"]["Labels"]] == []  # no long-running service
    finally:
        stack.stop()


def test_a_job_on_fleet_is_its_timer_units(ctx, fleet):  # noqa: F811  (the imported fixtures)
    """fleet keeps 2015's flow: timer units start the app units; the deployer's beat runs nothing."""
    app = f"job-{uuid.uuid4().hex[:6]}"
    record = record_for(ctx, app, "v1", schedule="*:0/1")
    lock = ctx.store.lock(f"deployer/{app}", ttl=10)
    with lock:
        result = Lifecycle(ctx, lock).run(record["id"])
    assert result["state"] == "PROMOTED", result.get("error")
    assert "JOB_SCHEDULED" in [e["type"] for e in result["events"]]
    names = fleet_units.unit_names(result)
    assert all(fleet.units[n]["desiredState"] == "launched" for n in names["timer"])
    assert all(fleet.units[n]["desiredState"] == "loaded" for n in names["app"])  # the timer starts it
    assert ctx.store.list(yoda.hosts_prefix(ctx.yoda)) == {}
    assert job_runs.due_runs(ctx) == []
    assert job_runs.view(ctx, result)["runner"] == "systemd timers (fleet)"

"""Canary rollouts and the preview gate through a real yoda-proxy/HAProxy, Prometheus scraping it,
Docker containers and yoda-discover: a good canary walks its steps and is promoted; a canary
answering 50 % 5xx and a slow one are aborted at their first step, with the failing check in the
timeline and the stable version answering everything afterwards; a manual step waits for promote;
an abort from the API ends a rollout; a preview host serves the new version before the switch."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.prometheus import PrivatePrometheus
from tests.load import Load
from totem.net import free_port
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client

STEPS = [{"weight": 5, "pause": "2s"}, {"weight": 25, "pause": "2s"}, {"weight": 50, "pause": "2s"}]


@pytest.fixture(scope="module")
def stack(docker_client, tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack = DeployerStack(docker_client, drain=0.5, discover_timeout=8.0, environment={"TOTEM_PROMETHEUS_URL": url})
    stack.start()
    prometheus = PrivatePrometheus([f"127.0.0.1:{stack.proxy.admin}"], tmp_path_factory.mktemp("prometheus"))
    prometheus.port = port
    stack.prometheus = prometheus.start()
    prometheus.wait_up()
    yield stack
    prometheus.stop()
    stack.stop()


@pytest.fixture(scope="module")
def app_images(docker_client):
    return {
        "v1": images.build(docker_client, "v1"),
        "v2": images.build(docker_client, "v2"),
        "bad": images.build(docker_client, "bad", behaviour="errors"),
        "slow": images.build(docker_client, "slow", behaviour="slow"),
    }


def canary_request(app: str, version: str, image: str, host: str, steps=STEPS, **deployment) -> dict:
    request = deploy_request(app, version, image, host, mode="canary", nodes=1, **deployment)
    request["deployment"]["check"]["min-nodes"] = 1
    request["deployment"]["canary"] = {"steps": steps, "min-requests": 5, **request["deployment"].get("canary", {})}
    return request


def live_v1(stack: DeployerStack, app: str, image: str, host: str) -> str:
    """v1 promoted (a canary with nothing stable to compare with switches at once)."""
    answer = stack.deploy(canary_request(app, "v1", image, host))
    record = stack.wait_finished(answer.get_json()["deployment"]["id"])
    assert record["state"] == "PROMOTED", record
    assert any(e["type"] == "ROLLOUT_COMPLETE" and "skipped" in e["details"] for e in record["timeline"])
    return record["id"]


def events(record: dict, kind: str) -> list[dict]:
    return [e["details"] for e in record["timeline"] if e["type"] == kind]


def app_view(stack: DeployerStack, app: str) -> dict:
    return stack.client.get(f"/apps/{app}").get_json()


def wait_phase(stack: DeployerStack, app: str, phase: str, timeout: float = 60) -> dict:
    def reached():
        rollout = app_view(stack, app)["rollout"]
        return rollout if rollout and rollout["phase"] == phase else None

    return wait(reached, timeout, 0.2, what=f"{app} rollout {phase}")


def test_good_canary_walks_every_step_and_is_promoted(stack, app_images):
    app = f"cg-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    live_v1(stack, app, app_images["v1"], host)
    with Load(stack.proxy.url(), host) as load:
        answer = stack.deploy(canary_request(app, "v2", app_images["v2"], host))
        record = stack.wait_finished(answer.get_json()["deployment"]["id"], timeout=120)
    assert record["state"] == "PROMOTED", (record.get("error"), stack.logs())
    assert [d["weight"] for d in events(record, "CANARY_WEIGHT_SET")] == [5, 25, 50]
    passed = events(record, "ANALYSIS_PASSED")
    assert [d["weight"] for d in passed] == [5, 25, 50]
    assert all(r["ok"] for d in passed for r in d["results"]), passed
    assert {r["name"] for r in passed[0]["results"]} >= {"error-rate", "latency"}
    kinds = [e["type"] for e in record["timeline"]]
    assert kinds.index("ROLLOUT_COMPLETE") < kinds.index("WIRED") < kinds.index("DEPLOYMENT_PROMOTED")
    assert load.failed == 0, load.errors()
    assert {"version=v1", "version=v2"} <= set(load.bodies)  # both served during the rollout
    assert stack.get(host).text.strip() == "version=v2"
    rollout = app_view(stack, app)["rollout"]
    assert rollout["phase"] == "promoted" and rollout["weight"] == 100
    assert rollout["samples"] and rollout["analysis"]


@pytest.mark.parametrize(
    ("image", "check"),
    [("bad", "error-rate"), ("slow", "latency")],
)
def test_bad_canary_is_aborted_at_its_first_step(stack, app_images, image, check):
    app = f"cb-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    v1 = live_v1(stack, app, app_images["v1"], host)
    steps = [{"weight": 25, "pause": "30s"}, {"weight": 50, "pause": "30s"}]
    with Load(stack.proxy.url(), host) as load:
        answer = stack.deploy(canary_request(app, "v2", app_images[image], host, steps=steps))
        record = stack.wait_finished(answer.get_json()["deployment"]["id"], timeout=120)
        ended = time.monotonic()
        after = load.sent
        wait(lambda: load.sent > after + 50, 30, 0.05, what="requests after the abort")
    assert record["state"] == "FAILED", record
    passed = events(record, "ANALYSIS_PASSED")
    assert [d["weight"] for d in events(record, "CANARY_WEIGHT_SET")] == [25], passed  # never reached 50
    failed = events(record, "ANALYSIS_FAILED")
    assert len(failed) == 1 and failed[0]["step"] == 0
    bad = {r["name"]: r for r in failed[0]["failed"]}
    assert check in bad, failed
    assert bad[check]["value"] > bad[check]["max"] and bad[check]["query"]
    assert check in record["error"] and bad[check]["query"] in record["error"]
    assert [f for f in load.failures if f[0] > ended] == []  # the stable version answers everything
    assert stack.get(host).text.strip() == "version=v1"
    assert stack.deployment(v1)["state"] == "PROMOTED"
    assert not stack.containers(app=app, version="v2")  # the canary is gone
    assert app_view(stack, app)["rollout"]["phase"] == "aborted"


def test_manual_step_waits_for_promote(stack, app_images):
    app = f"cm-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    live_v1(stack, app, app_images["v1"], host)
    steps = [{"weight": 10, "pause": "manual"}, {"weight": 50, "pause": "1s"}]
    with Load(stack.proxy.url(), host):
        answer = stack.deploy(canary_request(app, "v2", app_images["v2"], host, steps=steps))
        deployment = answer.get_json()["deployment"]["id"]
        waiting = wait_phase(stack, app, "awaiting-promote")
        assert waiting["step"] == 0 and waiting["weight"] == 10
        assert stack.client.post(f"/apps/{app}/promote", json={}).status_code == 401  # the write token
        # it keeps waiting, judged all along (a sample a tick): nothing but a promote moves it on
        wait(lambda: len(app_view(stack, app)["rollout"]["samples"]) >= 3, 30, 0.2, what="three samples")
        assert app_view(stack, app)["rollout"]["phase"] == "awaiting-promote"
        assert stack.deployment(deployment)["state"] == "STARTED"
        promoted = stack.client.post(f"/apps/{app}/promote", json={}, headers=stack.headers())
        assert promoted.status_code == 202, promoted.get_json()
        record = stack.wait_finished(deployment, timeout=60)
    assert record["state"] == "PROMOTED", record
    assert events(record, "ANALYSIS_PASSED")[0]["promoted-by"] == "operator"
    assert [d["weight"] for d in events(record, "CANARY_WEIGHT_SET")] == [10, 50]
    nothing = stack.client.post(f"/apps/{app}/promote", json={}, headers=stack.headers())
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "nothing_to_promote"


def test_abort_from_the_api_ends_the_rollout(stack, app_images):
    app = f"ca-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    live_v1(stack, app, app_images["v1"], host)
    answer = stack.deploy(canary_request(app, "v2", app_images["v2"], host, steps=[{"weight": 50, "pause": "manual"}]))
    deployment = answer.get_json()["deployment"]["id"]
    wait_phase(stack, app, "awaiting-promote")
    bad = stack.client.post(f"/apps/{app}/abort", json={"reason": 5}, headers=stack.headers())
    assert bad.status_code == 400
    aborted = stack.client.post(f"/apps/{app}/abort", json={"reason": "wrong build"}, headers=stack.headers())
    assert aborted.status_code == 202, aborted.get_json()
    record = stack.wait_finished(deployment, timeout=60)
    assert record["state"] == "FAILED" and "wrong build" in record["error"], record
    assert stack.get(host).text.strip() == "version=v1"
    again = stack.client.post(f"/apps/{app}/abort", json={}, headers=stack.headers())
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_abort"


def test_preview_host_serves_the_new_version_before_the_switch(stack, app_images):
    app = f"cp-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    live_v1(stack, app, app_images["v1"], host)
    request = deploy_request(app, "v2", app_images["v2"], host, nodes=1, preview={"enabled": True, "gate": "manual"})
    request["deployment"]["check"]["min-nodes"] = 1
    deployment = stack.deploy(request).get_json()["deployment"]["id"]
    waiting = wait_phase(stack, app, "awaiting-promote")
    assert waiting["preview"] == {"hosts": [f"preview.{host}"]}
    assert stack.get(f"preview.{host}").text.strip() == "version=v2"
    assert stack.get(host).text.strip() == "version=v1"
    assert stack.client.post(f"/apps/{app}/promote", json={}, headers=stack.headers()).status_code == 202
    record = stack.wait_finished(deployment, timeout=60)
    assert record["state"] == "PROMOTED", record
    assert stack.get(host).text.strip() == "version=v2"
    assert stack.get(f"preview.{host}").status_code == 404  # the preview host is gone with the switch

"""The `docker` scheduler on two real engines, as two hosts of their own address on this machine (the
stack's at 127.0.0.1, a private one at 127.0.0.2, each with its own yoda-discover): instances spread
over both; the private engine stopped → every operation still answers, the reconcile moves its
instances onto the engine that answers (new ports reserved there, the old ones freed), and a new
deployment skips it and says so."""

from __future__ import annotations

import dataclasses
import sys
import uuid

import pytest

from deployer import gating
from deployer.context import Context
from deployer.states import Event
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, Process, deploy_request
from tests.private_docker import PrivateDocker
from tests.support import discover_watch_args
from totem.contracts.labels import DEPLOYMENT, selector
from totem.net import free_port
from totem.settings import Settings
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client
SHARED = Settings.from_env().docker_host
SECOND = "127.0.0.2"  # loopback too: each host's yoda-discover owns the endpoints of its own address


class SecondHost(PrivateDocker):
    """A private engine that also listens on tcp://127.0.0.2:<port> (plain: loopback)."""

    def __init__(self):
        super().__init__()
        self.url = f"tcp://{SECOND}:{free_port()}"
        self.service = dataclasses.replace(self.service, argv=(*self.service.argv, "-H", self.url))


@pytest.fixture(scope="module")
def engine(docker_client):
    engine = SecondHost().start()
    tag = images.build(docker_client, "v1")  # saved under this tag, whatever other tags the image has
    engine.client.images.load(b"".join(docker_client.images.get(tag).save(named=tag)))
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def stack(docker_client, engine):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TOTEM_DOCKER_HOSTS", f"{SHARED},{engine.url}")
        stack = DeployerStack(docker_client, drain=1.0, reconcile_interval=1.0)
    yield stack.start()
    stack.stop()


@pytest.fixture(scope="module")
def sidekick(stack, engine):
    """The private engine's own yoda-discover, as every host runs one."""
    watch = discover_watch_args(stack.settings.etcd_url, stack.base, stack.cluster)
    argv = [sys.executable, "-m", "yoda_discover", *watch, "--docker-host", engine.url, "--host-ip", SECOND]
    process = Process(argv, stack.env, stack.work / "discover-private.log").start()
    yield process
    process.stop()


def deployed(stack: DeployerStack, tag: str = "v1") -> dict:
    app = f"mh-{uuid.uuid4().hex[:8]}"
    request = deploy_request(app, "v1", images.REPOSITORY + ":" + tag, f"{app}.localhost")
    record = stack.wait_finished(stack.deploy(request).get_json()["deployment"]["id"], timeout=120)
    assert record["state"] == "PROMOTED", stack.logs()
    return record


def running(client, deployment: str) -> list[str]:
    return sorted(c.name for c in client.containers.list(filters={"label": selector(DEPLOYMENT, deployment)}))


def event(record: dict, kind: str) -> dict | None:
    return next((e["details"] for e in record["timeline"] if e["type"] == kind), None)


def test_instances_spread_over_both_engines(stack, sidekick, engine, docker_client):
    record = deployed(stack)
    hosts = {node: where["host"] for node, where in record["instances"].items()}
    assert sorted(hosts.values()) == sorted([SHARED, engine.url])
    assert sorted(w["address"] for w in record["instances"].values()) == ["127.0.0.1", SECOND]
    assert running(docker_client, record["id"]) == [n for n, h in hosts.items() if h == SHARED]
    assert running(engine.client, record["id"]) == [n for n, h in hosts.items() if h == engine.url]
    assert "skipped" not in event(record, Event.INSTANCES_STARTED)
    assert stack.get(f"{record['app']}.localhost").text.strip() == "version=v1"


def test_a_stopped_engine_is_skipped_and_its_instances_move(stack, sidekick, engine, docker_client):
    before = deployed(stack)
    (stranded, where) = next((n, w) for n, w in before["instances"].items() if w["host"] == engine.url)
    ctx = Context(stack.settings, stack.options)

    sidekick.kill()  # a host that dies takes its sidekick with it
    engine.process.terminate()
    engine.process.wait(60)

    scheduler = ctx.scheduler("docker")  # every operation answers, the stopped engine skipped
    assert scheduler.unavailable() == [f"{engine.url} (not answering)"]
    assert [i.host for i in scheduler.status(before)] == [SHARED]
    assert {i.host for i in scheduler.instances(before["app"])} == {SHARED}

    def moved() -> dict | None:
        record = stack.deployment(before["id"])
        return record if event(record, Event.INSTANCE_MOVED) else None  # noted once the reconcile is done

    after = wait(moved, 60, 0.5, what="the reconcile moving the stranded instance")
    assert event(after, Event.INSTANCE_MOVED)["moved"] == {stranded: f"{engine.url} -> {SHARED}"}
    assert {w["host"] for w in after["instances"].values()} == {SHARED}
    assert ctx.ports.holder(engine.url, where["port"]) is None  # the dead host's reservation freed
    new = after["instances"][stranded]
    assert ctx.ports.holder(SHARED, new["port"]) == stranded
    wait(lambda: running(docker_client, before["id"]) == sorted(before["instances"]), 60, 0.5, what="both running")
    expected = {n: f"{w['address']}:{w['port']}" for n, w in after["instances"].items()}
    wait(lambda: gating.endpoints(stack.store, ctx.yoda, after) == expected, 30, 0.3, what="re-registered")
    assert stack.get(f"{before['app']}.localhost").text.strip() == "version=v1"

    record = deployed(stack)  # a new deployment: only the engine that answers, and it says so
    assert {w["host"] for w in record["instances"].values()} == {SHARED}
    assert event(record, Event.INSTANCES_STARTED)["skipped"] == [f"{engine.url} (not answering)"]

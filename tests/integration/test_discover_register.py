"""`yoda-discover register <container>`: the per-instance sidekick, run as a real process."""

from __future__ import annotations

import signal
import subprocess
import uuid

import pytest

from tests.images import busybox_httpd
from totem.contracts import yoda
from totem.net import free_port
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]


@pytest.fixture
def sidekick(discover_cli):
    def start(container: str, *extra: str) -> subprocess.Popen:
        return discover_cli("register", container, "--interval", "0.2", "--ttl", "60", *extra)

    return start


def test_registers_and_deregisters_on_sigterm(yoda_store, yoda_base, apps, sidekick):
    port = free_port()
    container = apps.start("side-1-80", "side-a", port)
    process = sidekick(container.name)
    key = yoda.endpoint_key(yoda_base, "side-1-80", "side-a")
    assert wait(lambda: yoda_store.get(key), timeout=10) == f"127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert yoda_store.get(key) is None


def test_deregisters_on_sigint(yoda_store, yoda_base, apps, sidekick):
    container = apps.start("side-1-80", "side-b", free_port())
    process = sidekick(container.id)
    key = yoda.endpoint_key(yoda_base, "side-1-80", "side-b")
    wait(lambda: yoda_store.get(key), timeout=10)
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert yoda_store.get(key) is None


def test_deregisters_and_exits_when_the_container_is_killed(yoda_store, yoda_base, apps, sidekick):
    container = apps.start("side-1-80", "side-c", free_port())
    process = sidekick(container.name)
    key = yoda.endpoint_key(yoda_base, "side-1-80", "side-c")
    wait(lambda: yoda_store.get(key), timeout=10)
    container.kill()
    assert process.wait(10) == 0
    assert yoda_store.get(key) is None


def test_unhealthy_container_is_not_registered_until_healthy(yoda_store, yoda_base, apps, sidekick):
    container = apps.start("side-1-80", "side-d", free_port(), healthy=False)
    sidekick(container.name)
    key = yoda.endpoint_key(yoda_base, "side-1-80", "side-d")
    wait(lambda: busybox_httpd.health_requests(container) >= 4, timeout=10)  # checked, and failed
    assert yoda_store.get(key) is None
    busybox_httpd.set_healthy(container, True)
    assert wait(lambda: yoda_store.get(key), timeout=10)


def test_unknown_container_fails(sidekick):
    process = sidekick(f"no-such-{uuid.uuid4().hex[:8]}", "--wait", "0.5")
    assert process.wait(10) == 1


def test_container_without_labels_fails(docker_client, apps, sidekick):
    bare = busybox_httpd.run(docker_client, free_port(), {"totem.test": apps.tag})
    apps.started.append(bare)
    assert sidekick(bare.name).wait(10) == 1

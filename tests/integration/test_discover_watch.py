"""`yoda-discover watch` against real Docker containers and the real etcd."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.images import busybox_httpd
from totem.contracts import yoda
from totem.contracts.labels import NODE, PORT, UPSTREAM
from totem.net import free_port
from totem.waiting import wait
from yoda_discover.docker_watcher import DockerWatcher
from yoda_discover.registrar import CheckPolicy

pytest_plugins = ["tests.images.fixtures"]

# A long TTL: an endpoint that goes away quickly was removed by discovery, not by lease expiry.
POLICY = CheckPolicy(interval=0.2, timeout=1.0, fall=3, ttl=60)


@pytest.fixture
def watcher(yoda_store, docker_client, yoda_base, apps):
    started = []

    def start(resync: float = 30.0) -> DockerWatcher:
        selectors = (f"totem.test={apps.tag}",)
        watcher = DockerWatcher(yoda_store, docker_client, yoda_base, "127.0.0.1", POLICY, resync, selectors)
        started.append(watcher.start())
        assert watcher.wait_ready(10)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


def endpoint(yoda_store, yoda_base, upstream, node):
    return yoda_store.get(yoda.endpoint_key(yoda_base, upstream, node))


def test_registers_a_healthy_container(yoda_store, yoda_base, apps, watcher):
    watcher()
    port = free_port()
    apps.start("hello-1-80", "hello-a", port)
    assert wait(lambda: endpoint(yoda_store, yoda_base, "hello-1-80", "hello-a"), timeout=10) == f"127.0.0.1:{port}"


def test_tcp_check_when_no_health_path(yoda_store, yoda_base, apps, watcher):
    watcher()
    port = free_port()
    apps.start("tcp-1-80", "tcp-a", port, health=None)
    assert wait(lambda: endpoint(yoda_store, yoda_base, "tcp-1-80", "tcp-a"), timeout=10) == f"127.0.0.1:{port}"


def test_not_registered_while_unhealthy_then_registered_once_healthy(yoda_store, yoda_base, apps, watcher):
    running = watcher()
    container = apps.start("sick-1-80", "sick-a", free_port(), healthy=False)
    registration = wait(lambda: running.registrations.get(container.id), timeout=10)
    wait(lambda: registration.failures >= POLICY.fall, timeout=10)
    assert endpoint(yoda_store, yoda_base, "sick-1-80", "sick-a") is None
    busybox_httpd.set_healthy(container, True)
    assert wait(lambda: endpoint(yoda_store, yoda_base, "sick-1-80", "sick-a"), timeout=10)


def test_removed_on_docker_kill(yoda_store, yoda_base, apps, watcher):
    watcher()
    container = apps.start("kill-1-80", "kill-a", free_port())
    wait(lambda: endpoint(yoda_store, yoda_base, "kill-1-80", "kill-a"), timeout=10)
    container.kill()
    wait(lambda: endpoint(yoda_store, yoda_base, "kill-1-80", "kill-a") is None, timeout=10)


def test_removed_on_docker_stop(yoda_store, yoda_base, apps, watcher):
    watcher()
    container = apps.start("stop-1-80", "stop-a", free_port())
    wait(lambda: endpoint(yoda_store, yoda_base, "stop-1-80", "stop-a"), timeout=10)
    container.stop(timeout=1)
    wait(lambda: endpoint(yoda_store, yoda_base, "stop-1-80", "stop-a") is None, timeout=10)


def test_removed_after_failed_checks_and_back_when_healthy(yoda_store, yoda_base, apps, watcher):
    watcher()
    container = apps.start("flap-1-80", "flap-a", free_port())
    wait(lambda: endpoint(yoda_store, yoda_base, "flap-1-80", "flap-a"), timeout=10)
    busybox_httpd.set_healthy(container, False)
    wait(lambda: endpoint(yoda_store, yoda_base, "flap-1-80", "flap-a") is None, timeout=10)
    container.reload()
    assert container.status == "running"
    busybox_httpd.set_healthy(container, True)
    assert wait(lambda: endpoint(yoda_store, yoda_base, "flap-1-80", "flap-a"), timeout=10)


def test_container_started_before_the_watcher_is_registered(yoda_store, yoda_base, apps, watcher):
    port = free_port()
    apps.start("early-1-80", "early-a", port)
    watcher()
    assert wait(lambda: endpoint(yoda_store, yoda_base, "early-1-80", "early-a"), timeout=10) == f"127.0.0.1:{port}"


def test_resync_removes_leftovers_and_restores_missing(yoda_store, yoda_base, apps, watcher):
    running = watcher(resync=0.5)
    apps.start("live-1-80", "live-a", free_port())
    live = yoda.endpoint_key(yoda_base, "live-1-80", "live-a")
    wait(lambda: yoda_store.get(live), timeout=10)
    ghost = yoda.endpoint_key(yoda_base, "ghost-1-80", "ghost-a")
    elsewhere = yoda.endpoint_key(yoda_base, "ghost-1-80", "other-host")
    yoda_store.put(ghost, "127.0.0.1:1")
    yoda_store.put(elsewhere, "127.0.0.2:1")  # another host's endpoint: not ours to judge
    yoda_store.delete(live)
    wait(lambda: yoda_store.get(ghost) is None and yoda_store.get(live), timeout=10)
    running.resync()
    assert yoda_store.get(elsewhere) == "127.0.0.2:1"


def test_unusable_labels_are_skipped(yoda_store, yoda_base, apps, watcher, docker_client):
    running = watcher()
    bad_labels = {UPSTREAM: "bad", PORT: "x", NODE: "bad-a", "totem.test": apps.tag}
    bad = busybox_httpd.run(docker_client, free_port(), bad_labels)
    apps.started.append(bad)
    good_port = free_port()
    apps.start("good-1-80", "good-a", good_port)
    wait(lambda: endpoint(yoda_store, yoda_base, "good-1-80", "good-a"), timeout=10)
    assert bad.id not in running.registrations
    assert yoda_store.list(yoda.upstream_prefix(yoda_base, "bad")) == {}


def test_cli_watch_deregisters_on_sigterm(settings, yoda_store, yoda_base, apps):
    port = free_port()
    apps.start("cli-1-80", "cli-a", port)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "yoda_discover",
            "watch",
            "--etcd",
            settings.etcd_url,
            "--base",
            yoda_base,
            "--interval",
            "0.2",
            "--ttl",
            "60",
            "--label",
            f"totem.test={apps.tag}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait(lambda: endpoint(yoda_store, yoda_base, "cli-1-80", "cli-a"), timeout=10) == f"127.0.0.1:{port}"
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert endpoint(yoda_store, yoda_base, "cli-1-80", "cli-a") is None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()

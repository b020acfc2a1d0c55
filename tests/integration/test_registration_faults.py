"""Faults are not outages: endpoint registrations that vanish from etcd while the instances are healthy
(yoda-discover killed, etcd paused) cost no request; yoda-proxy keeps each vanished endpoint while
HAProxy's check reports it UP. An instance that really dies is dropped once HAProxy marks it DOWN, and
a switch or an undeploy still takes effect at once."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.faults.registrations import discover_killed, etcd_paused, etcd_restarted, registered_app
from totem.store import connect
from totem.waiting import wait
from yoda_proxy.testing import Backend, ProxyProcess, commit, local_etcd_url

pytest_plugins = ["tests.images.fixtures"]
HOST = "grace.localhost"


def assert_no_outage(outcome) -> None:
    print(outcome.line())
    assert outcome.failed == 0
    assert outcome.stuck == []


def test_yoda_discover_killed(docker_client):
    with registered_app(docker_client, local_etcd_url()) as app:
        assert_no_outage(discover_killed(app))


@pytest.mark.skipif(not shutil.which("etcd"), reason="etcd not installed")
def test_etcd_paused(docker_client, private_etcd):
    with registered_app(docker_client, private_etcd.url) as app:
        assert_no_outage(etcd_paused(app, private_etcd))


@pytest.mark.skipif(not shutil.which("etcd"), reason="etcd not installed")
def test_etcd_killed_and_back_after_15_s(docker_client, private_etcd):
    with registered_app(docker_client, private_etcd.url) as app:
        assert_no_outage(etcd_restarted(app, private_etcd))


# -- what must still go at once ----------------------------------------------------------------
@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture
def backends():
    started: list[Backend] = []

    def start(name: str) -> Backend:
        started.append(Backend(name))
        return started[-1]

    yield start
    for backend in started:
        backend.close()


@pytest.fixture
def proxies(store):
    started: list[ProxyProcess] = []

    def start(*extra: str) -> ProxyProcess:
        started.append(ProxyProcess(extra=list(extra)).start())
        return started[-1]

    yield start
    for proxy in started:
        proxy.stop()
        store.delete_prefix(proxy.prefix)


def upstream(name: str, *instances: Backend) -> dict[str, str]:
    """An upstream as the deployer writes it (a health check declared), checked every 500 ms."""
    keys = {f"upstreams/{name}/health/uri": "/health", f"upstreams/{name}/health/interval": "500ms"}
    return keys | {f"upstreams/{name}/endpoints/{b.name}": b.address for b in instances}


def route(name: str) -> dict[str, str]:
    return {f"hosts/{HOST}/locations/root/path": "/", f"hosts/{HOST}/locations/root/upstream": name}


def names(proxy, count: int = 8) -> set[str]:
    return {proxy.get(HOST).json()["name"] for _ in range(count)}


def test_a_dead_instance_is_dropped_once_haproxy_marks_it_down(store, proxies, backends):
    proxy, a, b = proxies(), backends("a"), backends("b")
    commit(store, proxy, upstream("grace-v1-1", a, b) | route("grace-v1-1"))
    commit(store, proxy, {}, deletes=("upstreams/grace-v1-1/endpoints/b",))
    assert proxy.status()["endpoints_in_grace"] == 1 and names(proxy) == {"a", "b"}  # healthy: kept
    b.close()
    died = time.monotonic()
    wait(lambda: proxy.status()["endpoints_in_grace"] == 0, timeout=10)
    assert time.monotonic() - died < 3  # two failed checks 500 ms apart, not the 90 s grace
    assert names(proxy) == {"a"}
    assert proxy.status()["endpoints_held_total"] == 1
    assert "marked DOWN by HAProxy" in proxy.log()


def test_registered_again_within_the_grace_then_the_grace_ends(store, proxies, backends):
    proxy, a, b = proxies("--endpoint-grace", "1.5"), backends("a"), backends("b")
    commit(store, proxy, upstream("grace-v1-1", a, b) | route("grace-v1-1"))
    commit(store, proxy, {}, deletes=("upstreams/grace-v1-1/endpoints/b",))
    assert proxy.status()["endpoints_in_grace"] == 1
    commit(store, proxy, {"upstreams/grace-v1-1/endpoints/b": b.address})
    assert proxy.status()["endpoints_in_grace"] == 0 and names(proxy) == {"a", "b"}
    commit(store, proxy, {}, deletes=("upstreams/grace-v1-1/endpoints/b",))
    wait(lambda: proxy.status()["endpoints_in_grace"] == 0, timeout=5)  # healthy, but the grace is over
    assert names(proxy) == {"a"} and proxy.status()["endpoints_held_total"] == 2


def test_a_switch_and_an_undeploy_take_effect_at_once(store, proxies, backends):
    proxy, blue, green = proxies(), backends("blue"), backends("green")
    commit(store, proxy, upstream("grace-v1-1", blue) | upstream("grace-v2-2", green) | route("grace-v1-1"))
    assert names(proxy) == {"blue"}
    commit(store, proxy, route("grace-v2-2"))
    assert names(proxy) == {"green"}
    commit(store, proxy, {}, deletes=("upstreams/grace-v1-1/",))  # the old version decommissioned
    commit(store, proxy, {}, deletes=("upstreams/grace-v2-2/",))  # upstream removed, route left: 503
    assert proxy.get(HOST).status_code == 503
    commit(store, proxy, {}, deletes=(f"hosts/{HOST}/",))
    assert proxy.get(HOST).status_code == 404
    status = proxy.status()
    assert status["endpoints_in_grace"] == 0 and status["endpoints_held_total"] == 0

"""Faults are not outages: a killed HAProxy worker is replaced within 2 s, new connections waiting
in the backlog of the listening sockets yoda-proxy holds instead of being refused."""

from __future__ import annotations

import pytest

from tests.faults.proxy_worker import HOST, haproxy_worker_death, proc_state, routed_proxy
from totem.store import connect
from yoda_proxy.testing import Backend, commit, local_etcd_url


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture
def proxy(store):
    with routed_proxy(store) as proxy:
        yield proxy


def assert_recovered(proxy, outcome, killed: int) -> None:
    print(outcome.line())
    assert outcome.stuck == []
    assert outcome.recovered_s <= 2  # the bound
    state = proc_state(proxy)
    assert state and state.workers and killed not in state.workers
    assert (proxy.work / "haproxy.pid").read_text().split()[0] == str(state.master)
    assert proxy.get(HOST).json()["name"] == "app"


def test_a_killed_worker_is_replaced(proxy):
    killed = proc_state(proxy).workers[0]
    outcome = haproxy_worker_death(proxy, HOST)
    assert_recovered(proxy, outcome, killed)
    assert proxy.status()["haproxy_restarts"] == 1
    assert "haproxy is not running" in proxy.log()


def test_two_deaths_in_a_row_then_a_reload(store, proxy):
    for _ in range(2):
        killed = proc_state(proxy).workers[0]
        assert_recovered(proxy, haproxy_worker_death(proxy, HOST), killed)
    green = Backend("green")
    try:  # a new upstream has to be declared: a reload of the restarted master
        reloads = proxy.status()["reloads"]
        commit(
            store,
            proxy,
            {
                "upstreams/faults-v2-2/endpoints/n1": green.address,
                f"hosts/{HOST}/locations/root/upstream": "faults-v2-2",
            },
        )
        assert proxy.status()["reloads"] == reloads + 1
        assert proxy.get(HOST).json()["name"] == "green"
    finally:
        green.close()


def test_a_worker_death_after_yoda_proxy_restarted(proxy):
    proxy.process.kill()  # yoda-proxy dies; the restarted one adopts HAProxy and its sockets
    proxy.process.wait()
    proxy.start()
    assert "adopted running haproxy master" in proxy.log()
    killed = proc_state(proxy).workers[0]
    assert_recovered(proxy, haproxy_worker_death(proxy, HOST), killed)

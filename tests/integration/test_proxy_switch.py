"""Blue-green switches and endpoint changes as runtime updates; zero dropped requests."""

from __future__ import annotations

import threading

import pytest
import requests

from totem.store import connect
from yoda_proxy.testing import Backend, ProxyProcess, commit, local_etcd_url, running_proxy


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture
def proxy(store):
    with running_proxy(store) as proxy:
        yield proxy


@pytest.fixture
def blue_green():
    blue, green = Backend("blue"), Backend("green")
    yield blue, green
    blue.close()
    green.close()


def names(proxy, count: int = 6) -> set[str]:
    return {proxy.get("bg.localhost").json()["name"] for _ in range(count)}


def initial(blue: Backend, green: Backend) -> dict[str, str]:
    return {
        "hosts/bg.localhost/locations/root/path": "/",
        "hosts/bg.localhost/locations/root/upstream": f"bg-v1-{blue.port}",
        f"upstreams/bg-v1-{blue.port}/endpoints/blue": blue.address,
        f"upstreams/bg-v2-{green.port}/endpoints/green": green.address,
    }


def test_blue_green_switch_is_a_runtime_update(store, proxy, blue_green):
    blue, green = blue_green
    commit(store, proxy, initial(blue, green))
    assert names(proxy) == {"blue"}
    reloads = proxy.status()["reloads"]
    commit(store, proxy, {"hosts/bg.localhost/locations/root/upstream": f"bg-v2-{green.port}"})
    assert names(proxy) == {"green"}
    commit(store, proxy, {"hosts/bg.localhost/locations/root/upstream": f"bg-v1-{blue.port}"})
    assert names(proxy) == {"blue"}
    status = proxy.status()
    assert status["reloads"] == reloads and status["runtime_updates"] >= 2
    assert status["applied_revision"] == store.get(proxy.prefix + "revision")


def test_endpoint_changes_use_server_slots(store, proxy, blue_green):
    blue, green = blue_green
    commit(store, proxy, initial(blue, green))
    reloads = proxy.status()["reloads"]
    up = f"upstreams/bg-v1-{blue.port}/endpoints"
    commit(store, proxy, {f"{up}/green": green.address})
    assert names(proxy) == {"blue", "green"}
    commit(store, proxy, {}, deletes=(f"{up}/blue",))
    assert names(proxy) == {"green"}
    commit(store, proxy, {f"{up}/green": blue.address})  # same node, new address
    assert names(proxy) == {"blue"}
    assert proxy.status()["reloads"] == reloads
    extra = [Backend(f"extra{i}") for i in range(5)]
    try:  # more instances than slots: one hitless reload grows the backend
        commit(store, proxy, {f"{up}/extra{i}": b.address for i, b in enumerate(extra)})
        assert proxy.status()["reloads"] == reloads + 1
        assert len(names(proxy, 18)) == 6
    finally:
        for backend in extra:
            backend.close()


def test_zero_dropped_requests_during_reloads_and_switches(store, proxy, blue_green):
    blue, green = blue_green
    commit(store, proxy, initial(blue, green))
    stop, results = threading.Event(), {"ok": 0, "bad": 0, "errors": []}

    def load() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    response = session.get(proxy.url("/"), headers={"Host": "bg.localhost"}, timeout=10)
                    if response.status_code == 200:
                        results["ok"] += 1
                    else:
                        results["bad"] += 1
                        results["errors"].append(response.status_code)
                except requests.RequestException as exc:
                    results["bad"] += 1
                    results["errors"].append(repr(exc))

    workers = [threading.Thread(target=load) for _ in range(3)]
    for worker in workers:
        worker.start()
    reloads = proxy.status()["reloads"]
    try:
        for i in range(10):
            commit(store, proxy, {f"upstreams/new-{i}-1/endpoints/n1": blue.address})  # new backend: reload
            version = f"bg-v2-{green.port}" if i % 2 == 0 else f"bg-v1-{blue.port}"
            commit(store, proxy, {"hosts/bg.localhost/locations/root/upstream": version})  # runtime switch
    finally:
        stop.set()
        for worker in workers:
            worker.join(15)
    assert proxy.status()["reloads"] >= reloads + 10
    assert results["ok"] > 0
    assert results["bad"] == 0, results["errors"][:5]


def test_blue_green_switch_through_the_etcd_v2_adapter(blue_green):
    blue, green = blue_green
    store = connect(local_etcd_url("etcd2"))
    proxy = ProxyProcess(etcd_url=local_etcd_url("etcd2")).start()
    try:
        commit(store, proxy, initial(blue, green))
        assert names(proxy) == {"blue"}
        commit(store, proxy, {"hosts/bg.localhost/locations/root/upstream": f"bg-v2-{green.port}"})
        assert names(proxy) == {"green"}
    finally:
        proxy.stop()
        store.delete_prefix(proxy.prefix)


def test_canary_share_is_a_runtime_update(store, proxy, blue_green):
    blue, green = blue_green
    canary = "hosts/bg.localhost/locations/root/canary/"
    commit(
        store, proxy, dict(initial(blue, green), **{f"{canary}upstream": f"bg-v2-{green.port}", f"{canary}weight": "0"})
    )
    assert names(proxy, 20) == {"blue"}
    reloads = proxy.status()["reloads"]
    commit(store, proxy, {f"{canary}weight": "50"})
    assert names(proxy, 60) == {"blue", "green"}
    commit(store, proxy, {f"{canary}weight": "100"})
    assert names(proxy, 20) == {"green"}
    commit(store, proxy, {}, deletes=(f"{canary}upstream", f"{canary}weight"))
    assert names(proxy, 20) == {"blue"}
    assert proxy.status()["reloads"] == reloads

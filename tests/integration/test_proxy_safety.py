"""Bad data and etcd outages never take the running proxy down."""

from __future__ import annotations

import shutil
import uuid

import pytest

from totem.store import connect
from totem.waiting import wait
from yoda_proxy.testing import Backend, ProxyProcess, local_etcd_url


@pytest.fixture
def backend():
    app = Backend("app")
    yield app
    app.close()


def applied(store, proxy) -> str | None:
    return store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/applied")


def commit(store, proxy, puts: dict[str, str], until_applied: bool = True) -> str:
    for key, value in puts.items():
        store.put(proxy.prefix + key, value)
    revision = uuid.uuid4().hex
    store.put(proxy.prefix + "revision", revision)
    if until_applied:
        wait(lambda: applied(store, proxy) == revision, timeout=15)
    return revision


def app_wiring(backend: Backend) -> dict[str, str]:
    return {
        "hosts/safe.localhost/locations/root/path": "/",
        "hosts/safe.localhost/locations/root/upstream": "safe-v1-1",
        "upstreams/safe-v1-1/endpoints/n1": backend.address,
    }


def test_invalid_data_keeps_the_last_good_config(backend):
    store = connect(local_etcd_url())
    proxy = ProxyProcess().start()
    try:
        good = commit(store, proxy, app_wiring(backend))
        bad = commit(
            store,
            proxy,
            {
                "hosts/safe.localhost/locations/root/path": "no leading slash",
                "hosts/bad host/locations/x/path": "/",
                "certs/junk": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
                "upstreams/safe-v1-1/health/interval": "often",
            },
        )  # acknowledged: the bad entries are skipped (issue #16), published with the ack
        status = proxy.status()
        assert status["applied_revision"] == bad != good
        text = "\n".join(status["wiring_errors"])
        assert "locations/root" in text and "bad host" in text and "certs/junk" in text
        assert status["last_error"] and "invalid wiring" in status["last_error"]
        assert store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/error")
        assert "hosts/safe.localhost/locations/root" in store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/skipped")
        assert proxy.get("safe.localhost").json()["name"] == "app"

        # a change HAProxy itself refuses (the port is taken): the old workers keep serving
        taken = proxy.admin
        store.delete_prefix(proxy.prefix + "hosts/bad host/")
        store.delete(proxy.prefix + "certs/junk")
        commit(
            store, proxy, {"hosts/safe.localhost/locations/root/path": "/", "upstreams/safe-v1-1/health/interval": "2s"}
        )
        failures = proxy.status()["apply_failures"]
        commit(
            store,
            proxy,
            {
                "upstreams/tcp-v1-1/mode": "tcp",
                "global/listeners/clash/bind": f"127.0.0.1:{taken}",
                "global/listeners/clash/upstream": "tcp-v1-1",
            },
            until_applied=False,
        )
        wait(lambda: proxy.status()["apply_failures"] > failures, timeout=10)
        assert proxy.get("safe.localhost").json()["name"] == "app"
        store.delete_prefix(proxy.prefix + "global/listeners/")
        recovered = commit(store, proxy, {})
        assert proxy.status()["applied_revision"] == recovered
        assert proxy.get("safe.localhost").json()["name"] == "app"
        reloads = proxy.status()["reloads"]  # reloads work again after a refused one
        commit(
            store,
            proxy,
            {
                "upstreams/later-v1-1/endpoints/n1": backend.address,
                "hosts/safe.localhost/locations/root/upstream": "later-v1-1",
            },
        )
        assert proxy.status()["reloads"] == reloads + 1
        assert proxy.get("safe.localhost").json()["name"] == "app"
    finally:
        proxy.stop()
        store.delete_prefix(proxy.prefix)


def test_restart_after_a_crash_adopts_the_running_haproxy(backend):
    store = connect(local_etcd_url())
    proxy = ProxyProcess().start()
    green = Backend("green")
    try:
        commit(store, proxy, dict(app_wiring(backend), **{"upstreams/safe-v2-2/endpoints/n1": green.address}))
        master = (proxy.work / "haproxy.pid").read_text().split()[0]
        proxy.process.kill()  # yoda-proxy dies; HAProxy keeps serving
        proxy.process.wait()
        assert proxy.get("safe.localhost").json()["name"] == "app"
        proxy.start()
        commit(store, proxy, {"hosts/safe.localhost/locations/root/upstream": "safe-v2-2"})
        assert proxy.get("safe.localhost").json()["name"] == "green"
        assert (proxy.work / "haproxy.pid").read_text().split()[0] == master
        assert "adopted running haproxy master" in proxy.log()
    finally:
        proxy.stop()
        green.close()
        store.delete_prefix(proxy.prefix)


def test_announcement_is_removed_on_exit():
    store = connect(local_etcd_url())
    proxy = ProxyProcess().start()
    info = f"{proxy.prefix}proxy-nodes/{proxy.node}/info"
    try:
        wait(lambda: store.get(info), timeout=10)
    finally:
        proxy.stop()
    assert store.get(info) is None
    store.delete_prefix(proxy.prefix)


@pytest.mark.skipif(not shutil.which("etcd"), reason="etcd not installed")
def test_etcd_restart(backend, private_etcd):
    green = Backend("green")
    proxy = ProxyProcess(etcd_url=private_etcd.url)
    try:
        store = connect(private_etcd.url)
        proxy.start()
        commit(store, proxy, dict(app_wiring(backend), **{"upstreams/safe-v2-2/endpoints/n1": green.address}))
        assert proxy.get("safe.localhost").json()["name"] == "app"
        private_etcd.stop()
        wait(lambda: not proxy.status()["etcd_connected"], timeout=15)
        for _ in range(5):  # etcd away: the proxy keeps serving
            assert proxy.get("safe.localhost").json()["name"] == "app"
        private_etcd.start()
        commit(store, proxy, {"hosts/safe.localhost/locations/root/upstream": "safe-v2-2"})
        wait(lambda: proxy.status()["etcd_connected"], timeout=15)
        assert proxy.get("safe.localhost").json()["name"] == "green"
        assert store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/info")
    finally:
        proxy.stop()
        green.close()


@pytest.mark.skipif(not shutil.which("etcd"), reason="etcd not installed")
def test_restart_while_etcd_is_down_serves_the_last_known_wiring(backend, private_etcd):
    green = Backend("green")
    proxy = ProxyProcess(etcd_url=private_etcd.url)
    try:
        store = connect(private_etcd.url)
        proxy.start()
        commit(store, proxy, dict(app_wiring(backend), **{"upstreams/safe-v2-2/endpoints/n1": green.address}))
        proxy.stop(keep_work_dir=True)
        private_etcd.stop()
        proxy.start()  # etcd is away: the cached wiring is served
        assert proxy.get("safe.localhost").json()["name"] == "app"
        assert not proxy.status()["etcd_connected"]
        private_etcd.start()
        commit(store, proxy, {"hosts/safe.localhost/locations/root/upstream": "safe-v2-2"})
        assert proxy.get("safe.localhost").json()["name"] == "green"
    finally:
        proxy.stop()
        green.close()

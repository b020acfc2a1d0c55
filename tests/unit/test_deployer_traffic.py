"""Maintenance, pause and resume through the deployer's API (real etcd under a prefix of the test's
own; a proxy node's acknowledgement written by the test): the keys on every live host, the answers
the OpenAPI document promises, refusals that change nothing, and redeploys that keep the switches."""

from __future__ import annotations

import functools
import threading

import pytest

from deployer import traffic, wiring
from deployer.openapi import document
from tests.fixtures.deployer.service import AUTH, deployer_app
from tests.openapi_contract import check_answer
from totem.contracts import yoda as layout

HOSTS = {
    "shop.localhost": {"aliases": ["www.shop.localhost"], "locations": {"shop_root": {"path": "/"}}},
    "api.shop.localhost": {"aliases": [], "locations": {"shop_api": {"path": "/"}}},
}


@pytest.fixture
def service():
    with deployer_app(TOTEM_DEPLOYER_ACK_TIMEOUT="1") as app:
        yield app


def ctx_of(app):
    return app.extensions["deployer"].ctx


def live(app, name: str = "shop", hosts: dict | None = None, promoted: bool = True) -> dict:
    ctx = ctx_of(app)
    record = {
        "id": f"{name}-v1-1",
        "app": name,
        "version": "v1",
        "sequence": 1,
        "state": "PROMOTED",
        "upstream": f"{name}-v1-8080",
        "spec": {"wiring": HOSTS if hosts is None else hosts},
    }
    ctx.records.create(record)
    if promoted:
        ctx.records.set_live(name, record["id"])
    return record


def flag(app, host: str, field: str) -> str | None:
    ctx = ctx_of(app)
    return ctx.store.get(layout.host_setting_key(ctx.yoda, host, field))


class Proxy:
    """A live proxy node that acknowledges every revision (as yoda-proxy does once it applied it)."""

    def __init__(self, app):
        self.ctx, self.stop = ctx_of(app), threading.Event()
        self.ctx.store.put(layout.proxy_node_info_key(self.ctx.yoda, "p1"), "{}")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            revision = self.ctx.store.get(layout.revision_key(self.ctx.yoda))
            if revision:
                self.ctx.store.put(layout.proxy_node_key(self.ctx.yoda, "p1", layout.APPLIED), revision)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


def test_maintenance_pause_and_resume(service):
    check = functools.partial(check_answer, service, document())
    client = service.test_client()
    live(service)
    proxy = Proxy(service)
    try:
        on = check(client.post("/apps/shop/maintenance", json={"enabled": True, "retry-after": 120}, headers=AUTH))
        assert on["hosts"] == sorted(HOSTS) and on["maintenance"] == {"retry-after": 120} and on["proxies"] == ["p1"]
        assert all(flag(service, host, "maintenance") == "120" for host in HOSTS)
        assert on["revision"] == ctx_of(service).store.get(layout.revision_key(ctx_of(service).yoda))

        paused = check(client.post("/apps/shop/pause", json={"max": "1500ms"}, headers=AUTH))
        assert paused["paused"] == {"max": 1.5} and flag(service, "shop.localhost", "pause") == "1.5"
        assert traffic.state(ctx_of(service), "shop") == {"maintenance": {"retry-after": 120}, "paused": {"max": 1.5}}
        assert check(client.post("/apps/shop/pause", headers=AUTH))["paused"] == {"max": 30}  # the default

        resumed = check(client.post("/apps/shop/resume", headers=AUTH))
        assert resumed["paused"] is None and flag(service, "shop.localhost", "pause") is None
        off = check(client.post("/apps/shop/maintenance", json={"enabled": False}, headers=AUTH))
        assert off["maintenance"] is None and flag(service, "api.shop.localhost", "maintenance") is None
        assert traffic.state(ctx_of(service), "shop") == {"maintenance": None, "paused": None}
    finally:
        proxy.close()


@pytest.mark.parametrize(
    "path,body,status",
    [
        ("/apps/shop/maintenance", {}, 400),
        ("/apps/shop/maintenance", {"enabled": "yes"}, 400),
        ("/apps/shop/maintenance", {"enabled": True, "retry-after": 0}, 400),
        ("/apps/shop/maintenance", {"enabled": True, "retry-after": 86401}, 400),
        ("/apps/shop/maintenance", {"enabled": True, "other": 1}, 400),
        ("/apps/shop/pause", {"max": "10m"}, 400),
        ("/apps/shop/pause", {"max": 301}, 400),
        ("/apps/shop/pause", {"max": 0}, 400),
        ("/apps/shop/pause", {"max": "soon"}, 400),
        ("/apps/nope/maintenance", {"enabled": True}, 404),
        ("/apps/Not_A_Name/pause", {"max": 5}, 404),
        ("/apps/idle/pause", {"max": 5}, 409),
        ("/apps/unrouted/maintenance", {"enabled": True}, 409),
    ],
)
def test_refusals_change_nothing(service, path, body, status):
    live(service)
    live(service, "idle", promoted=False)
    live(service, "unrouted", hosts={})
    keys = service.keys()
    answer = service.test_client().post(path, json=body, headers=AUTH)
    assert answer.status_code == status, answer.get_json()
    assert check_answer(service, document(), answer)["error"]["message"]
    assert service.keys() == keys


def test_the_token_is_required(service):
    live(service)
    for path in ("/apps/shop/maintenance", "/apps/shop/pause", "/apps/shop/resume"):
        answer = service.test_client().post(path, json={"enabled": True})
        assert answer.status_code == 401 and answer.get_json()["error"]["code"]
    assert flag(service, "shop.localhost", "maintenance") is None


def test_a_proxy_that_does_not_acknowledge_is_a_503_with_the_state(service):
    live(service)
    ctx = ctx_of(service)
    ctx.store.put(layout.proxy_node_info_key(ctx.yoda, "stuck"), "{}")  # never applies anything
    answer = service.test_client().post("/apps/shop/pause", json={"max": 10}, headers=AUTH)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    error = check_answer(service, document(), answer)["error"]
    assert error["code"] == "not_applied" and "stuck" in error["message"]
    assert error["details"]["state"] == {"maintenance": None, "paused": {"max": 10}}  # written: the state
    assert flag(service, "shop.localhost", "pause") == "10"


def test_a_redeploy_keeps_the_switches_and_the_last_route_takes_them(service):
    ctx = ctx_of(service)
    record = live(service)
    for field in layout.HOST_FLAGS:
        ctx.store.put(layout.host_setting_key(ctx.yoda, "shop.localhost", field), "30")
    record["spec"]["wiring"]["shop.localhost"]["locations"]["shop_root"].update(
        {"force-ssl": False, "allowed": [], "denied": []}
    )
    record["spec"]["wiring"] = {"shop.localhost": record["spec"]["wiring"]["shop.localhost"]}
    wiring.apply(ctx.store, ctx.yoda, "shop", wiring.desired(ctx.yoda, record))  # a later version, same host
    assert [flag(service, "shop.localhost", f) for f in layout.HOST_FLAGS] == ["30", "30"]
    wiring.unwire(ctx.store, ctx.yoda, "shop")  # undeployed: nothing left on the host
    assert [flag(service, "shop.localhost", f) for f in layout.HOST_FLAGS] == [None, None]

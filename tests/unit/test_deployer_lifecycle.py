"""The lifecycle against real etcd with an in-memory scheduler: gating, promotion, failure
handling (before and after wiring), modes, anchored ownership, resume, reconcile (endpoint repair)."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid

import pytest

from deployer import wiring
from deployer.context import Context
from deployer.intake import new_record
from deployer.lifecycle import Lifecycle
from deployer.operations import reconcile, undeploy
from deployer.records import has_event
from deployer.secrets import encrypt
from deployer.settings import DeployerSettings
from tests.fixtures.deployer.fake_scheduler import FakeScheduler
from tests.fixtures.deployer.harness import deploy_request
from tests.unit.test_discover_parts import lease_of
from totem.contracts import yoda
from totem.settings import Settings
from totem.waiting import wait

KEY = "yaHvhqpRwLEWGwvc0qCzBaJGvAA6m6cC9bSxIsBVdW4="


@pytest.fixture
def ctx():
    root = f"/test-{uuid.uuid4().hex[:10]}/"
    env = {
        "TOTEM_CLUSTER": "unit",
        "YODA_BASE": root + "yoda",
        "TOTEM_DEPLOYER_PREFIX": root + "deployer",
        "TOTEM_DEPLOYER_DRAIN": "0",
        "TOTEM_DEPLOYER_DISCOVER_TIMEOUT": "1",
        "TOTEM_DEPLOYER_ACK_TIMEOUT": "1",
        "TOTEM_DEPLOYER_CHECK_INTERVAL": "0.01",
        "TOTEM_DEPLOYER_START_TIMEOUT": "2",
        "TOTEM_DEPLOYER_RECONCILE_INTERVAL": "1",  # the reconcile's endpoint leases: 3 s
        "TOTEM_ENCRYPTION_KEY": KEY,
    }
    ctx = Context(Settings.from_env(env), DeployerSettings.from_env(env), scheduler_factories={"fake": FakeScheduler})
    yield ctx
    fake(ctx).close()
    ctx.store.delete_prefix(root)


def fake(ctx) -> FakeScheduler:
    return ctx.scheduler("fake")


def submit(ctx, app: str, version: str, **deployment) -> dict:
    request = deploy_request(
        app,
        version,
        f"img:{version}",
        f"{app}.localhost",
        nodes=2,
        check={"min-nodes": 2, "path": "/health", "timeout": "1s", "attempts": 2},
        **deployment,
    )
    record = new_record(ctx, request, "fake")
    ctx.records.create(record)
    return record


def run(ctx, record: dict) -> dict:
    lock = ctx.store.lock(f"deployer/{record['app']}", ttl=10)
    with lock:
        return Lifecycle(ctx, lock).run(record["id"])


def location(ctx, app: str, key: str = "upstream") -> str | None:
    return ctx.store.get(yoda.location_key(ctx.yoda, f"{app}.localhost", f"{app}_home", key))


def with_environment(**variables):
    """A records change adding variables to the deployment request's environment."""

    def change(record: dict):
        record["request"]["environment"].update(variables)
        return record, None

    return change


def test_promotion_wires_and_decommissions_the_old_version(ctx):
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    assert v1["state"] == "PROMOTED"
    assert location(ctx, "shop") == "shop-v1-8080"
    assert ctx.store.get(yoda.upstream_key(ctx.yoda, "shop-v1-8080", yoda.HEALTH_URI)) == "/health"
    assert ctx.store.get(yoda.revision_key(ctx.yoda)).endswith(v1["id"])
    v2 = run(ctx, submit(ctx, "shop", "v2"))
    assert v2["state"] == "PROMOTED"
    assert location(ctx, "shop") == "shop-v2-8080"
    assert ctx.records.get(v1["id"])["state"] == "DECOMMISSIONED"
    assert ctx.records.live("shop") == v2["id"]
    assert not any(c["deployment"] == v1["id"] for c in fake(ctx).created.values())
    assert ctx.store.list(yoda.upstream_prefix(ctx.yoda, "shop-v1-8080")) == {}


def test_failed_health_check_never_wires_and_keeps_the_previous_version(ctx):
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    fake(ctx).healthy = False
    v2 = run(ctx, submit(ctx, "shop", "v2"))
    assert v2["state"] == "FAILED"
    assert "failed the check /health" in v2["error"]
    assert not has_event(v2, "WIRED")
    assert location(ctx, "shop") == "shop-v1-8080"
    assert ctx.records.get(v1["id"])["state"] == "PROMOTED"
    assert ctx.records.live("shop") == v1["id"]
    assert {c["deployment"] for c in fake(ctx).created.values()} == {v1["id"]}


def test_missing_discovery_fails(ctx):
    fake(ctx).discover = False
    record = run(ctx, submit(ctx, "shop", "v1"))
    assert record["state"] == "FAILED" and "endpoint" in record["error"]
    assert fake(ctx).created == {}


def test_unacknowledged_wiring_is_restored_to_the_previous_version(ctx):
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    # a live proxy that never applies anything
    lease = ctx.store.lease(30)
    ctx.store.put(yoda.proxy_node_info_key(ctx.yoda, "stuck"), "{}", lease)
    try:
        v2 = run(ctx, submit(ctx, "shop", "v2"))
        failed = [e for e in v2["events"] if e["type"] == "DEPLOYMENT_FAILED"][0]["details"]
        assert v2["state"] == "FAILED" and "did not apply" in v2["error"]
        assert location(ctx, "shop") == "shop-v1-8080"
        # the restore was not acknowledged either: v2's instances are kept, never destroyed under the proxy
        assert failed["instances"] == "kept"
        assert any(c["deployment"] == v2["id"] for c in fake(ctx).created.values())
        assert ctx.records.get(v1["id"])["state"] == "PROMOTED"
    finally:
        lease.revoke()


@contextlib.contextmanager
def acking_proxy(ctx, skipped=lambda revision: {}):
    """A live proxy node "p1" that applies whatever revision is current, publishing `skipped(revision)`
    (its {entry key: why}) with each acknowledgement, as yoda-proxy does."""
    lease = ctx.store.lease(30)
    ctx.store.put(yoda.proxy_node_info_key(ctx.yoda, "p1"), "{}", lease)
    stop = threading.Event()

    def proxy() -> None:
        while not stop.wait(0.02):
            revision = ctx.store.get(yoda.revision_key(ctx.yoda))
            if revision:
                ctx.store.put(yoda.proxy_node_key(ctx.yoda, "p1", yoda.SKIPPED), json.dumps(skipped(revision)), lease)
                ctx.store.put(yoda.proxy_node_key(ctx.yoda, "p1", yoda.APPLIED), revision, lease)

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        lease.revoke()


def test_proxies_must_acknowledge_the_revision(ctx):
    with acking_proxy(ctx):
        record = run(ctx, submit(ctx, "shop", "v1"))
    assert record["state"] == "PROMOTED"
    applied = [e for e in record["events"] if e["type"] == "PROXIES_APPLIED"][0]["details"]
    assert applied["proxies"] == ["p1"]


def test_a_deploy_whose_entries_a_proxy_skipped_fails_and_the_previous_version_serves(ctx):
    """A proxy acknowledges every revision (one app's bad keys never stall the others) and names what it
    skipped: a deploy whose own location was skipped is not promoted, and its routes go back."""
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    bad = {"hosts/shop.localhost/locations/shop_home": "path 'x' must start with /"}
    v2 = submit(ctx, "shop", "v2")
    with acking_proxy(ctx, lambda revision: bad if revision.endswith(v2["id"]) else {}):
        v2 = run(ctx, v2)
    assert v2["state"] == "FAILED" and "skipped" in v2["error"] and "shop_home" in v2["error"]
    assert location(ctx, "shop") == "shop-v1-8080"
    assert ctx.records.get(v1["id"])["state"] == "PROMOTED"


def test_other_apps_routes_are_never_touched(ctx):
    other = yoda.location_prefix(ctx.yoda, "shop.localhost", "shop-bar_home")
    ctx.store.put(other + "path", "/bar")
    ctx.store.put(other + "upstream", "shop-bar-1-8080")
    run(ctx, submit(ctx, "shop", "v1"))
    with ctx.store.lock("deployer/shop") as lock:
        undeploy(ctx, "shop", None, lock.check)
    assert location(ctx, "shop") is None
    assert ctx.store.get(other + "upstream") == "shop-bar-1-8080"  # `shop` never matches `shop-bar`


def test_ab_mode_splits_traffic_and_keeps_the_other_version(ctx):
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    v2 = run(ctx, submit(ctx, "shop", "v2", mode="a/b"))
    assert v2["state"] == "PROMOTED"
    assert location(ctx, "shop") == "shop-v1-8080"
    assert location(ctx, "shop", "canary/upstream") == "shop-v2-8080"
    assert location(ctx, "shop", "canary/weight") == "50"
    assert ctx.records.get(v1["id"])["state"] == "PROMOTED"


def test_red_green_stops_the_old_version_first(ctx):
    v1 = run(ctx, submit(ctx, "shop", "v1"))
    v2 = run(ctx, submit(ctx, "shop", "v2", mode="red-green"))
    assert v2["state"] == "PROMOTED"
    assert fake(ctx).calls.index(("destroy", v1["id"])) < fake(ctx).calls.index(("deploy", v2["id"]))


def test_encrypted_values_reach_only_the_instance(ctx):
    record = submit(ctx, "shop", "v1")
    ctx.records.update(
        record["id"], with_environment(TOKEN={"value": encrypt(KEY, "plain-secret-value"), "encrypted": True})
    )
    record = run(ctx, ctx.records.get(record["id"]))
    assert record["state"] == "PROMOTED"
    assert all(c["environment"]["TOKEN"] == "plain-secret-value" for c in fake(ctx).created.values())
    assert "plain-secret-value" not in ctx.store.get(f"{ctx.records.root}deployments/{record['id']}")


def test_undecryptable_value_fails_without_revealing_it(ctx):
    record = submit(ctx, "shop", "v1")
    ctx.records.update(record["id"], with_environment(TOKEN={"value": "not-a-fernet-token", "encrypted": True}))
    record = run(ctx, ctx.records.get(record["id"]))
    assert record["state"] == "FAILED" and "TOKEN" in record["error"]
    assert "not-a-fernet-token" not in record["error"]


def test_resume_after_a_crash_continues_from_the_recorded_step(ctx):
    record = submit(ctx, "shop", "v1")
    lifecycle_steps = []

    class Crash(BaseException):
        pass

    lock = ctx.store.lock("deployer/shop", ttl=10)
    with lock:
        lifecycle = Lifecycle(ctx, lock)
        original = lifecycle.wire

        def crash(r):
            lifecycle_steps.append("wire")
            raise Crash()

        lifecycle.wire = crash
        with pytest.raises(Crash):
            lifecycle.run(record["id"])
        assert ctx.records.get(record["id"])["state"] == "STARTED"
        lifecycle.wire = original
        finished = lifecycle.run(record["id"])
    assert finished["state"] == "PROMOTED"
    assert [e["type"] for e in finished["events"]].count("INSTANCES_STARTED") == 1
    assert fake(ctx).calls.count(("deploy", record["id"])) == 1


def test_reconcile_restarts_missing_instances_and_removes_orphans(ctx):
    record = run(ctx, submit(ctx, "shop", "v1"))
    node = sorted(record["instances"])[0]
    fake(ctx).backends.pop(node).close()  # an instance died
    fake(ctx).created["shop-old-9-1"] = {"deployment": "shop-old-9", "app": "shop", "environment": {}}
    actions = reconcile(ctx, "shop")
    types = {a["type"] for a in actions}
    assert {"INSTANCE_RESTARTED", "ORPHAN_REMOVED"} <= types
    assert node in fake(ctx).backends
    assert "shop-old-9-1" not in fake(ctx).created
    timeline = [e["type"] for e in ctx.records.get(record["id"])["events"]]
    assert "INSTANCE_RESTARTED" in timeline


def test_reconcile_registers_a_healthy_instance_yoda_discover_has_not(ctx, settings):
    record = run(ctx, submit(ctx, "shop", "v1"))
    healthy, broken = sorted(record["instances"])
    keys = {n: yoda.endpoint_key(ctx.yoda, record["upstream"], n) for n in record["instances"]}
    for key in keys.values():
        ctx.store.delete(key)  # the sidekick died: its leases ran out
    fake(ctx).backends[broken].healthy = False
    actions = reconcile(ctx, "shop")
    assert {"type": "ENDPOINT_REPAIRED", "deployment": record["id"], "nodes": [healthy]} in actions
    assert {"type": "DRIFT", "deployment": record["id"], "unregistered": [broken]} in actions
    assert ctx.store.get(keys[healthy]) == fake(ctx).backends[healthy].address  # the value yoda-discover writes
    assert ctx.store.get(keys[broken]) is None
    assert "ENDPOINT_REPAIRED" in [e["type"] for e in ctx.records.get(record["id"])["events"]]

    # renewed while it passes, repaired once: the next reconcile only keeps it
    repaired = lease_of(settings, keys[healthy])
    assert [a["type"] for a in reconcile(ctx, "shop")] == ["DRIFT"]
    assert lease_of(settings, keys[healthy]) == repaired

    # yoda-discover back: its own lease takes the key over, and the reconcile never takes it back
    sidekick = ctx.store.lease(5)
    ctx.store.put(keys[healthy], fake(ctx).backends[healthy].address, sidekick)
    reconcile(ctx, "shop")
    assert lease_of(settings, keys[healthy]) == sidekick.id
    sidekick.revoke()


def test_a_repaired_endpoint_goes_on_its_own_when_no_reconcile_renews_it(ctx):
    record = run(ctx, submit(ctx, "shop", "v1"))
    node = sorted(record["instances"])[0]
    key = yoda.endpoint_key(ctx.yoda, record["upstream"], node)
    ctx.store.delete(key)
    reconcile(ctx, "shop")
    assert ctx.store.get(key) is not None
    assert ctx.endpoint_leases.ttl == 3  # 3 reconcile intervals: a dead host's endpoints do not stay
    wait(lambda: ctx.store.get(key) is None, 6, 0.1, what="the repaired endpoint expired")


def test_routed_upstreams_are_exact(ctx):
    run(ctx, submit(ctx, "shop", "v1"))
    assert wiring.routed_upstreams(ctx.store, ctx.yoda, "shop") == {"shop-v1-8080"}
    assert wiring.routed_upstreams(ctx.store, ctx.yoda, "sho") == set()

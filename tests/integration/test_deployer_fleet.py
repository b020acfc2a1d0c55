"""The fleet scheduler: units rendered from fleet_templates/ pass `systemd-analyze verify`, are
submitted to a local server speaking fleet's v1 API, and a deployment goes through the lifecycle."""

from __future__ import annotations

import dataclasses
import threading
import uuid

import pytest

from deployer import fleet_units
from deployer.context import Context
from deployer.intake import new_record
from deployer.lifecycle import Lifecycle
from deployer.operations import undeploy
from deployer.settings import DeployerSettings
from tests.fixtures.deployer.fleet_server import FleetServer
from tests.fixtures.deployer.harness import deploy_request
from totem.contracts import yoda
from totem.settings import Settings
from yoda_proxy.testing import Backend


@pytest.fixture
def fleet():
    server = FleetServer().start()
    yield server
    server.close()


@pytest.fixture
def ctx(fleet, tmp_path):
    root = f"/test-{uuid.uuid4().hex[:10]}/"
    env = {
        "TOTEM_CLUSTER": "fleet-test",
        "YODA_BASE": root + "yoda",
        "TOTEM_SCHEDULER": "fleet",
        "TOTEM_DEPLOYER_PREFIX": root + "deployer",
        "TOTEM_FLEET_URL": fleet.url,
        "TOTEM_DEPLOYER_DRAIN": "0",
        "TOTEM_DEPLOYER_DISCOVER_TIMEOUT": "20",
        "TOTEM_DEPLOYER_CHECK_INTERVAL": "0.1",
    }
    ctx = Context(Settings.from_env(env), DeployerSettings.from_env(env))
    yield ctx
    ctx.store.delete_prefix(root)


def record_for(ctx, app: str, version: str, **changes) -> dict:
    request = deploy_request(
        app,
        version,
        "127.0.0.1:5000/acme/hello:abc",
        f"{app}.localhost",
        nodes=1,
        check={"min-nodes": 1, "path": "/health", "timeout": "1s", "attempts": 20},
    )
    request.update(changes)
    record = new_record(ctx, request, "fleet")
    ctx.records.create(record)
    return record


def test_rendered_units_pass_systemd_verify(ctx):
    record = record_for(
        ctx,
        f"fl-{uuid.uuid4().hex[:6]}",
        "v1",
        schedule="*-*-* 03:00:00",
        environment={"PLAIN": 'quote " dollar $HOME percent 100%', "SECRET": {"value": "x", "encrypted": True}},
    )
    units = fleet_units.render(record, ctx.settings, ctx.options, 21000)
    names = fleet_units.unit_names(record)
    assert set(units) == {"app", "register", "logger", "timer"}
    ok, output = fleet_units.verify({names[role][0].replace("@1.", "@."): text for role, text in units.items()})
    assert ok, output
    assert "SECRET" in units["app"] and '"x"' not in units["app"]  # the name passes through, never a value
    assert "$$HOME" in units["app"] and "100%%" in units["app"]


def test_template_override_directory(ctx, tmp_path):
    broken = tmp_path / "logger.service.j2"
    broken.write_text("[Unit]\nDescription=custom\n[Service]\nExecStart=not-absolute {{ app }}\n")
    options = dataclasses.replace(ctx.options, fleet_templates=str(tmp_path))
    record = record_for(ctx, f"fl-{uuid.uuid4().hex[:6]}", "v1")
    units = fleet_units.render(record, ctx.settings, options, 21000)
    assert units["logger"].startswith("[Unit]\nDescription=custom")
    ok, output = fleet_units.verify({"custom-logger@.service": units["logger"]})
    assert not ok and "not-absolute" in output


def test_deployment_through_fleet_api(ctx, fleet):
    app = f"fl-{uuid.uuid4().hex[:6]}"
    record = record_for(ctx, app, "v1")
    backend: list[Backend] = []
    stop = threading.Event()

    def machine() -> None:
        """What a fleet machine and the register sidekick would do once the app unit is launched."""
        unit = f"{record['id']}-app@1.service"
        while not stop.is_set():
            launched = fleet.units.get(unit, {}).get("currentState") == "launched"
            current = ctx.records.get(record["id"])
            if launched and current["instances"] and not backend:
                node, where = next(iter(current["instances"].items()))
                backend.append(Backend(node, where["port"]))
                ctx.store.put(yoda.endpoint_key(ctx.yoda, current["upstream"], node), f"127.0.0.1:{where['port']}")
            stop.wait(0.05)

    helper = threading.Thread(target=machine, daemon=True)
    helper.start()
    lock = ctx.store.lock(f"deployer/{app}", ttl=10)
    try:
        with lock:
            result = Lifecycle(ctx, lock).run(record["id"])
        assert result["state"] == "PROMOTED", result.get("error")
        names = fleet_units.unit_names(result)
        submitted = {u["name"]: u for u in fleet.units.values()}
        assert set(sum(names.values(), [])) <= set(submitted)
        assert submitted[names["app"][0]]["desiredState"] == "launched"
        meta = {o["name"]: o["value"] for o in submitted[names["app"][0]]["options"] if o["section"] == "X-Totem"}
        assert meta == {"App": app, "Deployment": record["id"], "Role": "app"}
        assert [i.node for i in ctx.scheduler("fleet").instances(app)] == [names["app"][0]]
        location = yoda.location_key(ctx.yoda, f"{app}.localhost", f"{app}_home", yoda.UPSTREAM)
        assert ctx.store.get(location) == record["upstream"]

        with lock:
            assert undeploy(ctx, app, None, lock.check) == [record["id"]]
        assert fleet.units == {}
        assert ctx.records.get(record["id"])["state"] == "DECOMMISSIONED"
    finally:
        stop.set()
        helper.join(5)
        for server in backend:
            server.close()

"""The canary and preview sections of a deploy request: defaults, refusals, what the lifecycle reads,
and the routes a canary step and a preview host write."""

from __future__ import annotations

import pytest

from deployer import proxy_spec, wiring
from deployer.intake import plan
from tests.fixtures.deployer.harness import deploy_request
from totem.contracts import deploy_request as contract
from totem.contracts import yoda
from totem.contracts.canary import DEFAULT_STEPS

SCHEMA = contract.served_schema("unit", "unit", 0, proxy_spec.PROXY_SCHEMA)


def body(**deployment) -> dict:
    return deploy_request("shop", "v2", "img:v2", "shop.localhost", **deployment)


def problems(request: dict) -> list[str]:
    return [p["path"] for p in contract.problems(request, SCHEMA)]


def planned(request: dict) -> dict:
    return plan(contract.with_defaults(request, SCHEMA))


def test_canary_mode_defaults_to_three_judged_steps():
    spec = planned(body(mode="canary"))
    assert spec["rollout"] == {
        "steps": [{"weight": s["weight"], "pause": float(s["pause"][:-1])} for s in DEFAULT_STEPS],
        "checks": None,
        "min_requests": 20,
    }
    assert spec["preview"] is None


def test_other_modes_have_no_rollout_and_manual_pause_has_no_length():
    assert planned(body())["rollout"] is None
    steps = [{"weight": 10, "pause": "manual"}, {"weight": 50}, {"weight": 90, "pause": "1m"}]
    spec = planned(body(mode="canary", canary={"steps": steps, "min-requests": 3}))
    assert spec["rollout"]["steps"] == [
        {"weight": 10, "pause": None},
        {"weight": 50, "pause": 30.0},
        {"weight": 90, "pause": 60.0},
    ]
    assert spec["rollout"]["min_requests"] == 3


@pytest.mark.parametrize(
    ("canary", "path"),
    [
        ({"steps": []}, "body.deployment.canary.steps"),
        ({"steps": [{"weight": 0}]}, "body.deployment.canary.steps[0].weight"),
        ({"steps": [{"weight": 100}]}, "body.deployment.canary.steps[0].weight"),
        ({"steps": [{"weight": 5, "pause": "soon"}]}, "body.deployment.canary.steps[0].pause"),
        ({"steps": [{"weight": 5, "extra": 1}]}, "body.deployment.canary.steps[0]"),
        ({"analysis": [{"name": "x", "query": "up"}]}, "body.deployment.canary.analysis[0]"),
        ({"analysis": [{"name": "x", "query": "up", "max": 1, "min": 0}]}, "body.deployment.canary.analysis[0]"),
        ({"analysis": [{"name": "Bad Name", "query": "up", "max": 1}]}, "body.deployment.canary.analysis[0].name"),
        ({"min-requests": 0}, "body.deployment.canary.min-requests"),
        ({"surprise": True}, "body.deployment.canary"),
    ],
)
def test_bad_canary_sections_are_refused_by_path(canary, path):
    found = problems(body(mode="canary", canary=canary))
    assert any(p.startswith(path) for p in found), found


def test_bad_preview_sections_are_refused():
    assert problems(body(preview={"host-prefix": "pre view."}))
    assert problems(body(preview={"gate": "later"}))
    assert not problems(body(preview={"enabled": True, "host-prefix": "next.", "gate": "manual"}))


def test_canary_step_routes_split_the_stable_upstream_and_preview_hosts_mirror_the_new_one():
    stable = {
        "app": "shop",
        "upstream": "shop-v1-8080",
        "spec": planned(deploy_request("shop", "v1", "i", "shop.localhost")),
    }
    new = {"app": "shop", "upstream": "shop-v2-8080", "spec": planned(body(preview={"enabled": True}))}
    base = "/yoda/"
    keys = wiring.desired(base, stable, "shop-v2-8080", "shop-v1-8080", 25)
    location = yoda.location_prefix(base, "shop.localhost", "shop_home")
    assert keys[location + yoda.UPSTREAM] == "shop-v1-8080"
    assert keys[location + yoda.CANARY_UPSTREAM] == "shop-v2-8080"
    assert keys[location + yoda.CANARY_WEIGHT] == "25"
    preview = wiring.desired(base, new, preview_prefix="preview.")
    assert preview[yoda.location_prefix(base, "preview.shop.localhost", "shop_home") + yoda.UPSTREAM] == "shop-v2-8080"
    assert not any("/aliases/" in key for key in preview)  # the preview host has no aliases
    assert wiring.preview_hosts(new) == ["preview.shop.localhost"]

"""Planning: maps, slots, structure vs runtime changes, and the runtime commands."""

from __future__ import annotations

from pathlib import Path

from yoda_proxy.parse import parse
from yoda_proxy.plan import build, carry_over, fits, route_key, runtime_commands
from yoda_proxy.slots import SlotTable, capacity_for

KEYS = {
    "hosts/a.localhost/aliases/1": "alias.localhost",
    "hosts/a.localhost/locations/root/path": "/",
    "hosts/a.localhost/locations/root/upstream": "a-v1-1",
    "hosts/a.localhost/locations/api/path": "/api/",
    "hosts/a.localhost/locations/api/upstream": "a-v2-2",
    "upstreams/a-v1-1/endpoints/n1": "127.0.0.1:9001",
    "upstreams/a-v2-2/endpoints/n1": "127.0.0.1:9002",
}


def test_route_keys_end_with_a_slash():
    assert route_key("a", "/") == "a/"
    assert route_key("a", "/api") == route_key("a", "/api/") == "a/api/"


def test_maps_and_servers():
    plan, grown = build(parse(KEYS), SlotTable())
    assert grown
    assert plan.maps["hosts"] == {"a.localhost": "a.localhost", "alias.localhost": "a.localhost"}
    assert plan.maps["routes"]["a.localhost/api/"] == "u_a-v2-2|0|,public,|,,|u_a-v2-2|0|DENY"
    assert plan.servers["u_a-v1-1"] == {1: ("127.0.0.1", 9001)}
    assert [b.capacity for b in plan.backends] == [4, 4]


def test_slots_are_stable_and_grow_by_powers_of_two():
    table = SlotTable()
    assert table.assign("b", ["x", "y"])
    assert table.slots["b"] == {"x": 1, "y": 2}
    assert not table.assign("b", ["y", "z"])
    assert table.slots["b"] == {"y": 2, "z": 1}
    assert table.assign("b", [f"n{i}" for i in range(5)])
    assert table.capacity["b"] == 8 == capacity_for(5)


def test_blue_green_switch_and_endpoint_changes_are_runtime_only():
    slots = SlotTable()
    old, _ = build(parse(KEYS), slots)
    keys = dict(
        KEYS,
        **{"hosts/a.localhost/locations/root/upstream": "a-v2-2", "upstreams/a-v2-2/endpoints/n2": "127.0.0.1:9003"},
    )
    new, grown = build(parse(keys), slots)
    assert not grown and new.structure == old.structure
    assert runtime_commands(old, new, Path("/g")) == [
        "set server u_a-v2-2/s2 addr 127.0.0.1 port 9003",
        "set server u_a-v2-2/s2 state ready",
        "set map /g/routes.map a.localhost/ u_a-v2-2|0|,public,|,,|u_a-v2-2|0|DENY",
    ]


def test_decommissioned_upstream_stays_declared_until_the_next_reload():
    slots = SlotTable()
    old, _ = build(parse(KEYS), slots)
    keys = dict(KEYS, **{"hosts/a.localhost/locations/root/upstream": "a-v2-2"})
    del keys["upstreams/a-v1-1/endpoints/n1"]
    new, _ = build(parse(keys), slots)
    assert fits(old, new)
    carry_over(old, new)
    assert new.structure == old.structure
    assert runtime_commands(old, new, Path("/g"))[-1] == "set server u_a-v1-1/s1 state maint"


def test_new_upstream_changes_the_structure():
    slots = SlotTable()
    old, _ = build(parse(KEYS), slots)
    new, _ = build(parse(dict(KEYS, **{"upstreams/a-v3-3/endpoints/n1": "127.0.0.1:9004"})), slots)
    assert new.structure != old.structure and not fits(old, new)


def test_canary_goes_into_the_route():
    keys = dict(
        KEYS,
        **{
            "hosts/a.localhost/locations/root/canary/upstream": "a-v3-3",
            "hosts/a.localhost/locations/root/canary/weight": "10",
        },
    )
    plan, _ = build(parse(keys), SlotTable())
    assert plan.maps["routes"]["a.localhost/"] == "u_a-v1-1|0|,public,|,,|u_a-v3-3|10|DENY"
    assert "u_a-v3-3" in {b.name for b in plan.backends}
    bad = parse(dict(keys, **{"hosts/a.localhost/locations/root/canary/weight": "150"}))
    assert any("canary/weight" in error for error in bad.errors)

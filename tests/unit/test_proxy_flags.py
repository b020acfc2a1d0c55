"""Host maintenance and pause (hosts/<host>/maintenance, hosts/<host>/pause): parsed and validated
like the other host keys, planned as the flags map, and applied by the incremental path."""

from __future__ import annotations

import random
import shutil

import pytest

from tests.unit.test_proxy_incremental import GEN, HOSTS, Pipeline, base_keys, random_change
from yoda_proxy.certs import self_signed
from yoda_proxy.haproxy import HAProxy
from yoda_proxy.incremental import patch
from yoda_proxy.keytree import KeyTree
from yoda_proxy.model import Host
from yoda_proxy.parse import parse
from yoda_proxy.plan import MAPS, build, host_flags
from yoda_proxy.render import write_generation
from yoda_proxy.settings import ProxySettings
from yoda_proxy.slots import SlotTable

KEYS = {
    "hosts/a.localhost/aliases/1": "www.a.localhost",
    "hosts/a.localhost/locations/root/path": "/",
    "hosts/a.localhost/locations/root/upstream": "a-v1-1",
    "hosts/b.localhost/locations/root/path": "/",
    "hosts/b.localhost/locations/root/upstream": "a-v1-1",
    "upstreams/a-v1-1/endpoints/n1": "127.0.0.1:9001",
}


def host(keys: dict[str, str], name: str = "a.localhost") -> Host:
    return parse(keys).hosts[name]


def test_absent_keys_are_off():
    wiring = parse(KEYS)
    assert wiring.errors == [] and wiring.ignored == {}
    assert (wiring.hosts["a.localhost"].maintenance, wiring.hosts["a.localhost"].pause_ms) == (None, 0)
    plan, _ = build(wiring, SlotTable())
    assert plan.maps["flags"] == {}


@pytest.mark.parametrize(
    "maintenance,pause,expected",
    [
        ("30", None, (30, 0, "30|0")),
        (" 86400 ", None, (86400, 0, "86400|0")),
        (None, "30", (None, 30000, "0|30000")),
        (None, "0.25", (None, 250, "0|250")),
        (None, "300", (None, 300000, "0|300000")),
        ("5", "10", (5, 10000, "5|10000")),
    ],
)
def test_values_are_read(maintenance, pause, expected):
    keys = dict(KEYS)
    if maintenance is not None:
        keys["hosts/a.localhost/maintenance"] = maintenance
    if pause is not None:
        keys["hosts/a.localhost/pause"] = pause
    wiring = parse(keys)
    assert wiring.errors == [] and wiring.ignored == {}
    a = wiring.hosts["a.localhost"]
    assert (a.maintenance, a.pause_ms, host_flags(a)) == expected
    plan, _ = build(wiring, SlotTable())
    assert plan.maps["flags"] == {"a.localhost": expected[2]}  # by the site's name: aliases find it through hosts


@pytest.mark.parametrize(
    "field,value",
    [
        ("maintenance", "0"),
        ("maintenance", "86401"),
        ("maintenance", "30s"),
        ("maintenance", ""),
        ("maintenance", "-1"),
        ("pause", "0"),
        ("pause", "301"),
        ("pause", "1e3"),
        ("pause", "30s"),
        ("pause", ""),
        ("pause", "0.0001"),
    ],
)
def test_a_bad_value_is_reported_and_the_previous_state_kept(field, value):
    key = f"hosts/a.localhost/{field}"
    good = {**KEYS, key: "7"}
    previous = parse(good)
    wiring = parse({**KEYS, key: value}, previous, {"hosts/a.localhost"})
    assert wiring.errors and wiring.errors[0].startswith(f"hosts/a.localhost/{field}: ")
    assert wiring.skipped() == {f"hosts/a.localhost/{field}": wiring.errors[0].split(": ", 1)[1]}
    assert host_flags(wiring.hosts["a.localhost"]) == host_flags(previous.hosts["a.localhost"])
    assert wiring.hosts["a.localhost"].locations  # the rest of the host is served
    fresh = parse({**KEYS, key: value})  # nothing to keep: off
    assert host_flags(fresh.hosts["a.localhost"]) is None and fresh.errors


def test_a_host_with_only_flags_is_a_site_without_routes():
    wiring = parse({**KEYS, "hosts/c.localhost/maintenance": "60"})
    assert wiring.errors == []
    plan, _ = build(wiring, SlotTable())
    assert plan.maps["hosts"]["c.localhost"] == "c.localhost" and plan.maps["flags"] == {"c.localhost": "60|0"}


def incremental(keys: dict[str, str], puts: dict[str, str], deletes: tuple[str, ...] = ()):
    pipeline = Pipeline(keys, incremental=True)
    tree: KeyTree = pipeline.tree
    changed = set()
    for key, value in puts.items():
        changed.add(tree.put(key, value))
    for key in deletes:
        changed.add(tree.delete(key))
    return pipeline, patch(tree, pipeline.wiring, pipeline.applied, changed, set(), pipeline.slots, pipeline.grace, GEN)


def test_on_and_off_are_one_map_command_each_and_no_reload():
    pipeline, on = incremental(KEYS, {"hosts/a.localhost/maintenance": "30", "hosts/a.localhost/pause": "2.5"})
    assert on is not None
    assert on.commands == ["add map /gen/flags.map a.localhost 30|2500"]
    assert on.plan.backends is pipeline.applied.backends
    _, changed = incremental({**KEYS, "hosts/a.localhost/pause": "2.5"}, {"hosts/a.localhost/pause": "9"})
    assert changed is not None and changed.commands == ["set map /gen/flags.map a.localhost 0|9000"]
    _, off = incremental({**KEYS, "hosts/a.localhost/pause": "2.5"}, {}, ("hosts/a.localhost/pause",))
    assert off is not None and off.commands == ["del map /gen/flags.map a.localhost"]
    assert off.plan.maps["flags"] == {}


def test_a_bad_value_goes_to_the_full_path():
    _, result = incremental(KEYS, {"hosts/a.localhost/pause": "forever"})
    assert result is None  # the full path reports it


def flag_change(rng: random.Random, tree: KeyTree) -> tuple[dict[str, str], list[str]]:
    if rng.random() < 0.5:
        return random_change(rng, tree)
    key = f"hosts/{rng.choice(HOSTS)}/{rng.choice(['maintenance', 'pause'])}"
    if rng.random() < 0.4:
        return {}, [key]
    return {key: rng.choice(["30", "1", "0.5", "300", "0", "bad", "86400"])}, []


@pytest.mark.parametrize("seed", range(6))
def test_incremental_path_agrees_with_the_full_one_on_flags(seed):
    rng = random.Random(seed)
    full, fast = Pipeline(base_keys(), incremental=False), Pipeline(base_keys(), incremental=True)
    for step in range(120):
        puts, deletes = flag_change(rng, full.tree)
        for pipeline in (full, fast):
            pipeline.change(puts, deletes)
        where = f"seed {seed} step {step}: {puts} {deletes}"
        assert fast.wiring == full.wiring, where
        assert fast.applied == full.applied, where
        for pipeline in (full, fast):
            assert pipeline.runtime.maps == {m: full.applied.maps[m] for m in MAPS}, where
    assert fast.patched > 10


@pytest.mark.skipif(not shutil.which("haproxy", path="/usr/sbin:/usr/bin"), reason="haproxy not installed")
def test_rendered_config_holds_and_pages(tmp_path):
    plan, _ = build(parse({**KEYS, "hosts/a.localhost/maintenance": "30"}), SlotTable())
    cert = tmp_path / "default.pem"
    cert.write_text(self_signed())
    gen = tmp_path / "gen-1"
    cfg = write_generation(plan, ProxySettings(work_dir=tmp_path), tmp_path, gen, cert)
    ok, output = HAProxy("/usr/sbin/haproxy", tmp_path).check(cfg)
    assert ok, output
    text = cfg.read_text()
    assert f"lua-load {gen}/hold.lua" in text and "http-request lua.yoda_hold" in text
    assert f'Map.new("{gen}/flags.map"' in (gen / "hold.lua").read_text()
    assert (gen / "flags.map").read_text() == "a.localhost 30|0\n"
    assert "maintenance" in (gen / "pages" / "maintenance.html").read_text()

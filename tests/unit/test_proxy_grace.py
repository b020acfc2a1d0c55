"""Endpoints gone from etcd kept in grace (no etcd, no HAProxy: a fake clock and `show stat` text)."""

from __future__ import annotations

import pytest

from yoda_proxy.cli import build_parser, options
from yoda_proxy.grace import Grace
from yoda_proxy.parse import parse
from yoda_proxy.runtime import up_servers
from yoda_proxy.status import Status

CHECKED = {
    "upstreams/app-v1-1/health/uri": "/health",
    "upstreams/app-v1-1/endpoints/a": "127.0.0.1:9001",
    "upstreams/app-v1-1/endpoints/b": "127.0.0.1:9002",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def served(grace: Grace, keys: dict[str, str]) -> dict[str, tuple]:
    """Upstream -> (node, ip, port) of what `grace` serves for `keys`."""
    return {name: up.endpoints for name, up in grace.serve(parse(keys)).upstreams.items()}


def without(keys: dict[str, str], *gone: str) -> dict[str, str]:
    return {k: v for k, v in keys.items() if not any(k.startswith(g) for g in gone)}


def test_a_vanished_endpoint_is_held_then_live_again(clock):
    grace = Grace(90, clock)
    served(grace, CHECKED)
    assert served(grace, without(CHECKED, "upstreams/app-v1-1/endpoints/b"))["app-v1-1"] == (
        ("a", "127.0.0.1", 9001),
        ("b", "127.0.0.1", 9002),
    )
    assert set(grace.held) == {("app-v1-1", "b")} and grace.total == 1
    clock.now += 30
    served(grace, CHECKED)  # registered again within the grace
    assert grace.held == {} and grace.total == 1


def test_the_grace_ends(clock):
    grace = Grace(90, clock)
    served(grace, CHECKED)
    gone = without(CHECKED, "upstreams/app-v1-1/endpoints/")
    assert len(served(grace, gone)["app-v1-1"]) == 2  # every endpoint at once: an etcd stall
    clock.now += 89
    assert grace.expired() == [] and len(served(grace, gone)["app-v1-1"]) == 2
    clock.now += 1
    assert len(grace.expired()) == 2
    assert served(grace, gone)["app-v1-1"] == () and grace.held == {}


def test_dropped_when_haproxy_marks_it_down(clock):
    grace = Grace(90, clock)
    served(grace, CHECKED)
    gone = without(CHECKED, "upstreams/app-v1-1/endpoints/b")
    served(grace, gone)
    grace.drop([("app-v1-1", "b")])
    assert served(grace, gone)["app-v1-1"] == (("a", "127.0.0.1", 9001),)
    assert grace.held == {}


def test_a_removed_upstream_takes_its_endpoints_at_once(clock):
    grace = Grace(90, clock)
    served(grace, CHECKED)
    assert "app-v1-1" not in served(grace, without(CHECKED, "upstreams/app-v1-1/"))
    assert grace.held == {}


def test_any_health_key_declares_a_check():
    assert parse(CHECKED).upstreams["app-v1-1"].checked
    assert parse({"upstreams/x-v1-1/health/interval": "2s"}).upstreams["x-v1-1"].checked
    assert not parse({"upstreams/x-v1-1/mode": "tcp"}).upstreams["x-v1-1"].checked


def test_no_grace_without_a_declared_health_check(clock):
    grace = Grace(90, clock)
    bare = without(CHECKED, "upstreams/app-v1-1/health/")
    served(grace, bare)
    assert served(grace, without(bare, "upstreams/app-v1-1/endpoints/b"))["app-v1-1"] == (("a", "127.0.0.1", 9001),)
    assert grace.held == {}


def test_the_same_address_under_another_node_is_live_again(clock):
    grace = Grace(90, clock)
    served(grace, CHECKED)
    moved = dict(
        without(CHECKED, "upstreams/app-v1-1/endpoints/b"), **{"upstreams/app-v1-1/endpoints/c": "127.0.0.1:9002"}
    )
    assert [node for node, _, _ in served(grace, moved)["app-v1-1"]] == ["a", "c"]
    assert grace.held == {}


def test_zero_seconds_is_no_grace(clock):
    grace = Grace(0, clock)
    served(grace, CHECKED)
    assert len(served(grace, without(CHECKED, "upstreams/app-v1-1/endpoints/b"))["app-v1-1"]) == 1


def test_the_parsed_wiring_stays_as_etcd_has_it(clock):
    grace = Grace(90, clock)
    grace.serve(parse(CHECKED))
    wiring = parse(without(CHECKED, "upstreams/app-v1-1/endpoints/b"))
    grace.serve(wiring)
    assert len(wiring.upstreams["app-v1-1"].endpoints) == 1 and wiring.counts()["endpoints"] == 1


def test_up_servers_reads_show_stat():
    answer = (
        "# pxname,svname,qcur,status,check_status\n"
        "u_app,s1,0,UP,L7OK\nu_app,s2,0,UP 1/2,L7STS\nu_app,s3,0,DOWN,L4CON\n"
        "u_app,s4,0,MAINT,\nu_app,s5,0,no check,\nu_app,s6,0,DOWN 1/2,L7OK\n\n"
    )
    assert up_servers(answer) == {("u_app", "s1"), ("u_app", "s2")}
    assert up_servers("No such proxy.\n") == set()


def test_status_and_metrics_count_endpoints_in_grace():
    status = Status("n1")
    status.endpoints_in_grace, status.endpoints_held = 2, 5
    assert status.as_json()["endpoints_in_grace"] == 2 and status.as_json()["endpoints_held_total"] == 5
    metrics = status.prometheus()
    assert "yoda_proxy_endpoints_in_grace 2" in metrics and "yoda_proxy_endpoints_held_total 5" in metrics


def test_grace_setting(monkeypatch):
    monkeypatch.setenv("YODA_NODE", "p1")
    assert options(build_parser().parse_args([])).endpoint_grace == 90
    monkeypatch.setenv("YODA_ENDPOINT_GRACE", "30")
    assert options(build_parser().parse_args([])).endpoint_grace == 30
    assert options(build_parser().parse_args(["--endpoint-grace", "0"])).endpoint_grace == 0
    with pytest.raises(SystemExit):
        options(build_parser().parse_args(["--endpoint-grace", "-1"]))

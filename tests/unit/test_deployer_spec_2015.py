"""The 2015 deployer's proxy and check rules, in Totem: comma-separated host names, disabled hosts,
per-host X-Frame-Options, an empty check path and check port 0. The lifecycle runs against real
etcd with the in-memory scheduler of test_deployer_lifecycle; the API answers through the real app."""

from __future__ import annotations

import pytest

from deployer import proxy_spec, wiring
from deployer.intake import new_record, plan
from deployer.records import has_event
from deployer.schedulers.base import labels
from tests.fixtures.deployer.harness import deploy_request
from tests.fixtures.deployer.service import AUTH, deployer_app
from tests.unit.test_deployer_lifecycle import ctx, fake, run  # noqa: F401  (ctx: a fixture)
from totem.contracts import deploy_request as contract
from totem.contracts import yoda
from totem.contracts.labels import HEALTH


def request(app="shop", version="v1", check=None, **host) -> dict:
    body = deploy_request(app, version, f"img:{version}", f"{app}.localhost", nodes=2)
    body["deployment"]["check"] = {"min-nodes": 2, "path": "/health", "timeout": "1s", "attempts": 2, **(check or {})}
    body["proxy"]["hosts"]["public"].update(host)
    return body


SCHEMA = contract.served_schema("unit", "unit", 0, proxy_spec.PROXY_SCHEMA)  # what a deployer applies


def planned(body: dict) -> dict:
    return plan(contract.with_defaults(body, SCHEMA))


def submit(ctx, body: dict) -> dict:  # noqa: F811
    record = new_record(ctx, body, "fake")
    ctx.records.create(record)
    return record


def event(record: dict, kind: str) -> dict:
    return next(e["details"] for e in record["events"] if e["type"] == kind)


def hosts_keys(ctx) -> dict[str, str]:  # noqa: F811
    root = yoda.hosts_prefix(ctx.yoda)
    return {k[len(root) :]: v for k, v in ctx.store.list(root).items()}


# -- host names ---------------------------------------------------------------------------------


def test_comma_separated_hostnames_are_one_host_with_aliases():
    """2015 proxy.wire_host: `re.split('[\\s,]*', host['hostname'])`, empty parts dropped: the first
    name is the host, the rest its aliases (Totem splits on commas and strips the blanks)."""
    body = request(hostname=" Shop.localhost, b.localhost ,, c.localhost,", aliases=["www.shop.localhost"])
    wired = planned(body)["wiring"]
    assert list(wired) == ["shop.localhost"]
    assert wired["shop.localhost"]["aliases"] == ["b.localhost", "c.localhost", "www.shop.localhost"]
    assert proxy_spec.hostnames("a.example, b.example,") == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("a.localhost, bad host", "'bad host' is not a valid host name"),
        ("a.localhost, -x.localhost", "'-x.localhost' is not a valid host name"),
        ("a.localhost, " + "x" * 64 + ".localhost", "is not a valid host name"),
        (" , ,", "names no host"),
        ("", "names no host"),
        ("a_b.localhost", "does not match"),  # not even host name characters: the schema says so
    ],
)
def test_a_bad_name_in_the_list_is_a_400_naming_the_path(hostname, message):
    """2015 wired whatever the split gave; Totem refuses the request, naming the field."""
    with deployer_app() as service:
        answer = service.test_client().post("/apps", json=request(hostname=hostname), headers=AUTH)
        assert answer.status_code == 400 and service.keys() == 0
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"].startswith("body.proxy.hosts.public.hostname: ") and message in error["message"]


# -- enabled: false -----------------------------------------------------------------------------


def test_a_disabled_host_is_not_wired(ctx):  # noqa: F811
    """2015 wire_proxy: `if host.get('enabled', True): wire_host(...)`."""
    body = request()
    body["proxy"]["hosts"]["old"] = {
        "hostname": "old.localhost",
        "enabled": False,
        "locations": {"legacy": {"port": 9999, "path": "/"}},  # its port counts for nothing either
    }
    assert list(planned(body)["wiring"]) == ["shop.localhost"]
    record = run(ctx, submit(ctx, body))
    assert record["state"] == "PROMOTED" and record["upstream"] == "shop-v1-8080"
    assert not any(key.startswith("old.localhost/") for key in hosts_keys(ctx))
    assert event(record, "WIRED")["hosts"] == ["shop.localhost"]


# -- x-frame-options ----------------------------------------------------------------------------


def test_x_frame_options_is_written_for_each_wired_host_default_deny(ctx):  # noqa: F811
    """2015 had no such setting (yoda-proxy sent no header); Totem's proxy sends DENY unless the host
    says SAMEORIGIN or off. The deployer writes hosts/<host>/x-frame-options always, DENY too, so a
    redeploy back to the default replaces an older SAMEORIGIN."""
    v1 = run(ctx, submit(ctx, request(hostname="shop.localhost, b.localhost", **{"x-frame-options": "SAMEORIGIN"})))
    assert v1["state"] == "PROMOTED"
    assert hosts_keys(ctx)["shop.localhost/x-frame-options"] == "SAMEORIGIN"
    assert "b.localhost/x-frame-options" not in hosts_keys(ctx)  # an alias is no host of its own
    v2 = run(ctx, submit(ctx, request(version="v2")))
    assert v2["state"] == "PROMOTED"
    assert hosts_keys(ctx)["shop.localhost/x-frame-options"] == "DENY"
    off = run(ctx, submit(ctx, request(version="v3", **{"x-frame-options": False})))  # YAML's unquoted off
    assert off["state"] == "PROMOTED" and hosts_keys(ctx)["shop.localhost/x-frame-options"] == "off"


def test_x_frame_options_goes_with_the_last_app_on_its_host(ctx):  # noqa: F811
    """Other apps' keys on a shared host are never touched; the host's setting is removed only once
    no app has a location or alias left on it."""
    shop = run(ctx, submit(ctx, request(hostname="shared.localhost", **{"x-frame-options": "off"})))
    cart = run(ctx, submit(ctx, request(app="cart", hostname="shared.localhost", **{"x-frame-options": "off"})))
    assert shop["state"] == cart["state"] == "PROMOTED"
    wiring.unwire(ctx.store, ctx.yoda, "shop")
    assert hosts_keys(ctx)["shared.localhost/x-frame-options"] == "off"  # cart still routes there
    wiring.unwire(ctx.store, ctx.yoda, "cart")
    assert hosts_keys(ctx) == {}


@pytest.mark.parametrize("value", ["deny", "ALLOW-FROM x", True, 1])
def test_an_unknown_x_frame_options_is_a_400(value):
    body = request(**{"x-frame-options": value})
    problems = contract.problems(body, SCHEMA)
    assert [p["path"] for p in problems] == ["body.proxy.hosts.public.x-frame-options"]


def test_one_host_name_given_twice_with_two_x_frame_options_is_a_400():
    body = request(**{"x-frame-options": "off"})
    body["proxy"]["hosts"]["again"] = {"hostname": "shop.localhost", "locations": {"api": {"path": "/api"}}}
    problems = proxy_spec.problems(body["proxy"])
    assert problems == [
        {
            "path": "body.proxy.hosts.public.x-frame-options",
            "message": "shop.localhost is also hosts.again, with x-frame-options DENY",
        }
    ]


# -- the check: empty path, port 0 --------------------------------------------------------------


def test_an_absent_check_path_is_slash_and_a_relative_one_gets_its_slash():
    """2015's default was '' (no HTTP check); Totem's deployer checks "/" when `path` is absent, so an
    app that says nothing is still health checked. A path without its "/" gets one, as before."""
    body = request()
    del body["deployment"]["check"]["path"]
    assert planned(body)["check_path"] == "/"
    assert planned(request(check={"path": "health"}))["check_path"] == "/health"


def test_an_empty_check_path_skips_the_http_check_only(ctx):  # noqa: F811
    """2015 _check_deployment: `if path and nodes:` check each node, else go on; discovery still ran.
    The instance still registers (yoda-discover's TCP check: an empty totem.health label) and the
    proxy checks it over TCP (an empty health/uri)."""
    fake(ctx).healthy = False  # any HTTP check would fail
    record = run(ctx, submit(ctx, request(check={"path": ""})))
    assert record["state"] == "PROMOTED", record["error"]
    assert record["spec"]["check_path"] == "" and len(event(record, "NODES_DISCOVERED")["endpoints"]) == 2
    assert event(record, "CHECK_PASSED") == {"skipped": "check.path is empty"}
    assert labels(record, "node", 1)[HEALTH] == ""
    uri = yoda.upstream_key(ctx.yoda, "shop-v1-8080", yoda.HEALTH_URI)
    body = request(check={"path": ""})
    body["proxy"]["upstreams"] = {}
    assert planned(body)["upstream_config"][yoda.HEALTH_URI] == ""
    assert ctx.store.get(uri) == "/health"  # the request's own upstream health uri wins, as before


def test_check_port_zero_skips_discovery_and_so_the_http_check(ctx):  # noqa: F811
    """2015 _check_discover: `if not check_port: return {}` (empty, 0 or None skip it); with no
    endpoints, _check_deployment had no nodes to check. Totem: port 0 only (null means the proxy's
    port); the upstream keeps the app's logical port."""
    fake(ctx).discover = False  # nothing ever registers
    fake(ctx).healthy = False
    record = run(ctx, submit(ctx, request(check={"port": 0})))
    assert record["state"] == "PROMOTED", record["error"]
    assert record["upstream"] == "shop-v1-8080" and record["spec"]["discover"] is False
    assert event(record, "NODES_DISCOVERED") == {"skipped": "check.port is 0"}
    assert event(record, "CHECK_PASSED") == {"skipped": "check.port is 0 (no discovery, so no HTTP check)"}
    assert has_event(record, "WIRED")


def test_check_port_null_still_discovers():
    """Not 2015's "None skips": null is the proxy's port here (docs: deploy request schema)."""
    spec = planned(request(check={"port": None}))
    assert spec["discover"] is True and spec["port"] == 8080

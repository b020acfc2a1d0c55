"""The /yoda key layout (totem/contracts/yoda.py) spells the 2015 keys exactly, with or without a trailing slash."""

from __future__ import annotations

import pytest

from totem.contracts import yoda


@pytest.mark.parametrize("base", ["/yoda", "/yoda/"])
def test_builders_spell_the_layout(base):
    assert yoda.alias_key(base, "a.localhost", "shop_0") == "/yoda/hosts/a.localhost/aliases/shop_0"
    assert yoda.location_key(base, "h", "shop_home", yoda.PATH) == "/yoda/hosts/h/locations/shop_home/path"
    assert yoda.location_key(base, "h", "l", yoda.UPSTREAM) == "/yoda/hosts/h/locations/l/upstream"
    assert yoda.location_key(base, "h", "l", yoda.FORCE_SSL) == "/yoda/hosts/h/locations/l/force-ssl"
    assert yoda.location_key(base, "h", "l", yoda.CANARY_UPSTREAM) == "/yoda/hosts/h/locations/l/canary/upstream"
    assert yoda.location_key(base, "h", "l", yoda.CANARY_WEIGHT) == "/yoda/hosts/h/locations/l/canary/weight"
    assert yoda.location_acl_key(base, "h", "l", yoda.ALLOWED, "lan") == "/yoda/hosts/h/locations/l/acls/allowed/lan"
    assert yoda.location_acl_key(base, "h", "l", yoda.DENIED, "bots") == "/yoda/hosts/h/locations/l/acls/denied/bots"
    assert yoda.upstream_key(base, "shop-v1-8080", yoda.MODE) == "/yoda/upstreams/shop-v1-8080/mode"
    assert yoda.upstream_key(base, "u", yoda.HEALTH_URI) == "/yoda/upstreams/u/health/uri"
    assert yoda.upstream_key(base, "u", yoda.HEALTH_TIMEOUT) == "/yoda/upstreams/u/health/timeout"
    assert yoda.upstream_key(base, "u", yoda.HEALTH_INTERVAL) == "/yoda/upstreams/u/health/interval"
    assert yoda.endpoint_key(base, "u", "node-1") == "/yoda/upstreams/u/endpoints/node-1"
    assert yoda.listener_key(base, "db", yoda.BIND) == "/yoda/global/listeners/db/bind"
    assert yoda.listener_key(base, "db", yoda.UPSTREAM) == "/yoda/global/listeners/db/upstream"
    assert yoda.acl_cidr_key(base, "office") == "/yoda/global/acls/office/cidr/src"
    assert yoda.error_page_key(base, 503) == "/yoda/global/errors/503"
    assert yoda.cert_key(base, "site") == "/yoda/certs/site"
    assert yoda.revision_key(base) == "/yoda/revision"
    assert yoda.proxy_node_info_key(base, "p1") == "/yoda/proxy-nodes/p1/info"
    assert yoda.proxy_node_key(base, "p1", yoda.APPLIED) == "/yoda/proxy-nodes/p1/applied"
    assert yoda.proxy_node_key(base, "p1", yoda.ERROR) == "/yoda/proxy-nodes/p1/error"


def test_prefixes_end_with_a_slash_so_listing_is_anchored():
    assert yoda.prefix("/yoda") == "/yoda/"
    assert yoda.hosts_prefix("/yoda") == "/yoda/hosts/"
    assert yoda.host_prefix("/yoda", "h") == "/yoda/hosts/h/"
    assert yoda.location_prefix("/yoda", "h", "l") == "/yoda/hosts/h/locations/l/"
    assert yoda.upstreams_prefix("/yoda") == "/yoda/upstreams/"
    assert yoda.upstream_prefix("/yoda", "u") == "/yoda/upstreams/u/"
    assert yoda.endpoints_prefix("/yoda", "u") == "/yoda/upstreams/u/endpoints/"
    assert yoda.proxy_nodes_prefix("/yoda") == "/yoda/proxy-nodes/"
    assert yoda.proxy_node_prefix("/yoda", "p1") == "/yoda/proxy-nodes/p1/"


def test_upstream_names_are_per_version():
    assert yoda.upstream_name("shop", "v2", 8080) == "shop-v2-8080"


def test_endpoint_keys_parse_back():
    assert yoda.parse_endpoint_key("/yoda", yoda.endpoint_key("/yoda", "u", "n")) == ("u", "n")
    for key in (
        "/yoda/upstreams/u/mode",
        "/yoda/upstreams/u/endpoints/",
        "/yoda/upstreams/u/endpoints/n/x",
        "/other/upstreams/u/endpoints/n",
        "/yoda/hosts/u/endpoints/n",
    ):
        assert yoda.parse_endpoint_key("/yoda", key) is None, key


def test_proxy_node_keys_parse_back():
    assert yoda.parse_proxy_node_key("/yoda/", "/yoda/proxy-nodes/p1/applied") == ("p1", "applied")
    for key in (
        "/yoda/proxy-nodes/p1",
        "/yoda/proxy-nodes//info",
        "/yoda/proxy-nodes/p1/info/x",
        "/y/proxy-nodes/p/info",
    ):
        assert yoda.parse_proxy_node_key("/yoda", key) is None, key


def test_host_keys_parse_into_host_kind_id_and_field():
    assert yoda.parse_host_key("/yoda", "/yoda/hosts/h/aliases/shop_0") == ("h", yoda.ALIASES, "shop_0", "")
    assert yoda.parse_host_key("/yoda", "/yoda/hosts/h/locations/shop_home/acls/allowed/office") == (
        "h",
        yoda.LOCATIONS,
        "shop_home",
        "acls/allowed/office",
    )
    for key in ("/yoda/hosts/h", "/yoda/hosts/h/other/x", "/yoda/upstreams/u/endpoints/n", "/y/hosts/h/aliases/a"):
        assert yoda.parse_host_key("/yoda", key) is None, key


def test_relative_strips_the_base_only_when_the_key_lies_under_it():
    assert yoda.relative("/yoda", "/yoda/revision") == "revision"
    assert yoda.relative("/yoda", "/yodax/revision") is None

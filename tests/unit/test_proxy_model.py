"""Parsing and validating the yoda wiring (no etcd, no HAProxy)."""

from __future__ import annotations

from yoda_proxy.model import PUBLIC_CIDRS
from yoda_proxy.parse import parse

BASE = {
    "revision": "r1",
    "hosts/App.localhost/aliases/1": "www.app.localhost",
    "hosts/App.localhost/locations/root/path": "/",
    "hosts/App.localhost/locations/root/upstream": "app-v1-8000",
    "hosts/App.localhost/locations/api/path": "/api",
    "hosts/App.localhost/locations/api/upstream": "api-v1-8001",
    "hosts/App.localhost/locations/api/force-ssl": "true",
    "hosts/App.localhost/locations/api/acls/allowed/1": "office",
    "hosts/App.localhost/locations/api/acls/denied/1": "blocked",
    "upstreams/app-v1-8000/endpoints/n1": "127.0.0.1:8000",
    "upstreams/app-v1-8000/health/uri": "/health",
    "upstreams/app-v1-8000/health/interval": "500ms",
    "upstreams/api-v1-8001/endpoints/n1": "localhost:8001",
    "global/acls/office/cidr/src": "10.0.0.0/8, 192.168.1.0/24 127.0.0.1",
    "global/acls/blocked/cidr/src": "10.9.9.9",
    "global/listeners/pg/bind": ":15432",
    "global/listeners/pg/upstream": "pg-1-5432",
    "upstreams/pg-1-5432/mode": "tcp",
    "upstreams/pg-1-5432/endpoints/db": "127.0.0.1:5432",
    "proxy-nodes/other/info": "{}",
}


def test_parses_the_2015_layout():
    wiring = parse(BASE)
    assert wiring.errors == []
    assert wiring.revision == "r1"
    host = wiring.hosts["app.localhost"]
    assert host.aliases == ("www.app.localhost",)
    api = next(loc for loc in host.locations if loc.name == "api")
    assert (api.path, api.upstream, api.force_ssl) == ("/api", "api-v1-8001", True)
    assert api.allowed == ("office",) and api.denied == ("blocked",)
    root = next(loc for loc in host.locations if loc.name == "root")
    assert root.allowed == ("public",) and not root.force_ssl
    app = wiring.upstreams["app-v1-8000"]
    assert app.health.uri == "/health" and app.health.interval_ms == 500 and app.health.timeout_ms == 500
    assert wiring.upstreams["api-v1-8001"].endpoints == (("n1", "127.0.0.1", 8001),)
    assert wiring.upstreams["api-v1-8001"].health.interval_ms == 2000
    assert wiring.acls["office"] == ("10.0.0.0/8", "192.168.1.0/24", "127.0.0.1/32")
    assert wiring.acls["public"] == PUBLIC_CIDRS
    assert wiring.listeners["pg"].port == 15432 and wiring.listeners["pg"].address is None
    assert wiring.counts()["endpoints"] == 3


def test_invalid_entities_are_reported_and_skipped():
    keys = dict(BASE)
    keys["hosts/bad host!/locations/x/path"] = "/"
    keys["hosts/App.localhost/locations/half/path"] = "/half"  # no upstream yet
    keys["upstreams/app-v1-8000/endpoints/n2"] = "not-an-address"
    keys["upstreams/weird/mode"] = "udp"
    keys["global/acls/broken/cidr/src"] = "10.0.0.0/33"
    keys["certs/junk"] = "not a pem"
    wiring = parse(keys)
    text = "\n".join(wiring.errors)
    for fragment in ("bad host!", "half: incomplete", "endpoints/n2", "weird", "broken", "certs/junk"):
        assert fragment in text
    assert "bad host!" not in wiring.hosts and "weird" not in wiring.upstreams
    assert len(wiring.upstreams["app-v1-8000"].endpoints) == 1
    assert [loc.name for loc in wiring.hosts["app.localhost"].locations] == ["api", "root"]


def test_previous_good_version_is_kept_when_an_entity_turns_invalid():
    good = parse(BASE)
    keys = dict(BASE)
    keys["hosts/App.localhost/locations/api/path"] = "api with spaces"
    keys["upstreams/app-v1-8000/health/interval"] = "soon"
    wiring = parse(keys, good)
    assert wiring.errors
    api = next(loc for loc in wiring.hosts["app.localhost"].locations if loc.name == "api")
    assert api.path == "/api"
    assert wiring.upstreams["app-v1-8000"] == good.upstreams["app-v1-8000"]


def test_cross_references_are_checked():
    keys = dict(BASE)
    keys["hosts/other.localhost/aliases/1"] = "www.app.localhost"
    keys["hosts/App.localhost/locations/api/acls/allowed/2"] = "nobody-defined-this"
    keys["global/listeners/pg/upstream"] = "app-v1-8000"
    text = "\n".join(parse(keys).errors)
    assert "already belongs to app.localhost" in text
    assert "unknown acl nobody-defined-this" in text
    assert "must exist with mode tcp" in text


def test_unchanged_entities_are_reused_and_errors_reported_again():
    first = parse(BASE)
    keys = dict(BASE, **{"hosts/App.localhost/locations/half/path": "/half"})
    second = parse(keys, first, changed={"hosts/App.localhost"})
    assert second.upstreams["app-v1-8000"] is first.upstreams["app-v1-8000"]
    assert second.hosts["app.localhost"] is not first.hosts["app.localhost"]
    third = parse(keys, second, changed=set())
    assert any("half" in e for e in second.errors) and any("half" in e for e in third.errors)


def test_key_tree_names_the_entity_each_change_touches():
    from yoda_proxy.keytree import KeyTree

    tree = KeyTree.of({"revision": "r1"})
    assert tree.put("hosts/a/locations/x/path", "/") == "hosts/a"
    assert tree.put("global/acls/office/cidr/src", "10.0.0.0/8") == "global/acls/office"
    assert tree.put("global/errors/404", "<h1/>") is None and tree.get("global/errors/404") == "<h1/>"
    assert tree.delete("hosts/a/locations/x/path") == "hosts/a"
    assert "a" not in tree.sections["hosts/"] and tree.get("revision") == "r1"


def test_key_tree_round_trips_and_the_cache_file_is_private(tmp_path):
    from yoda_proxy import cache
    from yoda_proxy.keytree import KeyTree

    keys = dict(BASE, **{"certs/a": "PEM", "global/errors/503": "<h1/>"})
    assert KeyTree.of(keys).items() == keys
    cache.save(tmp_path / "wiring.json", keys)
    assert cache.load(tmp_path / "wiring.json") == keys
    assert (tmp_path / "wiring.json").stat().st_mode & 0o077 == 0
    assert cache.load(tmp_path / "missing.json") == {}


def test_endpoint_node_names_are_free_form():
    wiring = parse({"upstreams/a-v1-1/endpoints/a-v1@1.service": "127.0.0.1:8000"})
    assert wiring.errors == [] and wiring.upstreams["a-v1-1"].endpoints[0][0] == "a-v1@1.service"

"""A /yoda tree as the 2015 yoda-proxy seeded and used it (bin/confd-wrapper.sh, haproxy.cfg.tmpl):
accepted or ignored key by key, its TCP listeners served, host-name endpoints resolved,
X-Frame-Options set, and one bad entry never holding back the rest."""

from __future__ import annotations

import shutil
import socket

import pytest

from yoda_proxy.certs import self_signed
from yoda_proxy.haproxy import HAProxy
from yoda_proxy.model import listener_id
from yoda_proxy.parse import parse
from yoda_proxy.plan import build
from yoda_proxy.render import write_generation
from yoda_proxy.settings import Bind, ProxySettings
from yoda_proxy.slots import SlotTable

HAPROXY = shutil.which("haproxy", path="/usr/sbin:/usr/bin")

# What 2015's confd-wrapper.sh wrote at the first start (PROXY_HOST, a millisecond timestamp).
SEED_2015 = {
    "global/hostname": "yoda.local.sh",
    "global/control/reload": "1446076800000",
    "global/listeners/http/bind": "0.0.0.0:80",
    "global/listeners/https/bind": "0.0.0.0:443",
    "global/listeners/admin/bind": "localhost:8081",
    "global/listeners/proxy-http/bind": "0.0.0.0:8080",
    "global/listeners/proxy-https/bind": "0.0.0.0:8443",
    "global/acls/public/cidr/src": "0.0.0.0/0",
    "global/acls/global-black-list/cidr/src": "",
}
# ... and what its README told operators to add.
APPS_2015 = {
    "upstreams/backend-abc.myapp.com/endpoints/node1": "10.12.12.101:80",
    "hosts/abc.myapp.com/locations/home/path": "/",
    "hosts/abc.myapp.com/locations/home/upstream": "backend-abc.myapp.com",
    "hosts/abc.myapp.com/locations/home/acls/allowed/a1": "public",
    "hosts/abc.myapp.com/locations/home/acls/denied/d1": "global-black-list",
    "hosts/abc.myapp.com/aliases/www": "www.myapp.com",
    "global/listeners/tcp/rabbitmq-main/bind": "0.0.0.0:5672",
    "global/listeners/tcp/rabbitmq-main/upstream": "backend-rabbitmq",
    "global/listeners/tcp/rabbitmq-main/acls/allowed/a1": "public",
    "global/listeners/tcp/rabbitmq-main/acls/denied/d1": "global-black-list",
    "upstreams/backend-rabbitmq/mode": "tcp",
    "upstreams/backend-rabbitmq/endpoints/node1": "10.12.12.102:5672",
}


def render(tmp_path, keys: dict[str, str]) -> str:
    """The generation's haproxy.cfg, checked by `haproxy -c` (which binds nothing)."""
    plan, _ = build(parse(keys), SlotTable())
    cert = tmp_path / "default.pem"
    cert.write_text(self_signed())
    cfg = write_generation(plan, ProxySettings(work_dir=tmp_path), tmp_path, tmp_path / "gen-1", cert)
    ok, output = HAProxy(HAPROXY or "haproxy", tmp_path).check(cfg)
    assert ok, output
    return cfg.read_text()


def test_the_2015_seed_is_accepted_or_ignored_key_by_key():
    """2015 read every seeded key through confd; Totem reads none of the proxy-frontend ones:
    no error (which would hold back acknowledgements), one ignored entry per key, with the reason."""
    wiring = parse(dict(SEED_2015, revision="1.d"))
    assert wiring.errors == [] and wiring.skipped() == {}
    assert set(wiring.ignored) == {k for k in SEED_2015 if not k.startswith("global/acls/")}
    for name in ("http", "https", "admin", "proxy-http", "proxy-https"):
        assert "--http/--https/--admin" in wiring.ignored[f"global/listeners/{name}/bind"]
    assert "reload" in wiring.ignored["global/control/reload"]
    assert wiring.listeners == {}


def test_an_empty_cidr_is_an_empty_acl(tmp_path):
    """2015 rendered `acl global-black-list src ` with no pattern: an ACL that matches nothing,
    which locations could name in acls/denied. Totem keeps it as an empty list: valid, matches nothing."""
    wiring = parse(dict(SEED_2015, **APPS_2015))
    assert wiring.errors == []
    assert wiring.acls["global-black-list"] == () and wiring.acls["public"] == ("0.0.0.0/0",)
    home = wiring.hosts["abc.myapp.com"].locations[0]
    assert home.denied == ("global-black-list",) and home.allowed == ("public",)
    if HAPROXY:
        text = render(tmp_path, dict(SEED_2015, **APPS_2015))
        assert (tmp_path / "gen-1" / "acls" / "global-black-list.lst").read_text() == ""
        # 2015: `http-request deny if global-black-list` on every HTTP frontend, `reject` on every TCP one
        assert "file " + str(tmp_path / "gen-1" / "pages" / "403.html") + " if { src -f" in text
        assert text.count("tcp-request connection reject if { src -f") == 2  # black list + denied d1


def test_2015_tcp_listeners_are_totem_listeners():
    """2015: `global/listeners/tcp/<n>/{bind,upstream}` → `frontend <n>` in mode tcp on that bind,
    `use_backend <upstream>`; no acls/allowed meant everyone. Bind forms as HAProxy took them:
    `*:port` and `0.0.0.0:port` are every IPv4 address; `:port` is the proxy's own HTTP address in Totem."""
    keys = dict(APPS_2015)
    for n, bind in enumerate(("*:15001", "0.0.0.0:15002", "127.0.0.1:15003", ":15004")):
        keys[f"global/listeners/tcp/t{n}/bind"] = bind
        keys[f"global/listeners/tcp/t{n}/upstream"] = "backend-rabbitmq"
    keys["global/acls/global-black-list/cidr/src"] = ""
    wiring = parse(keys)
    assert wiring.errors == []
    binds = {k: (v.address, v.port) for k, v in wiring.listeners.items() if k.startswith("tcp/t")}
    assert binds == {
        "tcp/t0": ("0.0.0.0", 15001),
        "tcp/t1": ("0.0.0.0", 15002),
        "tcp/t2": ("127.0.0.1", 15003),
        "tcp/t3": (None, 15004),
    }
    rabbit = wiring.listeners["tcp/rabbitmq-main"]
    assert rabbit.name == "_tcp.rabbitmq-main" and rabbit.allowed == ("public",)
    assert rabbit.denied == ("global-black-list",) and wiring.listeners["tcp/t0"].allowed == ()
    plan, _ = build(wiring, SlotTable())
    assert plan.maps["listeners"]["_tcp.rabbitmq-main"] == "u_backend-rabbitmq"
    assert str(Bind("0.0.0.0", 15001)) == "0.0.0.0:15001"


def test_listener_ids_are_safe_haproxy_names():
    """Native listener names stay as they are; 2015 ones can never collide with them (no "_" first)."""
    assert listener_id("pg") == "pg"
    assert listener_id("tcp/rabbitmq-main") == "_tcp.rabbitmq-main"
    odd = listener_id("tcp/-")
    assert odd.startswith("_tcp.-.") and odd != listener_id("tcp/--")


def test_tcp_listener_acls_are_rendered(tmp_path):
    """2015: `tcp-request connection reject if <denied> or …` and `reject if !<allowed> …` (any allowed
    ACL admits). An unknown ACL is reported and never rendered; all allowed ones unknown: closed."""
    if not HAPROXY:
        pytest.skip("haproxy not installed")
    keys = dict(SEED_2015, **APPS_2015, **{"global/acls/office/cidr/src": "10.0.0.0/8"})
    keys["global/listeners/tcp/rabbitmq-main/acls/allowed/a2"] = "office"
    keys["global/listeners/tcp/closed/bind"] = "127.0.0.1:15010"
    keys["global/listeners/tcp/closed/upstream"] = "backend-rabbitmq"
    keys["global/listeners/tcp/closed/acls/allowed/a1"] = "nobody-defined-this"
    wiring = parse(keys)
    assert wiring.skipped() == {"global/listeners/tcp/closed": "unknown acl nobody-defined-this"}
    text = render(tmp_path, keys)
    acls = tmp_path / "gen-1" / "acls"
    assert f"reject unless {{ src -f {acls}/office.lst }} || {{ src -f {acls}/public.lst }}" in text
    closed = text.split("frontend l__tcp.closed", 1)[1].split("frontend", 1)[0]
    assert "    tcp-request connection reject\n" in closed and "nobody" not in text


def test_host_name_endpoints_are_resolved_and_a_bad_one_is_skipped_alone(monkeypatch):
    """2015's HAProxy resolved `server node1 host:port` at config load (and refused the whole config
    when a name did not resolve). Totem resolves when it reads the key; an unresolvable endpoint alone
    is left out and reported. The unresolvable name is answered here: no DNS query leaves the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    wiring = parse(
        {
            "upstreams/a-v1-1/endpoints/n1": "localhost:8090",
            "upstreams/a-v1-1/endpoints/n2": "no-such-host.invalid:8090",
            "upstreams/a-v1-1/endpoints/n3": "127.0.0.2:8090",
        }
    )
    assert wiring.upstreams["a-v1-1"].endpoints == (("n1", "127.0.0.1", 8090), ("n3", "127.0.0.2", 8090))
    assert list(wiring.skipped()) == ["upstreams/a-v1-1/endpoints/n2"]
    assert "does not resolve" in wiring.skipped()["upstreams/a-v1-1/endpoints/n2"]


def test_x_frame_options_default_and_per_host(tmp_path):
    """2015: `rspadd X-Frame-Options: DENY if !x_frame_options_found` on every HTTP frontend (the app's
    own header won). Totem: the same default; `hosts/<host>/x-frame-options` = DENY, SAMEORIGIN or off."""
    keys = {
        "hosts/a.localhost/locations/root/path": "/",
        "hosts/a.localhost/locations/root/upstream": "a-v1-1",
        "hosts/b.localhost/locations/root/path": "/",
        "hosts/b.localhost/locations/root/upstream": "a-v1-1",
        "hosts/b.localhost/x-frame-options": "sameorigin",
        "hosts/c.localhost/locations/root/path": "/",
        "hosts/c.localhost/locations/root/upstream": "a-v1-1",
        "hosts/c.localhost/x-frame-options": "off",
        "upstreams/a-v1-1/endpoints/n1": "127.0.0.1:9001",
    }
    plan, _ = build(parse(keys), SlotTable())
    assert [plan.maps["routes"][f"{h}.localhost/"].rsplit("|", 1)[1] for h in "abc"] == ["DENY", "SAMEORIGIN", "off"]
    bad = parse(dict(keys, **{"hosts/b.localhost/x-frame-options": "ALLOW-FROM x"}), parse(keys))
    assert list(bad.skipped()) == ["hosts/b.localhost/x-frame-options"]
    assert bad.hosts["b.localhost"].frame_options == "SAMEORIGIN"  # the last good value stays
    if HAPROXY:
        text = render(tmp_path, keys)
        assert "http-after-response set-header X-Frame-Options %[var(txn.xfo)]" in text
        assert "!{ res.hdr(x-frame-options) -m found }" in text


def test_location_ids_are_any_key_segment():
    """2015 rendered location ids into ACL names (`__path-<host>-<loc>`); Totem never renders them,
    so `-` and other printable segments are fine. A space is still refused, for that location only."""
    wiring = parse(
        {
            "hosts/a.localhost/locations/-/path": "/",
            "hosts/a.localhost/locations/-/upstream": "a-v1-1",
            "hosts/a.localhost/locations/@api~1/path": "/api",
            "hosts/a.localhost/locations/@api~1/upstream": "a-v1-1",
            "hosts/a.localhost/locations/two words/path": "/x",
            "hosts/a.localhost/locations/two words/upstream": "a-v1-1",
        }
    )
    assert [loc.name for loc in wiring.hosts["a.localhost"].locations] == ["-", "@api~1"]
    assert list(wiring.skipped()) == ["hosts/a.localhost/locations/two words"]


def test_one_apps_bad_entries_are_skipped_and_named_by_their_keys():
    """2015: one bad value made `haproxy -c` fail, so confd applied nothing for anyone. Totem skips the
    bad entry (or keeps its previous version), names it by its key, and serves the rest."""
    good = {
        "hosts/good.localhost/locations/good_home/path": "/",
        "hosts/good.localhost/locations/good_home/upstream": "good-v1-8080",
        "upstreams/good-v1-8080/endpoints/n1": "127.0.0.1:9001",
    }
    bad = {
        "hosts/shared.localhost/locations/bad_home/path": "no leading slash",
        "hosts/shared.localhost/locations/bad_home/upstream": "bad-v1-8080",
        "hosts/shared.localhost/locations/bad_api/path": "/api",
        "hosts/shared.localhost/locations/bad_api/upstream": "bad-v2-8080",
        "upstreams/bad-v2-8080/health/interval": "often",
        "hosts/shared.localhost/aliases/bad_0": "good.localhost",
    }
    wiring = parse(dict(good, **bad))
    assert set(wiring.skipped()) == {
        "hosts/shared.localhost/locations/bad_home",
        "hosts/shared.localhost/locations/bad_api",  # its upstream was left out: the location says so
        "upstreams/bad-v2-8080",
        "hosts/shared.localhost/aliases/bad_0",
    }
    plan, _ = build(wiring, SlotTable())
    assert plan.maps["routes"]["good.localhost/"].startswith("u_good-v1-8080|")
    assert plan.maps["hosts"]["good.localhost"] == "good.localhost"


def test_ignored_keys_are_reported_on_incremental_parses_too():
    """The proxy parses only what changed; keys it ignores must stay listed (status, once-per-key log)."""
    keys = dict(SEED_2015, **{"upstreams/a-v1-1/endpoints-meta/n1/x": "1", "upstreams/a-v1-1/weight": "3"})
    first = parse(keys)
    again = parse(keys, first, changed=set())
    assert again.ignored == first.ignored
    assert "2015 endpoint metadata" in again.ignored["upstreams/a-v1-1/endpoints-meta/n1/x"]
    assert again.ignored["upstreams/a-v1-1/weight"] == "not a key yoda-proxy reads"

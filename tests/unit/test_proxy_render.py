"""Rendering: the generated haproxy.cfg passes `haproxy -c` and declares what the plan needs."""

from __future__ import annotations

import shutil

import pytest

from yoda_proxy.certs import self_signed
from yoda_proxy.haproxy import HAProxy, parse_show_proc
from yoda_proxy.parse import parse
from yoda_proxy.plan import build
from yoda_proxy.render import map_text, write_generation
from yoda_proxy.settings import ProxySettings
from yoda_proxy.slots import SlotTable

pytestmark = pytest.mark.skipif(not shutil.which("haproxy", path="/usr/sbin:/usr/bin"), reason="haproxy not installed")


def keys() -> dict[str, str]:
    return {
        "hosts/a.localhost/locations/root/path": "/",
        "hosts/a.localhost/locations/root/upstream": "a-v1-1",
        "hosts/a.localhost/locations/root/acls/allowed/1": "office",
        "upstreams/a-v1-1/health/uri": "/health",
        **{f"upstreams/a-v1-1/endpoints/n{i}": f"127.0.0.1:{9000 + i}" for i in range(6)},
        "global/acls/office/cidr/src": "127.0.0.0/8 ::1",
        "global/listeners/pg/bind": "127.0.0.1:15432",
        "global/listeners/pg/upstream": "pg-1-5432",
        "upstreams/pg-1-5432/mode": "tcp",
        "certs/a": self_signed("a.localhost"),
        "global/errors/404": "<h1>custom 404</h1>",
    }


def test_rendered_config_is_valid(tmp_path):
    wiring = parse(keys())
    assert wiring.errors == []
    plan, _ = build(wiring, SlotTable())
    cert = tmp_path / "default.pem"
    cert.write_text(self_signed())
    cfg = write_generation(plan, ProxySettings(work_dir=tmp_path), tmp_path, tmp_path / "gen-1", cert)
    ok, output = HAProxy("/usr/sbin/haproxy", tmp_path).check(cfg)
    assert ok, output
    text = cfg.read_text()
    assert "option httpchk GET /health" in text
    assert "server-template s 7-8 0.0.0.0:0 disabled" in text
    assert "frontend l_pg" in text and "127.0.0.1:15432" in text
    assert "src -f" in text and "expose-fd listeners" in text
    assert (tmp_path / "gen-1" / "certs" / "a.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "gen-1" / "pages" / "404.html").read_text() == "<h1>custom 404</h1>"
    assert "pg u_pg-1-5432" in (tmp_path / "gen-1" / "listeners.map").read_text()


def test_map_text_is_sorted():
    assert map_text({"b": "2", "a": "1"}) == "a 1\nb 2\n"


def test_show_proc_parsing():
    text = (
        "#<PID>          <type>          <reloads>       <uptime>        <version>\n"
        "5059            master          3 [failed: 1]   0d00h10m11s     2.6.12\n"
        "# workers\n7974            worker          0               0d00h00m01s     2.6.12\n"
        "# old workers\n7000            worker          1               0d00h00m05s     2.6.12\n"
        "# programs\n\n"
    )
    state = parse_show_proc(text)
    assert (state.master, state.reloads, state.failed, state.workers) == (5059, 3, 1, (7974,))

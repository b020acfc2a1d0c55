"""The runtime API connection: kept open between batches, pipelined, answers checked, and opened
again when HAProxy closed it or after a reload (a real HAProxy in master-worker mode)."""

from __future__ import annotations

import re
import shutil

import pytest

from totem.net import free_port
from yoda_proxy.certs import self_signed
from yoda_proxy.haproxy import HAProxy
from yoda_proxy.parse import parse
from yoda_proxy.plan import build
from yoda_proxy.render import write_generation
from yoda_proxy.runtime import WINDOW, RuntimeAPI, RuntimeCommandError
from yoda_proxy.settings import Bind, ProxySettings
from yoda_proxy.slots import SlotTable

pytestmark = pytest.mark.skipif(not shutil.which("haproxy", path="/usr/sbin:/usr/bin"), reason="haproxy not installed")


@pytest.fixture
def haproxy(tmp_path):
    keys = {
        "hosts/a.localhost/locations/root/path": "/",
        "hosts/a.localhost/locations/root/upstream": "a-v1-1",
        "upstreams/a-v1-1/endpoints/n1": "127.0.0.1:9",
    }
    plan, _ = build(parse(keys), SlotTable())
    opts = ProxySettings(http=Bind("127.0.0.1", free_port()), https=Bind("127.0.0.1", free_port()), work_dir=tmp_path)
    cert = tmp_path / "default.pem"
    cert.write_text(self_signed())
    (tmp_path / "haproxy.cfg").symlink_to(write_generation(plan, opts, tmp_path, tmp_path / "gen-1", cert))
    proxy = HAProxy("/usr/sbin/haproxy", tmp_path)
    proxy.start()
    yield proxy
    proxy.stop()


def routes(runtime: RuntimeAPI, haproxy: HAProxy) -> str:
    return runtime.run([f"show map {haproxy.work}/gen-1/routes.map"])[0]


def test_batches_share_one_connection_and_answers_are_checked(haproxy):
    runtime = RuntimeAPI(haproxy.stats_socket)
    path = haproxy.work / "gen-1" / "routes.map"
    runtime.run([f"add map {path} b.localhost/ u_b"])
    runtime.run([f"set map {path} b.localhost/ u_c", f"add map {path} c.localhost/ u_c"])
    assert "b.localhost/ u_c" in routes(runtime, haproxy) and "c.localhost/ u_c" in routes(runtime, haproxy)
    with pytest.raises(RuntimeCommandError, match="nope.map"):
        runtime.run([f"set map {haproxy.work}/nope.map x y"])
    many = [f"add map {path} h{i}.localhost/ u_h" for i in range(3 * WINDOW + 1)]
    assert runtime.run(many) == [""] * len(many)  # more than one window, every answer read
    assert routes(runtime, haproxy).count("u_h") == len(many)
    assert runtime.connections == 1
    with pytest.raises(ValueError):
        runtime.run([f"set map {path} a; shutdown frontend yoda_http"])


def test_a_closed_connection_is_opened_again(haproxy):
    runtime = RuntimeAPI(haproxy.stats_socket)
    runtime.run(["show info"])
    assert runtime._sock is not None
    runtime._sock.sendall(b"quit\n")  # HAProxy hangs up, as after its `stats timeout`
    assert runtime.run(["show info"])[0].startswith("Name: HAProxy")
    assert runtime.connections == 2


def test_after_a_reload_the_next_batch_reaches_the_new_worker(haproxy):
    runtime = RuntimeAPI(haproxy.stats_socket)
    before = int(re.search(r"^Pid: (\d+)", runtime.run(["show info"])[0], re.M).group(1))
    haproxy.reload()
    runtime.close()
    after = int(re.search(r"^Pid: (\d+)", runtime.run(["show info"])[0], re.M).group(1))
    assert after != before and after == haproxy.worker_pid()

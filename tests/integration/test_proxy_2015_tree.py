"""A /yoda tree seeded the 2015 way, against real etcd and HAProxy (and, for deploys, Docker and the
deployer): acknowledged and served, its TCP listeners forwarding, X-Frame-Options set, host-name
endpoints served, and one app's bad keys never stalling another app's deploy."""

from __future__ import annotations

import socket
import socketserver
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deployer import wiring
from deployer.gating import GateFailed
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.unit.test_proxy_2015_tree import SEED_2015
from totem.contracts import yoda
from totem.net import free_port
from totem.store import connect
from totem.waiting import wait
from yoda_proxy.testing import Backend, ProxyProcess, commit, local_etcd_url

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture(scope="module")
def proxy(store):
    """A proxy started on a tree 2015's confd-wrapper.sh had seeded (under a private base)."""
    proxy = ProxyProcess()
    for key, value in SEED_2015.items():
        store.put(proxy.prefix + key, value)
    proxy.start()
    yield proxy
    proxy.stop()
    store.delete_prefix(proxy.prefix)


@pytest.fixture
def backends():
    made: list = []

    def make(name: str) -> Backend:
        made.append(Backend(name))
        return made[-1]

    yield make
    for server in made:
        server.close()


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


class _FramedHandler(BaseHTTPRequestHandler):
    """An app that sets its own X-Frame-Options."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def serve(server):
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def echo_through(port: int, payload: bytes) -> bytes:
    """What comes back through the listener; b"" when the proxy closed or refused the connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(payload)
            got = b""
            while len(got) < len(payload) and (chunk := sock.recv(4096)):
                got += chunk
            return got
    except (ConnectionResetError, BrokenPipeError):
        return b""


def test_a_2015_seeded_tree_is_acknowledged_and_its_keys_logged_once(store, proxy):
    """2015 read these keys through confd; today's proxy ignores the ones it takes from its CLI and
    still acknowledges every revision."""
    for _ in range(3):
        commit(store, proxy, {})
    status = proxy.status()
    assert status["skipped"] == {} and status["applied_revision"] == status["wanted_revision"]
    assert "--http/--https/--admin" in status["ignored"]["global/listeners/http/bind"]
    assert set(SEED_2015) - set(status["ignored"]) == {
        "global/acls/public/cidr/src",
        "global/acls/global-black-list/cidr/src",
    }
    assert proxy.log().count("ignored key global/hostname:") == 1
    assert store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/{yoda.SKIPPED}") is None


def test_a_2015_tcp_listener_forwards_and_its_acls_hold(store, proxy):
    """2015: `global/listeners/tcp/<n>/{bind,upstream}` → a `mode tcp` frontend; acls/denied rejects,
    and global-black-list rejects on every frontend."""
    echo = serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo))
    echo.daemon_threads = True
    port = free_port()
    listener = f"global/listeners/tcp/{uuid.uuid4().hex[:6]}/"
    try:
        commit(
            store,
            proxy,
            {
                listener + "bind": f"127.0.0.1:{port}",
                listener + "upstream": "echo-v1-7",
                listener + "acls/allowed/a1": "public",
                "upstreams/echo-v1-7/mode": "tcp",
                "upstreams/echo-v1-7/endpoints/n1": f"127.0.0.1:{echo.server_address[1]}",
            },
        )
        assert wait(lambda: echo_through(port, b"hello 2015"), 10, ignoring=(OSError,)) == b"hello 2015"
        commit(store, proxy, {"global/acls/loop/cidr/src": "127.0.0.0/8", listener + "acls/denied/d1": "loop"})
        assert echo_through(port, b"denied") == b""
        commit(store, proxy, {}, deletes=(listener + "acls/denied/",))
        assert echo_through(port, b"again") == b"again"
        commit(store, proxy, {"global/acls/global-black-list/cidr/src": "127.0.0.1"})
        assert echo_through(port, b"black-listed") == b""
        assert proxy.get("anything.localhost").status_code == 403  # on the HTTP frontend too
    finally:
        commit(store, proxy, {"global/acls/global-black-list/cidr/src": ""}, deletes=(listener,))
        echo.shutdown()
        echo.server_close()
    assert proxy.status()["skipped"] == {}


def test_x_frame_options_default_and_per_host_override(store, proxy, backends):
    """2015 added `X-Frame-Options: DENY` to responses that had none; hosts/<host>/x-frame-options
    changes it per host (DENY, SAMEORIGIN, off), at runtime."""
    app = backends("app")
    own = serve(ThreadingHTTPServer(("127.0.0.1", 0), _FramedHandler))
    keys = {
        "upstreams/xfo-v1-1/endpoints/n1": app.address,
        "upstreams/own-v1-1/endpoints/n1": f"127.0.0.1:{own.server_address[1]}",
    }
    for host, option in (("deny", None), ("same", "SAMEORIGIN"), ("off", "off"), ("own", None)):
        keys[f"hosts/{host}.xfo.localhost/locations/root/path"] = "/"
        keys[f"hosts/{host}.xfo.localhost/locations/root/upstream"] = "own-v1-1" if host == "own" else "xfo-v1-1"
        if option:
            keys[f"hosts/{host}.xfo.localhost/x-frame-options"] = option
    try:
        commit(store, proxy, keys)

        def frame(host: str) -> str | None:
            return proxy.get(f"{host}.xfo.localhost").headers.get("X-Frame-Options")

        assert [frame(h) for h in ("deny", "same", "off", "own")] == ["DENY", "SAMEORIGIN", None, "SAMEORIGIN"]
        assert proxy.get("nobody.xfo.localhost").headers.get("X-Frame-Options") == "DENY"  # the 404 page too
        reloads = proxy.status()["reloads"]
        commit(store, proxy, {"hosts/off.xfo.localhost/x-frame-options": "deny"})
        assert frame("off") == "DENY" and proxy.status()["reloads"] == reloads  # a runtime map update
    finally:
        own.shutdown()
        own.server_close()


def test_a_host_name_endpoint_is_served(store, proxy, backends):
    """2015's HAProxy resolved endpoint names at config load; an unresolvable one broke the config for
    everyone. Now it is resolved when read (an unresolvable one is skipped alone: the unit test, which
    answers the lookup itself so no DNS query leaves the machine)."""
    app = backends("named")
    commit(
        store,
        proxy,
        {
            "hosts/named.localhost/locations/-/path": "/",
            "hosts/named.localhost/locations/-/upstream": "named-v1-1",
            "upstreams/named-v1-1/endpoints/n1": f"localhost:{app.port}",  # /etc/hosts: no DNS query
        },
    )
    assert proxy.get("named.localhost").json()["name"] == "named"


@pytest.fixture(scope="module")
def stack(docker_client):
    """A deployer stack whose /yoda tree was seeded the 2015 way before its proxy started."""
    stack = DeployerStack(docker_client, drain=1.0, discover_timeout=8.0)
    for key, value in SEED_2015.items():
        stack.store.put(f"{stack.base}/{key}", value)
    stack.start()
    yield stack
    stack.stop()


def test_a_deploy_on_a_2015_tree_with_another_apps_bad_keys_is_promoted(stack, docker_client):
    """2015 applied nothing while any key was bad (`haproxy -c` failed). Now: the bad app's entries are
    skipped and published with the acknowledgement, the good app is PROMOTED and served, and a wait for
    the bad app's entries fails, naming them."""
    app = f"good{uuid.uuid4().hex[:6]}"
    host = f"{app}.localhost"
    bad = {
        f"hosts/{host}/locations/badapp_home/path": "no leading slash",
        f"hosts/{host}/locations/badapp_home/upstream": "badapp-v1-8080",
        f"hosts/{host}/locations/badapp_api/path": "/api",
        f"hosts/{host}/locations/badapp_api/upstream": "badapp-v2-8080",
        "upstreams/badapp-v2-8080/health/interval": "often",
    }
    for key, value in bad.items():
        stack.store.put(f"{stack.base}/{key}", value)
    image = images.build(docker_client, "v1")
    answer = stack.deploy(deploy_request(app, "v1", image, host))
    assert answer.status_code == 202, answer.get_json()
    record = stack.wait_finished(answer.get_json()["deployment"]["id"])
    assert record["state"] == "PROMOTED", record
    assert stack.get(host).text.strip() == "version=v1"
    assert stack.get(f"www.{host}").headers.get("X-Frame-Options") == "DENY"

    status = stack.proxy.status()
    assert set(status["skipped"]) == {
        f"hosts/{host}/locations/badapp_home",
        f"hosts/{host}/locations/badapp_api",
        "upstreams/badapp-v2-8080",
    }
    assert status["applied_revision"] == record["revision"] or wiring.covers(
        status["applied_revision"], record["revision"]
    )
    prefix = stack.base + "/"
    assert wiring.wait_applied(stack.store, prefix, record["revision"], 5, lambda: None, app=app)
    with pytest.raises(GateFailed, match="badapp_home"):
        wiring.wait_applied(stack.store, prefix, record["revision"], 5, lambda: None, app="badapp")

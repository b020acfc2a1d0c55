"""yoda-proxy routing against real etcd, real HAProxy and real HTTP backends on loopback."""

from __future__ import annotations

import json
import socket
import ssl
import uuid

import pytest
import requests

from totem.store import connect
from totem.waiting import wait
from yoda_proxy.certs import self_signed
from yoda_proxy.testing import Backend, local_etcd_url, running_proxy

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture(scope="module")
def proxy(store):
    with running_proxy(store) as proxy:
        yield proxy


@pytest.fixture
def backends():
    made: list[Backend] = []

    def make(name: str) -> Backend:
        made.append(Backend(name))
        return made[-1]

    yield make
    for backend in made:
        backend.close()


def wire(store, proxy, keys: dict[str, str]) -> None:
    """Write wiring plus a fresh revision and wait until the proxy acknowledges it."""
    for key, value in keys.items():
        store.put(proxy.prefix + key, value)
    revision = uuid.uuid4().hex
    store.put(proxy.prefix + "revision", revision)
    wait(lambda: store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/applied") == revision, timeout=15)


def served_by(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:200]
    return response.json()["name"]


def test_host_aliases_and_ports_in_host_header(store, proxy, backends):
    app = backends("app")
    wire(
        store,
        proxy,
        {
            "hosts/alias.localhost/aliases/1": "www.alias.localhost",
            "hosts/alias.localhost/locations/root/path": "/",
            "hosts/alias.localhost/locations/root/upstream": "alias-v1-1",
            "upstreams/alias-v1-1/endpoints/n1": app.address,
        },
    )
    assert served_by(proxy.get("alias.localhost")) == "app"
    assert served_by(proxy.get("WWW.alias.localhost:8080", "/deep/path")) == "app"
    unknown = proxy.get("unknown.localhost")
    assert unknown.status_code == 404 and "No application is published" in unknown.text


def test_longest_prefix_wins(store, proxy, backends):
    root, api, v2 = backends("root"), backends("api"), backends("api-v2")
    wire(
        store,
        proxy,
        {
            "hosts/paths.localhost/locations/a-root/path": "/",
            "hosts/paths.localhost/locations/a-root/upstream": "paths-root-1",
            "hosts/paths.localhost/locations/b-api/path": "/api",
            "hosts/paths.localhost/locations/b-api/upstream": "paths-api-1",
            "hosts/paths.localhost/locations/c-v2/path": "/api/v2/",
            "hosts/paths.localhost/locations/c-v2/upstream": "paths-v2-1",
            "upstreams/paths-root-1/endpoints/n1": root.address,
            "upstreams/paths-api-1/endpoints/n1": api.address,
            "upstreams/paths-v2-1/endpoints/n1": v2.address,
        },
    )
    expected = {
        "/": "root",
        "/api": "api",
        "/api/": "api",
        "/api/users?x=1": "api",
        "/apix": "root",
        "/api/v2": "api-v2",
        "/api/v2/x": "api-v2",
        "/api/v3": "api",
    }
    assert {path: served_by(proxy.get("paths.localhost", path)) for path in expected} == expected
    missing = proxy.get("paths.localhost", "/")
    assert missing.json()["path"] == "/"


def test_forwarded_headers_are_set_and_incoming_ones_stripped(store, proxy, backends):
    app = backends("headers")
    wire(
        store,
        proxy,
        {
            "hosts/fwd.localhost/locations/root/path": "/",
            "hosts/fwd.localhost/locations/root/upstream": "fwd-v1-1",
            "upstreams/fwd-v1-1/endpoints/n1": app.address,
        },
    )
    spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
    headers = proxy.get("fwd.localhost", headers=spoofed).json()["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    tls = requests.get(proxy.url("/", tls=True), headers={"Host": "fwd.localhost"}, verify=False, timeout=5)
    assert tls.json()["headers"]["x-forwarded-proto"] == "https"


def test_location_acls(store, proxy, backends):
    app = backends("acl")
    wire(
        store,
        proxy,
        {
            "global/acls/loopback/cidr/src": "127.0.0.0/8, ::1",
            "global/acls/elsewhere/cidr/src": "10.0.0.0/8 192.168.0.0/16",
            "hosts/acl.localhost/locations/open/path": "/",
            "hosts/acl.localhost/locations/open/upstream": "acl-v1-1",
            "hosts/acl.localhost/locations/office/path": "/office",
            "hosts/acl.localhost/locations/office/upstream": "acl-v1-1",
            "hosts/acl.localhost/locations/office/acls/allowed/1": "loopback",
            "hosts/acl.localhost/locations/far/path": "/far",
            "hosts/acl.localhost/locations/far/upstream": "acl-v1-1",
            "hosts/acl.localhost/locations/far/acls/allowed/1": "elsewhere",
            "hosts/acl.localhost/locations/banned/path": "/banned",
            "hosts/acl.localhost/locations/banned/upstream": "acl-v1-1",
            "hosts/acl.localhost/locations/banned/acls/denied/1": "loopback",
            "upstreams/acl-v1-1/endpoints/n1": app.address,
        },
    )
    codes = {path: proxy.get("acl.localhost", path).status_code for path in ("/", "/office", "/far", "/banned")}
    assert codes == {"/": 200, "/office": 200, "/far": 403, "/banned": 403}
    assert "not allowed" in proxy.get("acl.localhost", "/far").text


def test_force_ssl_redirects_plain_http(store, proxy, backends):
    app = backends("secure")
    wire(
        store,
        proxy,
        {
            "hosts/ssl.localhost/locations/root/path": "/",
            "hosts/ssl.localhost/locations/root/upstream": "ssl-v1-1",
            "hosts/ssl.localhost/locations/root/force-ssl": "true",
            "upstreams/ssl-v1-1/endpoints/n1": app.address,
        },
    )
    redirect = proxy.get("ssl.localhost", "/login?next=1")
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://ssl.localhost/login?next=1"
    tls = requests.get(proxy.url("/login", tls=True), headers={"Host": "ssl.localhost"}, verify=False, timeout=5)
    assert served_by(tls) == "secure"


def peer_common_name(port: int, server_name: str) -> str:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def test_tls_sni_certificates_from_etcd(store, proxy, backends):
    app = backends("sni")
    wire(
        store,
        proxy,
        {
            "certs/sni": self_signed("sni.localhost"),
            "hosts/sni.localhost/locations/root/path": "/",
            "hosts/sni.localhost/locations/root/upstream": "sni-v1-1",
            "upstreams/sni-v1-1/endpoints/n1": app.address,
        },
    )
    assert peer_common_name(proxy.https, "sni.localhost") == "CN=sni.localhost"
    assert peer_common_name(proxy.https, "other.localhost") == "CN=localhost"


def test_tcp_listener(store, proxy, backends):
    from totem.net import free_port

    app, port = backends("tcp-app"), free_port()
    wire(
        store,
        proxy,
        {
            "global/listeners/raw/bind": f"127.0.0.1:{port}",
            "global/listeners/raw/upstream": "raw-v1-1",
            "upstreams/raw-v1-1/mode": "tcp",
            "upstreams/raw-v1-1/endpoints/n1": app.address,
        },
    )
    response = wait(
        lambda: requests.get(f"http://127.0.0.1:{port}/tcp", timeout=5),
        timeout=10,
        ignoring=(requests.RequestException,),
    )  # the listener is not bound yet
    assert served_by(response) == "tcp-app"
    assert response.json()["headers"].get("x-forwarded-for") is None  # bytes passed through untouched


def test_health_checks_and_custom_503(store, proxy, backends):
    good, sick = backends("good"), backends("sick")
    sick.healthy = False
    wire(
        store,
        proxy,
        {
            "hosts/health.localhost/locations/root/path": "/",
            "hosts/health.localhost/locations/root/upstream": "health-v1-1",
            "upstreams/health-v1-1/health/uri": "/health",
            "upstreams/health-v1-1/health/interval": "200ms",
            "upstreams/health-v1-1/endpoints/good": good.address,
            "upstreams/health-v1-1/endpoints/sick": sick.address,
            "hosts/empty.localhost/locations/root/path": "/",
            "hosts/empty.localhost/locations/root/upstream": "empty-v1-1",
            "global/errors/503": "<h1>custom 503 page</h1>",
        },
    )

    def only_good() -> bool:
        return {served_by(proxy.get("health.localhost", "/app")) for _ in range(6)} == {"good"}

    wait(only_good, timeout=10)
    empty = proxy.get("empty.localhost")
    assert empty.status_code == 503 and "custom 503 page" in empty.text
    good.healthy = False
    wait(lambda: proxy.get("health.localhost").status_code == 503, timeout=10)
    assert "custom 503 page" in proxy.get("health.localhost").text


def test_admin_status_metrics_stats_and_announcement(store, proxy):
    status = proxy.status()
    assert status["node"] == proxy.node and status["haproxy_running"]
    assert {"hosts", "upstreams", "endpoints"} <= set(status["counts"])
    metrics = requests.get(f"http://127.0.0.1:{proxy.admin}/metrics", timeout=5).text
    assert "yoda_proxy_reloads_total" in metrics and "haproxy_process_" in metrics
    stats = f"http://127.0.0.1:{proxy.admin}/stats"
    assert requests.get(stats, timeout=5).status_code == 401
    assert requests.get(stats, auth=("admin", "wrong"), timeout=5).status_code == 401
    page = requests.get(stats, auth=("admin", proxy.password), timeout=5)
    assert page.status_code == 200 and "Statistics Report" in page.text
    info = json.loads(store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/info"))
    assert info == {"address": "127.0.0.1", "http": proxy.http, "https": proxy.https, "admin": proxy.admin}
    assert proxy.password not in proxy.log()

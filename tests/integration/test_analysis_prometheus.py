"""Canary analysis against a real HAProxy (yoda-proxy) scraped by a real Prometheus: a healthy canary
passes, one answering 50% 5xx fails on error-rate, one 300 ms slower fails on latency."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest

from deployer import analysis
from tests.fixtures.prometheus import PrivatePrometheus
from totem.store import connect
from totem.waiting import wait
from yoda_proxy.testing import commit, local_etcd_url, running_proxy

WINDOW_S = 300.0  # longer than the test: every request it sent is in the window
MIN_REQUESTS = 10


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: App

    def do_GET(self) -> None:  # noqa: N802
        number = next(self.server.served)
        if self.server.mode == "slow":
            time.sleep(0.3)
        status = 500 if self.server.mode == "flaky" and number % 2 else 200
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class App(ThreadingHTTPServer):
    """An app instance on loopback: "ok", "flaky" (every other answer a 500) or "slow" (+300 ms)."""

    daemon_threads = True

    def __init__(self, mode: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.served = count()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # HAProxy's TCP health checks close without a request

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def wiring(host: str, upstream: str, app: App) -> dict[str, str]:
    location = f"hosts/{host}/locations/root"
    return {f"{location}/path": "/", f"{location}/upstream": upstream, f"upstreams/{upstream}/endpoints/a": app.address}


@pytest.fixture(scope="module")
def store():
    return connect(local_etcd_url())


@pytest.fixture(scope="module")
def proxy(store):
    with running_proxy(store) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def prometheus(proxy, tmp_path_factory):
    prometheus = PrivatePrometheus([f"127.0.0.1:{proxy.admin}"], tmp_path_factory.mktemp("prometheus")).start()
    prometheus.wait_up()
    yield prometheus
    prometheus.stop()


def wire(store, proxy, prometheus, host: str, version: str, mode: str) -> tuple[App, str]:
    """An app behind its own host; returned once Prometheus has its backend's counters at zero, so
    that increase() over the window counts every request sent after."""
    app = App(mode)
    name = f"app-{version}-{app.server_address[1]}"
    commit(store, proxy, wiring(host, name, app))
    backend = f"u_{name}"
    wait(lambda: prometheus.query(f'haproxy_backend_http_requests_total{{proxy="{backend}"}}'), 30)
    return app, backend


@pytest.fixture(scope="module")
def stable(store, proxy, prometheus):
    app, backend = wire(store, proxy, prometheus, "stable.localhost", "v1", "ok")
    yield backend
    app.close()


def wire_canary(store, proxy, prometheus, mode: str) -> tuple[App, str]:
    return wire(store, proxy, prometheus, f"{mode}.localhost", "v2", mode)


def traffic(proxy, host: str, requests: int) -> None:
    for _ in range(requests):
        proxy.get(host)


def verdict_once_counted(prometheus, canary: str, stable: str, sent: int) -> analysis.Verdict:
    """judge() once Prometheus has scraped most of the canary's requests."""

    def counted() -> analysis.Verdict | None:
        verdict = analysis.judge(prometheus.url, canary, stable, WINDOW_S, None, MIN_REQUESTS)
        return verdict if verdict.ok is not None and verdict.requests >= 0.8 * sent else None

    return wait(counted, 30, interval=0.5, what=f"a verdict on {canary}")


@pytest.mark.parametrize("mode", ["ok", "flaky", "slow"])
def test_judge_on_real_haproxy_metrics(store, proxy, prometheus, stable, mode):
    app, canary = wire_canary(store, proxy, prometheus, mode)  # a new backend: HAProxy reloads, counters restart
    try:
        sent = 15 if mode == "slow" else 30
        traffic(proxy, "stable.localhost", 30)
        traffic(proxy, f"{mode}.localhost", sent)
        verdict = verdict_once_counted(prometheus, canary, stable, sent)
    finally:
        app.close()
    results = {result.name: result for result in verdict.results}
    assert verdict.requests >= MIN_REQUESTS
    if mode == "ok":
        assert verdict.ok is True, verdict.as_dict()
        assert verdict.failed == []
    elif mode == "flaky":
        assert verdict.ok is False, verdict.as_dict()
        assert [r.name for r in verdict.failed] == ["error-rate"]
        assert 0.3 < results["error-rate"].value < 0.7  # half the canary's answers, none of stable's
    else:
        assert verdict.ok is False, verdict.as_dict()
        assert [r.name for r in verdict.failed] == ["latency"]
    point = analysis.sample(prometheus.url, canary, stable, WINDOW_S)
    if mode == "slow":  # HAProxy's average response time, corrected for its few samples, moved
        assert point["canary"]["latency"] >= 0.25 and point["stable"]["latency"] < 0.25
    assert point["canary"]["requests"] >= MIN_REQUESTS and point["stable"]["requests"] >= 20
    assert point["stable"]["error-rate"] == 0


def test_too_few_requests_is_inconclusive(store, proxy, prometheus, stable):
    app, canary = wire_canary(store, proxy, prometheus, "flaky")
    try:
        traffic(proxy, "flaky.localhost", 4)
        wait(lambda: analysis.sample(prometheus.url, canary, stable, WINDOW_S)["canary"]["requests"], 30)
        verdict = analysis.judge(prometheus.url, canary, stable, WINDOW_S, None, MIN_REQUESTS)
    finally:
        app.close()
    assert verdict.ok is None and 0 < verdict.requests < MIN_REQUESTS

"""A private deployer stack (tests/fixtures/deployer/harness.py) whose API is served over HTTP on
loopback, with a private Prometheus for canary analysis and the dashboard reading that API, for the
tests of the operator's rollout and traffic controls (CLI, dashboard, Chromium)."""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from tests.fixtures.deployer.harness import TOKEN, DeployerStack, deploy_request
from tests.fixtures.prometheus import PrivatePrometheus
from totem.net import free_port
from totem.waiting import wait
from totem_client import Clients, DeployerClient, ImageFactoryClient, OrchestratorClient
from totem_dashboard.app import create_app

__all__ = ["TOKEN", "RolloutStack", "Served", "canary_request"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the tests read the CLI's stderr
        pass


class Served:
    """A WSGI app answering on a free loopback port from a thread, until `stop`."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", free_port(), app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Served:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class RolloutStack:
    """`stack` (the deployer, its worker, yoda-discover, a real yoda-proxy) with Prometheus scraping the
    proxy; `deployer_url` its API; `dashboard` the dashboard app on that API (orchestrator and image
    factory unreachable: the app page shows what the deployer holds)."""

    def __init__(self, docker_client, work: Path):
        port = free_port()
        self.stack = DeployerStack(
            docker_client,
            drain=0.5,
            discover_timeout=8.0,
            environment={"TOTEM_PROMETHEUS_URL": f"http://127.0.0.1:{port}"},
        )
        self.work = work
        self.prometheus: PrivatePrometheus | None = None
        self.port = port
        self.api: Served | None = None
        self.site: Served | None = None

    def start(self) -> RolloutStack:
        self.stack.start()
        self.prometheus = PrivatePrometheus([f"127.0.0.1:{self.stack.proxy.admin}"], self.work)
        self.prometheus.port = self.port
        self.prometheus.start()
        self.prometheus.wait_up()
        self.api = Served(self.stack.app).start()
        nowhere = f"http://127.0.0.1:{free_port()}"
        clients = Clients(OrchestratorClient(nowhere), DeployerClient(self.api.url), ImageFactoryClient(nowhere))
        self.dashboard = create_app(self.stack.settings, clients)
        return self

    def serve_dashboard(self) -> str:
        """The dashboard over HTTP too (for a real browser); its URL."""
        if self.site is None:
            self.site = Served(self.dashboard).start()
        return self.site.url

    def stop(self) -> None:
        for served in (self.site, self.api):
            if served:
                served.stop()
        if self.prometheus:
            self.prometheus.stop()
        self.stack.stop()

    @property
    def deployer_url(self) -> str:
        assert self.api is not None
        return self.api.url

    def view(self, app: str) -> dict:
        return self.stack.client.get(f"/apps/{app}").get_json()

    def live(self, app: str, image: str, host: str, version: str = "v1", canary: bool = False) -> str:
        """`version` of `app` promoted, the stable version of what comes next: blue-green, or a canary
        (with nothing stable to compare with, a canary switches at once)."""
        if canary:
            request = canary_request(app, version, image, host, [{"weight": 50, "pause": "1s"}])
        else:
            request = deploy_request(app, version, image, host, nodes=1)
            request["deployment"]["check"]["min-nodes"] = 1
        record = self.stack.wait_finished(self.stack.deploy(request).get_json()["deployment"]["id"])
        assert record["state"] == "PROMOTED", (record.get("error"), self.stack.logs())
        return record["id"]

    def wait_phase(self, app: str, phase: str, timeout: float = 90) -> dict:
        def reached():
            rollout = self.view(app).get("rollout")
            return rollout if rollout and rollout["phase"] == phase else None

        return wait(reached, timeout, 0.2, what=f"{app} rollout {phase}")


def canary_request(app: str, version: str, image: str, host: str, steps: list[dict]) -> dict:
    """A one-instance canary deployment of `version` with these steps."""
    request = deploy_request(app, version, image, host, mode="canary", nodes=1)
    request["deployment"]["check"]["min-nodes"] = 1
    request["deployment"]["canary"] = {"steps": steps}
    return request

"""The busybox httpd test app: built locally from scratch, run with host networking.

The app is healthy (GET /health answers 200) while /www/health exists in it.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from totem.contracts.labels import APP, HEALTH, NODE, PORT, UPSTREAM, VERSION

IMAGE = "totem-test/busybox-httpd:1"
HERE = Path(__file__).with_name("busybox-httpd")


def build(client) -> str:
    """Build the image once (the builder cache makes later calls cheap); returns its tag."""
    with tempfile.TemporaryDirectory() as context:
        for name in ("Dockerfile", "start.sh"):
            shutil.copy(HERE / name, Path(context) / name)
        shutil.copy("/bin/busybox", Path(context) / "busybox")
        client.images.build(path=context, tag=IMAGE, rm=True)
    return IMAGE


def labels(upstream: str, node: str, port: int, health: str | None = "/health", **extra: str) -> dict[str, str]:
    found = {APP: upstream.split("-")[0], VERSION: "1", UPSTREAM: upstream, PORT: str(port), NODE: node, **extra}
    if health:
        found[HEALTH] = health
    return found


def run(client, port: int, labels: dict[str, str], healthy: bool = True, name: str | None = None):
    return client.containers.run(
        IMAGE,
        detach=True,
        network_mode="host",
        labels=labels,
        environment={"PORT": str(port), "HEALTHY": "1" if healthy else "0"},
        name=name or f"totem-test-{uuid.uuid4().hex[:10]}",
    )


def set_healthy(container, healthy: bool) -> None:
    command = ["touch", "/www/health"] if healthy else ["rm", "-f", "/www/health"]
    result = container.exec_run(["/bin/busybox", *command])
    assert result.exit_code == 0, f"could not change health of {container.name}: {result.output!r}"


def remove(container) -> None:
    try:
        container.remove(force=True)
    except Exception:  # already gone
        pass


class Apps:
    """Starts test app containers and removes every one of them on `cleanup`."""

    def __init__(self, client, tag: str):
        self.client = client
        self.tag = tag  # value of the `totem.test` label that selects this test's containers
        self.started: list = []

    def start(self, upstream: str, node: str, port: int, healthy: bool = True, health: str | None = "/health"):
        container = run(self.client, port, labels(upstream, node, port, health, **{"totem.test": self.tag}), healthy)
        self.started.append(container)
        return container

    def cleanup(self) -> None:
        for container in self.started:
            remove(container)
        self.started.clear()


def health_requests(container) -> int:
    """How many times the app was asked for /health (httpd runs with -vv)."""
    return container.logs().count(b"url:/health")

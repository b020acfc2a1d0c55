"""`docker`: containers on one or several Docker hosts (TOTEM_DOCKER_HOSTS), host networking,
one allocated port per instance (the PORT variable), instances spread round-robin over hosts,
restart policy `unless-stopped` (removal is always explicit: stop, then remove)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import docker
from docker.errors import APIError, ImageNotFound, NotFound

from deployer.schedulers.base import Instance, Record, Scheduler, labels
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, NODE, selector

log = logging.getLogger("deployer.docker")


def host_address(url: str) -> str:
    """The address instances on a Docker host are reached at (loopback for the local socket)."""
    parts = urlsplit(url)
    return parts.hostname if parts.scheme in ("tcp", "http", "https") and parts.hostname else "127.0.0.1"


class DockerScheduler(Scheduler):
    name = "docker"

    def __init__(self, ctx):
        self.ctx = ctx
        self._clients: dict[str, docker.DockerClient] = {}

    def client(self, host: str) -> docker.DockerClient:
        if host not in self._clients:
            self._clients[host] = docker.DockerClient(base_url=host, timeout=60)
        return self._clients[host]

    # -- placement -------------------------------------------------------------
    def place(self, record: Record) -> dict[str, dict]:
        hosts = self.ctx.docker_hosts
        placed = dict(record.get("instances") or {})
        for index in range(record["spec"]["nodes"]):
            node = f"{record['id']}-{index + 1}"
            if node not in placed:
                host = hosts[(record["sequence"] + index) % len(hosts)]
                address = host_address(host)
                port = self.ctx.ports.reserve(host, address, node)
                placed[node] = {"host": host, "address": address, "port": port}
        return placed

    # -- lifecycle -------------------------------------------------------------
    def _containers(self, host: str, deployment: str | None = None, app: str | None = None):
        filters = {"label": [selector(CLUSTER, self.ctx.settings.cluster)]}
        if deployment:
            filters["label"].append(selector(DEPLOYMENT, deployment))
        if app:
            filters["label"].append(selector(APP, app))
        return self.client(host).containers.list(all=True, filters=filters)

    def _ensure_image(self, client: docker.DockerClient, image: str) -> None:
        try:
            client.images.get(image)
        except ImageNotFound:
            log.info("pulling %s", image)
            client.images.pull(image)

    def deploy(self, record: Record, environment: dict[str, str]) -> None:
        for node, where in sorted(record["instances"].items()):
            client = self.client(where["host"])
            try:
                client.containers.get(node)
                continue  # created by an earlier attempt
            except NotFound:
                pass
            self._ensure_image(client, record["spec"]["image"])
            client.containers.create(
                record["spec"]["image"],
                name=node,
                network_mode="host",
                labels=labels(record, node, where["port"]),
                environment={**environment, "PORT": str(where["port"])},
                # back whenever the engine is (an app exits 0 on the SIGTERM of an engine restart); the
                # deployer's own stop marks it stopped, so a decommissioned instance never comes back
                restart_policy={"Name": "unless-stopped"},
            )

    def start(self, record: Record) -> None:
        for host in {w["host"] for w in record["instances"].values()}:
            for container in self._containers(host, deployment=record["id"]):
                if container.status != "running":
                    container.start()

    def status(self, record: Record) -> list[Instance]:
        found = []
        for host in {w["host"] for w in record["instances"].values()}:
            for c in self._containers(host, deployment=record["id"]):
                found.append(Instance(c.labels.get(NODE, c.name), record["id"], c.status == "running", host))
        return found

    def stop(self, record: Record) -> None:
        timeout = int(record["spec"].get("stop_timeout", 30))
        for host in {w["host"] for w in record["instances"].values()}:
            for container in self._containers(host, deployment=record["id"]):
                if container.status == "running":
                    container.stop(timeout=timeout)

    def destroy(self, record: Record) -> None:
        for host in {w["host"] for w in record["instances"].values()} | set(self.ctx.docker_hosts):
            for container in self._containers(host, deployment=record["id"]):
                try:
                    container.remove(force=True)
                except NotFound:
                    pass
                except APIError as exc:
                    if exc.status_code != 409:  # 409: removal already in progress
                        raise
        for node, where in record["instances"].items():
            self.ctx.ports.release(where["host"], where["port"], node)

    def instances(self, app: str) -> list[Instance]:
        found = []
        for host in self.ctx.docker_hosts:
            for c in self._containers(host, app=app):
                if c.labels.get(APP) == app:
                    found.append(
                        Instance(c.labels.get(NODE, c.name), c.labels.get(DEPLOYMENT, ""), c.status == "running", host)
                    )
        return found

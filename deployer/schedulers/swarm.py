"""`swarm`: one replicated Docker Swarm service per instance (host networking, its own PORT),
restarted on any exit, labels on the service and its containers, and an optional healthcheck
(`templates.app.args.healthcheck`: an exec-form command list). Services are created with 0
replicas (`deploy`), scaled to 1 (`start`) and back to 0 (`stop`)."""

from __future__ import annotations

import docker
from docker.errors import NotFound
from docker.types import Healthcheck, RestartPolicy, ServiceMode

from deployer.schedulers.base import Instance, Record, Scheduler, labels
from deployer.schedulers.docker import host_address
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, selector

SECOND = 1_000_000_000  # Docker durations are in nanoseconds


class SwarmScheduler(Scheduler):
    name = "swarm"

    def __init__(self, ctx):
        self.ctx = ctx
        self.host = ctx.options.swarm_host or ctx.settings.docker_host
        self.client = docker.DockerClient(base_url=self.host, timeout=60)

    def place(self, record: Record) -> dict[str, dict]:
        placed = dict(record.get("instances") or {})
        address = host_address(self.host)
        for index in range(1, record["spec"]["nodes"] + 1):
            node = f"{record['id']}-{index}"
            if node not in placed:
                placed[node] = {
                    "host": self.host,
                    "address": address,
                    "port": self.ctx.ports.reserve(self.host, address, node),
                }
        return placed

    def _services(self, deployment: str | None = None, app: str | None = None):
        wanted = [selector(CLUSTER, self.ctx.settings.cluster)]
        if deployment:
            wanted.append(selector(DEPLOYMENT, deployment))
        if app:
            wanted.append(selector(APP, app))
        return self.client.services.list(filters={"label": wanted})

    def _healthcheck(self, record: Record) -> Healthcheck | None:
        command = record["request"]["templates"]["app"]["args"].get("healthcheck")
        if not isinstance(command, list) or not command or not all(isinstance(p, str) for p in command):
            return None
        return Healthcheck(
            test=["CMD", *command],
            interval=2 * SECOND,
            timeout=int(record["spec"]["check_timeout"] * SECOND),
            retries=3,
            start_period=5 * SECOND,
        )

    def deploy(self, record: Record, environment: dict[str, str]) -> None:
        existing = {s.name for s in self._services(deployment=record["id"])}
        for node, where in sorted(record["instances"].items()):
            if node in existing:
                continue
            instance_labels = labels(record, node, where["port"])
            env = [f"{k}={v}" for k, v in {**environment, "PORT": str(where["port"])}.items()]
            self.client.services.create(
                record["spec"]["image"],
                name=node,
                env=env,
                labels=instance_labels,
                container_labels=instance_labels,
                networks=["host"],
                mode=ServiceMode("replicated", replicas=0),
                # any exit, 0 included (an engine restart's SIGTERM): stop is a scale to 0, removal explicit
                restart_policy=RestartPolicy(condition="any", delay=SECOND),
                healthcheck=self._healthcheck(record),
                stop_grace_period=int(record["spec"]["stop_timeout"] * SECOND),
            )

    def _scale(self, record: Record, replicas: int) -> None:
        for service in self._services(deployment=record["id"]):
            if service.attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas") != replicas:
                service.scale(replicas)

    def start(self, record: Record) -> None:
        self._scale(record, 1)

    def stop(self, record: Record) -> None:
        self._scale(record, 0)

    def _running(self, service) -> bool:
        return any(t["Status"]["State"] == "running" for t in service.tasks(filters={"desired-state": "running"}))

    def status(self, record: Record) -> list[Instance]:
        return [
            Instance(s.name, record["id"], self._running(s), self.host) for s in self._services(deployment=record["id"])
        ]

    def destroy(self, record: Record) -> None:
        for service in self._services(deployment=record["id"]):
            try:
                service.remove()
            except NotFound:
                pass
        for node, where in record.get("instances", {}).items():
            self.ctx.ports.release(where["host"], where["port"], node)

    def instances(self, app: str) -> list[Instance]:
        return [
            Instance(s.name, s.attrs["Spec"]["Labels"].get(DEPLOYMENT, ""), self._running(s), self.host)
            for s in self._services(app=app)
            if s.attrs["Spec"]["Labels"].get(APP) == app
        ]

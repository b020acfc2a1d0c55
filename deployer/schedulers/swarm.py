"""`swarm`: one replicated Docker Swarm service per instance (host networking, its own PORT),
restarted on any exit, labels on the service and its containers, and an optional healthcheck
(`templates.app.args.healthcheck`: an exec-form command list). Services are created with 0
replicas (`deploy`), scaled to 1 (`start`) and back to 0 (`stop`).

The swarm places the tasks: `deployment.placement` (constraints, spread preferences)
goes into each service, and an instance is reached at the address of the node its task runs on
(`status`), known once it runs. Ports are reserved on the swarm as a whole (unique across its
nodes), so an instance's port is free on whichever node the swarm picks or moves it to."""

from __future__ import annotations

import docker
from docker.errors import NotFound
from docker.types import Healthcheck, RestartPolicy, ServiceMode

from deployer.engines import address
from deployer.schedulers.base import Instance, Record, Scheduler, labels
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, selector

SECOND = 1_000_000_000  # Docker durations are in nanoseconds


class SwarmScheduler(Scheduler):
    name = "swarm"

    def __init__(self, ctx):
        self.ctx = ctx
        self.host = ctx.options.swarm_host or ctx.settings.docker_host

    @property
    def client(self) -> docker.DockerClient:
        """The manager's client (HostDown at once when it does not answer)."""
        return self.ctx.engines.client(self.host)

    def place(self, record: Record) -> dict[str, dict]:
        """Ports keyed on the swarm (self.host); the address is the task's node's, once it runs."""
        placed = dict(record.get("instances") or {})
        for index in range(1, record["spec"]["nodes"] + 1):
            node = f"{record['id']}-{index}"
            if node not in placed:
                port = self.ctx.ports.reserve(self.host, address(self.host), node)  # checked free if loopback
                placed[node] = {"host": self.host, "address": "", "port": port}
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
                **placement(record),
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

    def _found(self, services, deployment: str | None = None) -> list[Instance]:
        """Each service's instance, with the address of the node its running task is on."""
        nodes = {n.id: node_address(n.attrs) for n in self.client.nodes.list()} if services else {}
        found = []
        for service in services:
            tasks = service.tasks(filters={"desired-state": "running"})
            running = [t for t in tasks if t["Status"]["State"] == "running"]
            host = nodes.get(running[0].get("NodeID", ""), "") if running else ""
            owner = deployment or service.attrs["Spec"]["Labels"].get(DEPLOYMENT, "")
            found.append(Instance(service.name, owner, bool(running), host, host))
        return found

    def status(self, record: Record) -> list[Instance]:
        return self._found(self._services(deployment=record["id"]), record["id"])

    def destroy(self, record: Record) -> None:
        for service in self._services(deployment=record["id"]):
            try:
                service.remove()
            except NotFound:
                pass
        for node, where in record.get("instances", {}).items():
            self.ctx.ports.release(where["host"], where["port"], node)

    def instances(self, app: str) -> list[Instance]:
        return self._found([s for s in self._services(app=app) if s.attrs["Spec"]["Labels"].get(APP) == app])


def placement(record: Record) -> dict:
    """The request's `deployment.placement` (checked by its schema) as the keywords of
    `services.create` that make the service's Placement (docker.types.Placement)."""
    wanted = record["request"]["deployment"].get("placement") or {}
    given = {
        "constraints": wanted.get("constraints"),
        "preferences": [("spread", p["spread"]) for p in wanted.get("preferences", [])],
    }
    return {key: value for key, value in given.items() if value}


def node_address(attrs: dict) -> str:
    """A node's address; a manager may report 0.0.0.0 there, its manager address then tells it."""
    found = attrs.get("Status", {}).get("Addr", "")
    if found in ("", "0.0.0.0"):
        found = attrs.get("ManagerStatus", {}).get("Addr", "").rsplit(":", 1)[0]
    return found

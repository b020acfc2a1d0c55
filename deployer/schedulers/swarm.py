"""`swarm`: one replicated Docker Swarm service per instance (host networking, its own PORT),
restarted on any exit, labels on the service and its containers, and an optional healthcheck
(`templates.app.args.healthcheck`: an exec-form command list). Services are created with 0
replicas (`deploy`), scaled to 1 (`start`) and back to 0 (`stop`).

The swarm places the tasks: `deployment.placement` (constraints, spread preferences)
goes into each service, and an instance is reached at the address of the node its task runs on
(`status`), known once it runs. Ports are reserved on the swarm as a whole (unique across its
nodes), so an instance's port is free on whichever node the swarm picks or moves it to.

A scheduled job's run (`run_once`) is a one-off `replicated-job` service (Docker API 1.41+) with
restart condition `none`, the request's placement, no upstream label: its task's exit code and the
service's logs are read once the task ends, then the service is removed.

Encrypted variables are Swarm secrets at /run/secrets/NAME (deployer/swarm_secrets.py), one per
value and deployment, removed with its services."""

from __future__ import annotations

import time

import docker
from docker.errors import APIError, ImageNotFound, NotFound
from docker.types import Healthcheck, RestartPolicy, ServiceMode

from deployer import log_buffer, secret_files, swarm_secrets
from deployer.engines import address
from deployer.records import now
from deployer.schedulers.base import (
    OUTPUT_LIMIT,
    Instance,
    Record,
    RunResult,
    Scheduler,
    job_labels,
    labels,
    output_tail,
    run_name,
)
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, RUN, selector
from totem.waiting import WaitTimeout, wait

SECOND = 1_000_000_000  # Docker durations are in nanoseconds
ATTEMPTS = 3  # of a swarm write the manager answered with a server error (see _retried)
ENDED = ("complete", "failed", "rejected", "shutdown", "orphaned", "remove")  # a task's terminal states


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
        _retried(lambda: self._deploy(record, environment))

    def _deploy(self, record: Record, environment: dict[str, str]) -> None:
        existing = {s.name for s in self._services(deployment=record["id"])}
        delivery = secret_files.plan(self.ctx, record, environment)
        attached = None
        for node, where in sorted(record["instances"].items()):
            if node in existing:
                continue
            if attached is None:
                owner = swarm_secrets.secret_labels(self.ctx.settings.cluster, record["id"])
                attached = swarm_secrets.attach(self.client, owner, record["id"], delivery.files)
            instance_labels = labels(record, node, where["port"])
            env = [f"{k}={v}" for k, v in {**delivery.env, "PORT": str(where["port"])}.items()]
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
                secrets=attached,
                **placement(record),
                stop_grace_period=int(record["spec"]["stop_timeout"] * SECOND),
                **log_buffer.service_log_driver(),  # the shipper's bounded buffer (docs/logging.md)
            )

    def _scale(self, record: Record, replicas: int) -> None:
        _retried(lambda: self._scale_once(record, replicas))

    def _scale_once(self, record: Record, replicas: int) -> None:
        for service in self._services(deployment=record["id"]):
            if RUN in service.attrs["Spec"]["Labels"]:
                continue  # a job's run: removed by destroy, never scaled
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
        swarm_secrets.remove(self.client, self.ctx.settings.cluster, record["id"])
        for node, where in record.get("instances", {}).items():
            self.ctx.ports.release(where["host"], where["port"], node)

    def instances(self, app: str) -> list[Instance]:
        def ours(labels: dict) -> bool:
            return labels.get(APP) == app and RUN not in labels  # a job's run is no instance

        return self._found([s for s in self._services(app=app) if ours(s.attrs["Spec"]["Labels"])])

    # -- scheduled jobs ----------------------------------------------------------
    def prepare_job(self, record: Record) -> dict:
        """The image on the manager (pulled when missing); nodes pull it from its registry."""
        image = record["spec"]["image"]
        try:
            self.client.images.get(image)
        except ImageNotFound:
            self.client.images.pull(image)
        return {"image": image, "hosts": [self.host]}

    def run_once(self, record: Record, run_id: str, environment: dict[str, str], timeout: float) -> RunResult:
        name = run_name(record, run_id)
        for old in self.client.services.list(filters={"label": [selector(DEPLOYMENT, record["id"]), RUN]}):
            if old.name == name or all(t["Status"]["State"] in ENDED for t in old.tasks()):
                _remove_service(old)  # left by a run cut short (its worker died), or an earlier attempt of this one
        run_labels = job_labels(record, run_id, name)
        delivery = secret_files.plan(self.ctx, record, environment)
        owner = swarm_secrets.secret_labels(self.ctx.settings.cluster, record["id"], run_id)
        attached = swarm_secrets.attach(self.client, owner, name, delivery.files)
        service = self.client.services.create(
            record["spec"]["image"],
            name=name,
            env=[f"{k}={v}" for k, v in delivery.env.items()],
            secrets=attached,
            labels=run_labels,
            container_labels=run_labels,
            networks=["host"],
            mode=ServiceMode("replicated-job", concurrency=1, replicas=1),
            restart_policy=RestartPolicy(condition="none"),
            **placement(record),
        )
        started = now()
        exit_code: int | None = None
        error: str | None = f"still running after {timeout:.0f}s: removed"
        output, node_id = b"", ""
        try:
            task = _ended_task(service, timeout)
            if task is not None:
                exit_code, error = _exit(task["Status"])
                node_id = task.get("NodeID", "")
                output = b"".join(service.logs(stdout=True, stderr=True, tail=OUTPUT_LIMIT // 16))
        finally:
            _remove_service(service)
            swarm_secrets.remove(self.client, self.ctx.settings.cluster, record["id"], run_id)
        nodes = {n.id: node_address(n.attrs) for n in self.client.nodes.list()} if node_id else {}
        return RunResult(
            exit_code, delivery.mask(output_tail(output)), started, now(), nodes.get(node_id, self.host), error
        )


def _retried(write) -> None:
    """Run an idempotent swarm write (it reads what exists first) again when the manager answered
    5xx: its raft store's "context deadline exceeded" on a loaded manager, or "update out of sequence"
    when a service changed between the read and the write."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return write()
        except APIError as exc:
            if attempt == ATTEMPTS or not exc.is_server_error():
                raise
            time.sleep(attempt)


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


def _ended_task(service, timeout: float) -> dict | None:
    """The service's task once it has ended, or None at `timeout`."""

    def ended() -> dict | None:
        tasks = [t for t in service.tasks() if t.get("Status", {}).get("State") in ENDED]
        return tasks[0] if tasks else None

    try:
        return wait(ended, timeout, 0.5, what=f"the task of {service.name} ended")
    except WaitTimeout:
        return None


def _exit(status: dict) -> tuple[int | None, str | None]:
    """(exit code, None) of an ended task, or (None, why) when its container never ran to an end."""
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    if status.get("State") == "complete":
        return int(code or 0), None  # the engine leaves a zero exit code out
    if status.get("State") == "failed" and code:
        return int(code), None
    return None, status.get("Err") or f"task {status.get('State')}"


def _remove_service(service) -> None:
    try:
        service.remove()
    except NotFound:
        pass
    except APIError as exc:
        if exc.status_code != 404:
            raise

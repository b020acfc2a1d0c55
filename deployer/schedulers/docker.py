"""`docker`: containers on one or several Docker hosts (TOTEM_DOCKER_HOSTS), host networking,
one port per instance reserved on its host (the PORT variable), restart policy `unless-stopped`
(removal is always explicit: stop, then remove).

New instances go to the hosts that answer a ping, spread by deployer/placement.py. Every operation
skips a host that does not answer (deployer/engine_pool.py) rather than waiting on it; `relocate`
gives the reconcile new places for the instances of a host that stopped answering.

A scheduled job's run (`run_once`) is one container on the least loaded answering host, with no
restart policy and no upstream label, waited for, its logs read, then removed.

Encrypted variables reach an instance as files on the host's tmpfs (deployer/secret_files.py),
removed with its container."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker
import requests
from docker.errors import APIError, ImageNotFound, NotFound
from docker.models.containers import Container

from deployer import log_buffer, placement, secret_files
from deployer.engine_pool import UNREACHABLE, HostDown
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
from totem.contracts.labels import APP, CLUSTER, DEPLOYMENT, NODE, RUN, selector

log = logging.getLogger("deployer.docker")
PARALLEL = 8  # containers created, started or stopped at once


class DockerScheduler(Scheduler):
    name = "docker"

    def __init__(self, ctx):
        self.ctx = ctx
        self.engines = ctx.engines

    def client(self, host: str) -> docker.DockerClient:
        return self.engines.client(host)

    # -- hosts -----------------------------------------------------------------
    def _up(self, hosts, fresh: bool = False) -> list[str]:
        up, down = self.engines.answering(sorted(hosts), fresh)
        if down:
            log.warning("skipping Docker hosts that do not answer: %s", ", ".join(down))
        return up

    def unavailable(self) -> list[str]:
        return [f"{host} (not answering)" for host in self.engines.answering(self.ctx.docker_hosts)[1]]

    # -- placement -------------------------------------------------------------
    def place(self, record: Record) -> dict[str, dict]:
        placed = dict(record.get("instances") or {})
        wanted = [f"{record['id']}-{n}" for n in range(1, record["spec"]["nodes"] + 1)]
        new = [node for node in wanted if node not in placed]
        if new:
            placed.update(self._spread(record, new, self.ctx.docker_hosts))
        return placed

    def relocate(self, record: Record) -> dict[str, dict]:
        hosts = {w["host"] for w in record["instances"].values()}
        _, down = self.engines.answering(sorted(hosts), fresh=True)  # never move on a stale answer
        stranded = sorted(n for n, w in record["instances"].items() if w["host"] in down)
        if not stranded:
            return {}
        try:
            return self._spread(record, stranded, [h for h in self.ctx.docker_hosts if h not in down])
        except HostDown as exc:
            log.warning("%s: nowhere to move %s: %s", record["id"], ", ".join(stranded), exc)
            return {}

    def _spread(self, record: Record, nodes: list[str], hosts) -> dict[str, dict]:
        # never give up on a remembered answer alone: ask again before failing
        loads = self._loads(hosts, record["app"]) or self._loads(hosts, record["app"], fresh=True)
        if not loads:
            raise HostDown(f"no Docker host answers: {', '.join(self.unavailable()) or 'none configured'}")
        picks = placement.spread(loads, len(nodes), rotate=record["sequence"])
        placed = {}
        for node, host in zip(nodes, picks, strict=True):
            where = address(host)
            placed[node] = {"host": host, "address": where, "port": self.ctx.ports.reserve(host, where, node)}
        return placed

    def _loads(self, hosts, app: str, fresh: bool = False) -> dict[str, placement.Load]:
        """What runs on each host that answers: the app's instances (this cluster's) and Totem's."""
        ours = (app, self.ctx.settings.cluster)
        loads = {}
        for host in self._up(hosts, fresh):
            with self.engines.reaching(host):
                running = self.client(host).containers.list(filters={"label": [NODE]})
                mine = sum(1 for c in running if (c.labels.get(APP), c.labels.get(CLUSTER)) == ours)
                loads[host] = placement.Load(app=mine, total=len(running))
        return loads

    # -- lifecycle -------------------------------------------------------------
    def _containers(self, host: str, deployment: str | None = None, app: str | None = None):
        filters = {"label": [selector(CLUSTER, self.ctx.settings.cluster)]}
        if deployment:
            filters["label"].append(selector(DEPLOYMENT, deployment))
        if app:
            filters["label"].append(selector(APP, app))
        return self.client(host).containers.list(all=True, filters=filters)

    def _each_placed(self, record: Record, work: Callable[[str, Container], None], parallel: bool = False) -> None:
        """`work(host, container)` for each of the deployment's containers on the host the record
        places it on (a stray copy elsewhere is left to the reconcile), answering hosts only;
        `parallel`: all at once (starting or stopping N containers takes about as long as one)."""
        nodes: dict[str, set[str]] = {}
        for node, where in record["instances"].items():
            nodes.setdefault(where["host"], set()).add(node)
        placed: list[tuple[str, Container]] = []
        for host in self._up(nodes):
            with self.engines.reaching(host):
                for container in self._containers(host, deployment=record["id"]):
                    if container.labels.get(NODE, container.name) in nodes[host]:
                        if not parallel:
                            work(host, container)
                        placed.append((host, container))
        if parallel:
            self._at_once([functools.partial(self._reaching, host, work, host, c) for host, c in placed])

    def _reaching(self, host: str, work: Callable, *args) -> None:
        with self.engines.reaching(host):
            work(*args)

    @staticmethod
    def _at_once(jobs: list[Callable[[], None]]) -> None:
        """Run `jobs` in threads (one alone inline); the first error raised is raised again."""
        if len(jobs) <= 1:
            for job in jobs:
                job()
            return
        with ThreadPoolExecutor(max_workers=min(len(jobs), PARALLEL), thread_name_prefix="docker") as pool:
            futures = [pool.submit(job) for job in jobs]
        for future in futures:
            future.result()

    def _ensure_image(self, client: docker.DockerClient, image: str) -> None:
        try:
            client.images.get(image)
        except ImageNotFound:
            log.info("pulling %s", image)
            client.images.pull(image)

    def deploy(self, record: Record, environment: dict[str, str]) -> None:
        up = set(self._up({w["host"] for w in record["instances"].values()}, fresh=True))
        delivery = secret_files.plan(self.ctx, record, environment)
        # a host that is down is skipped: the gate counts what runs; the reconcile moves it once the host is known dead
        self._at_once(
            [
                functools.partial(self._reaching, where["host"], self._create_on, record, node, where, delivery)
                for node, where in sorted(record["instances"].items())
                if where["host"] in up
            ]
        )

    def _create_on(self, record: Record, node: str, where: dict, delivery: secret_files.Delivery) -> None:
        self._create(self.client(where["host"]), record, node, where, delivery)

    def _create(
        self, client: docker.DockerClient, record: Record, node: str, where: dict, delivery: secret_files.Delivery
    ) -> None:
        try:
            client.containers.get(node)
            return  # created by an earlier attempt
        except NotFound:
            pass
        self._ensure_image(client, record["spec"]["image"])
        with secret_files.mounted(client, record["spec"]["image"], node, delivery.files) as mounts:
            client.containers.create(
                record["spec"]["image"],
                name=node,
                network_mode="host",
                labels=labels(record, node, where["port"]),
                environment={**delivery.env, "PORT": str(where["port"])},
                volumes=mounts,
                # back whenever the engine is (an app exits 0 on the SIGTERM of an engine restart); the
                # deployer's own stop marks it stopped, so a decommissioned instance never comes back
                restart_policy={"Name": "unless-stopped"},
                log_config=log_buffer.container_log_config(),  # the shipper's bounded buffer (docs/logging.md)
            )

    def start(self, record: Record) -> None:
        self._each_placed(record, lambda _host, c: c.start() if c.status != "running" else None, parallel=True)

    def status(self, record: Record) -> list[Instance]:
        found: list[Instance] = []
        self._each_placed(record, lambda host, c: found.append(_instance(c, host, record["id"])))
        return found

    def stop(self, record: Record) -> None:
        timeout = int(record["spec"].get("stop_timeout", 30))
        self._each_placed(
            record, lambda _host, c: c.stop(timeout=timeout) if c.status == "running" else None, parallel=True
        )

    def destroy(self, record: Record) -> None:
        """Every container of the deployment on the hosts that answer (one that does not keeps its
        containers until the reconcile finds them orphaned); every port reservation freed."""
        for host in self._up({w["host"] for w in record["instances"].values()} | set(self.ctx.docker_hosts)):
            with self.engines.reaching(host):
                for container in self._containers(host, deployment=record["id"]):
                    remove_instance(container)
        for node, where in record["instances"].items():
            self.ctx.ports.release(where["host"], where["port"], node)

    def remove_stray(self, record: Record, instance: Instance) -> bool:
        where = record["instances"].get(instance.node)
        if where is not None and where["host"] == instance.host:
            return False
        wanted = [selector(DEPLOYMENT, record["id"]), selector(NODE, instance.node)]
        with self.engines.reaching(instance.host):
            for container in self.client(instance.host).containers.list(all=True, filters={"label": wanted}):
                remove_instance(container)
        return True

    def instances(self, app: str) -> list[Instance]:
        found = []
        for host in self._up(self.ctx.docker_hosts):
            with self.engines.reaching(host):
                found += [
                    _instance(c, host)
                    for c in self._containers(host, app=app)
                    if c.labels.get(APP) == app and RUN not in c.labels
                ]
        return found

    # -- scheduled jobs ----------------------------------------------------------
    def prepare_job(self, record: Record) -> dict:
        """The image on every answering host (pulled when missing): a run may go to any of them."""
        hosts = self._up(self.ctx.docker_hosts, fresh=True)
        ready = []
        for host in hosts:
            with self.engines.reaching(host):
                self._ensure_image(self.client(host), record["spec"]["image"])
                ready.append(host)
        if not ready:
            raise HostDown(f"no Docker host answers: {', '.join(self.unavailable()) or 'none configured'}")
        return {"image": record["spec"]["image"], "hosts": ready}

    def run_once(self, record: Record, run_id: str, environment: dict[str, str], timeout: float) -> RunResult:
        loads = self._loads(self.ctx.docker_hosts, record["app"]) or self._loads(
            self.ctx.docker_hosts, record["app"], fresh=True
        )
        if not loads:
            raise HostDown(f"no Docker host answers: {', '.join(self.unavailable()) or 'none configured'}")
        host = placement.spread(loads, 1, rotate=record["sequence"])[0]
        name = run_name(record, run_id)
        delivery = secret_files.plan(self.ctx, record, environment)
        try:
            client = self.client(host)
            self._ensure_image(client, record["spec"]["image"])
            ours = {"label": [selector(DEPLOYMENT, record["id"]), RUN]}
            for old in client.containers.list(all=True, filters=ours):
                if old.name == name or old.status != "running":
                    remove_instance(old)  # left by a run cut short (its worker died), or an earlier attempt of this one
            with secret_files.mounted(client, record["spec"]["image"], name, delivery.files) as mounts:
                container = client.containers.create(
                    record["spec"]["image"],
                    name=name,
                    network_mode="host",
                    labels=job_labels(record, run_id, name),
                    environment=delivery.env,
                    volumes=mounts,
                    restart_policy={"Name": "no"},
                )
            started = now()
            try:
                container.start()
                exit_code, error = _wait(container, timeout)
                output = container.logs(stdout=True, stderr=True, tail=OUTPUT_LIMIT // 16)
            finally:
                remove_instance(container)
        except UNREACHABLE as exc:
            self.engines.failed(host, exc)
            raise HostDown(f"{host} stopped answering during run {run_id}") from None
        return RunResult(exit_code, delivery.mask(output_tail(output)), started, now(), host, error)


def _instance(container: Container, host: str, deployment: str | None = None) -> Instance:
    node = container.labels.get(NODE, container.name)
    running = container.status == "running"
    return Instance(node, deployment or container.labels.get(DEPLOYMENT, ""), running, host, address(host))


def _wait(container: Container, timeout: float) -> tuple[int | None, str | None]:
    """(exit code, None), or (None, why) when it was still running at `timeout` and was killed."""
    try:
        return int(container.wait(timeout=max(1, int(timeout)))["StatusCode"]), None
    except (requests.ReadTimeout, requests.ConnectionError):
        container.reload()  # an engine that stopped answering raises here
        if container.status not in ("running", "restarting", "created"):
            return int(container.attrs["State"]["ExitCode"]), None
    try:
        container.kill()
    except APIError:
        pass  # it ended meanwhile
    return None, f"still running after {timeout:.0f}s: killed"


def remove_instance(container) -> None:
    """The container gone, and its secret files with it."""
    secret_dir = secret_files.source_of(container.attrs)
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except APIError as exc:
        if exc.status_code != 409:  # 409: removal already in progress
            raise
    if secret_dir:
        secret_files.wipe(container.client, container.attrs.get("Image", ""), secret_dir)

"""Every Prometheus metric Totem exports, defined here once (docs/metrics.md), and how a process
shows them: `render()` for an API's `GET /metrics` (totem.api.service), `serve(bind)` for a process
without an HTTP API (Celery workers, yoda-discover).

Under gunicorn and in Celery workers the metrics are shared by the process's forks through
prometheus_client's multiprocess mode (totem.metrics_process sets its directory up); `registry()`
then reads every fork's figures. Every metric has labels, so no value exists before its first use:
whatever mode the process is in by then is the one it counts in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from totem.contracts.phases import deployer_phases

log = logging.getLogger("totem.metrics")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes

# -- the metrics -----------------------------------------------------------------------------------
HOOKS = Counter(
    "totem_hooks_received",
    "Hooks received, by service, hook type and outcome (accepted, ignored, error)",
    ["service", "type", "outcome"],
)
JOB_TRANSITIONS = Counter("totem_job_transitions", "Orchestrator jobs entering a state", ["state"])
BUILDS = Counter("totem_builds", "Image builds finished, by outcome (succeeded, failed)", ["outcome"])
BUILD_SECONDS = Histogram(
    "totem_build_duration_seconds",
    "Image build duration, checkout to builder hook, by outcome",
    ["outcome"],
    buckets=(5, 10, 30, 60, 120, 300, 600, 1200, 1800),
)
DEPLOYMENTS = Counter("totem_deployments", "Deployments ended, by outcome (promoted, failed)", ["outcome"])
PHASE_SECONDS = Histogram(
    "totem_deployment_phase_seconds",
    "Deployment phases (the dashboard timeline's deployer phases), by phase",
    ["phase"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
STORE_ERRORS = Counter("totem_store_errors", "etcd or Redis calls that failed (unreachable, refused)", ["store"])
DISCOVER_REGISTRATIONS = Counter(
    "totem_discover_registrations",
    "yoda-discover keys registered, deregistered or whose lease was lost",
    ["event"],
)

DEPLOYMENT_PHASES = deployer_phases()  # the dashboard timeline's: (phase, start event, end event)
_PHASE_ENDING = {end: (phase, start) for phase, start, end in DEPLOYMENT_PHASES}


def initialise() -> None:
    """Zeroes for the series every process has, so that a scrape shows them before anything
    happened. Called once the process counts in its final mode (after totem.metrics_process.begin)."""
    for store in ("etcd", "redis"):
        STORE_ERRORS.labels(store=store)


def hook_received(service: str, kind: str, outcome: str) -> None:
    HOOKS.labels(service=service, type=kind, outcome=outcome).inc()


def store_error(store: str) -> None:
    """`store` is "etcd" or "redis"."""
    STORE_ERRORS.labels(store=store).inc()


def build_finished(outcome: str, seconds: float | None = None) -> None:
    BUILDS.labels(outcome=outcome).inc()
    if seconds is not None:
        BUILD_SECONDS.labels(outcome=outcome).observe(seconds)


def deployment_event(events: Sequence[dict[str, Any]], event: str) -> None:
    """Observe the phase that `event` (just appended to `events`, a deployment's timeline) ends."""
    found = _PHASE_ENDING.get(event)
    if found is None:
        return
    phase, start = found
    began = next((e.get("date") for e in events if e.get("type") == start), None)
    ended = next((e.get("date") for e in reversed(events) if e.get("type") == event), None)
    try:
        seconds = (datetime.fromisoformat(str(ended)) - datetime.fromisoformat(str(began))).total_seconds()
    except (TypeError, ValueError):
        return
    PHASE_SECONDS.labels(phase=phase).observe(max(0.0, seconds))


# -- collected at scrape time ----------------------------------------------------------------------
class QueueDepth(Collector):
    """`totem_celery_queue_depth{queue}`: messages waiting in each Celery queue (Redis LLEN)."""

    NAME = "totem_celery_queue_depth"
    HELP = "Messages waiting in the Celery queue"

    def __init__(self, redis_url: str, queues: Iterable[str]):
        import redis

        self.queues = tuple(queues)
        self.client = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self.errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.NAME, self.HELP, labels=["queue"])]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["queue"])
        try:
            for queue in self.queues:
                family.add_metric([queue], float(self.client.llen(queue)))
        except self.errors as exc:
            store_error("redis")
            log.warning("queue depth unknown: %s", type(exc).__name__)
            return
        yield family


class JobsByState(Collector):
    """`totem_jobs{state}`: the orchestrator's kept jobs in each state, counted at scrape time by
    `count` (state → number)."""

    NAME = "totem_jobs"
    HELP = "Orchestrator jobs in each state (of those kept, TOTEM_JOB_TTL)"

    def __init__(self, count: Callable[[], dict[str, int]], errors: tuple[type[BaseException], ...]):
        self.count, self.errors = count, errors

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.NAME, self.HELP, labels=["state"])]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["state"])
        try:
            counts = self.count()
        except self.errors as exc:
            store_error("redis")
            log.warning("jobs by state unknown: %s", type(exc).__name__)
            return
        for state, number in sorted(counts.items()):
            family.add_metric([state], float(number))
        yield family


class _Global(Collector):
    """The process's own default registry (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry(*collectors: Collector) -> CollectorRegistry:
    """What this process shows: every fork's figures in multiprocess mode, else its own; plus `collectors`."""
    shown = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.MultiProcessCollector(shown)
    else:
        shown.register(_Global())
    for collector in collectors:
        shown.register(collector)
    return shown


def render(shown: CollectorRegistry) -> bytes:
    """The Prometheus text format of `shown`."""
    return generate_latest(shown)


def split_bind(bind: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port`) → (host, port); port 0 picks a free one."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{bind!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve(bind: str, shown: CollectorRegistry) -> tuple[Any, str]:
    """Serve `shown` at http://<bind>/metrics from a daemon thread; (the server, its `host:port`)."""
    host, port = split_bind(bind)
    server, _thread = start_http_server(port, host, shown)
    bound = server.server_address[1]
    return server, f"[{host}]:{bound}" if ":" in host else f"{host}:{bound}"

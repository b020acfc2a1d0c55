"""The Celery app factory: Redis broker and results, JSON only, late acks, one queue per service,
the process's logging set up by `totem.logs.bootstrap` when the worker starts, and its /metrics."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu import Queue

from totem import logs
from totem.settings import Settings

LONGEST_TASK_SECONDS = 1800  # a build or deployment never runs longer than this (hard limit)
LOGGING_RECEIVER = "totem.logs.bootstrap"
METRICS_RECEIVER = "totem.workers.metrics"
log = logging.getLogger("totem.workers")


class WorkerMetrics:
    """A worker's /metrics: its forks' figures (multiprocess mode, set up before the pool forks) and
    its queues' depth, served at the service's `MetricsSettings` bind and announced in etcd, both by a
    process of its own (totem.worker_metrics): the main process starts no thread before it forks."""

    def __init__(self, service: str):
        self.service = service
        self.directory: Path | None = None
        self.process: Any = None

    def start(self, sender: Any = None, **_kwargs: Any) -> None:
        from totem import metrics, metrics_process, service_registry
        from totem.settings import MetricsSettings, SettingsError

        try:
            bind = MetricsSettings.from_env().worker_bind(self.service)
        except SettingsError as exc:
            log.warning("no worker metrics: %s", exc)
            return
        if not bind:
            return
        self.directory = metrics_process.begin(f"{self.service}-worker")
        metrics.initialise()
        conf = sender.app.conf if sender is not None else None
        queues = [queue.name for queue in (conf.task_queues or ())] if conf is not None else [self.service]
        self.process = service_registry.started(["totem.worker_metrics", self.service, bind, *queues])

    def fork_exited(self, pid: int | None = None, **_kwargs: Any) -> None:
        from totem import metrics_process

        metrics_process.fork_exited(pid or os.getpid())

    def stop(self, **_kwargs: Any) -> None:
        from totem import metrics_process, service_registry

        if self.process is not None:
            service_registry.ended(self.process)
        if self.directory is not None:
            metrics_process.end(self.directory)


def make_celery(service: str, settings: Settings | None = None, longest_task: int = LONGEST_TASK_SECONDS) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery(service, broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=longest_task,
        task_soft_time_limit=longest_task - 30,
        # a message unacked for this long is redelivered: keep it above the longest task
        broker_transport_options={"visibility_timeout": longest_task * 2},
        result_backend_transport_options={"visibility_timeout": longest_task * 2},
        result_expires=24 * 3600,
        task_default_queue=service,
        task_queues=[Queue(service)],
        task_routes={f"{service}.*": {"queue": service}},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        enable_utc=True,
    )

    # a receiver tells Celery to leave the root logger to us; it fires only when a worker starts.
    # One per process: the app made last (the worker module's) sets the service name.
    def bootstrap_logging(**_kwargs) -> None:
        logs.bootstrap(service, settings)

    signals.setup_logging.disconnect(dispatch_uid=LOGGING_RECEIVER)
    signals.setup_logging.connect(bootstrap_logging, weak=False, dispatch_uid=LOGGING_RECEIVER)
    # metrics (docs/metrics.md), also only in a worker; one per process as well
    worker_metrics = WorkerMetrics(service)
    signals.worker_init.disconnect(dispatch_uid=METRICS_RECEIVER)
    signals.worker_init.connect(worker_metrics.start, weak=False, dispatch_uid=METRICS_RECEIVER)
    signals.worker_shutdown.disconnect(dispatch_uid=METRICS_RECEIVER)
    signals.worker_shutdown.connect(worker_metrics.stop, weak=False, dispatch_uid=METRICS_RECEIVER)
    signals.worker_process_shutdown.disconnect(dispatch_uid=METRICS_RECEIVER)
    signals.worker_process_shutdown.connect(worker_metrics.fork_exited, weak=False, dispatch_uid=METRICS_RECEIVER)

    @app.task(name=f"{service}.ping")
    def ping() -> str:
        return "pong"

    return app
